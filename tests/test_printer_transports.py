"""Transports: file, TCP 9100 (loopback), usblp-like device node (a pty), USB error mapping."""
import errno
import os
import socket
import threading

import pytest

from kiosk.devices.printer import discovery
from kiosk.devices.printer.errors import (PrinterAccessDenied, PrinterDisconnected, PrinterNotFound,
                                          PrinterTimeout)
from kiosk.devices.printer.status import query_status
from kiosk.devices.printer.transports import (FileTransport, LpTransport, TcpTransport, UsbTransport,
                                              from_spec)


def test_file_transport_writes_bytes_and_never_answers(tmp_path):
    p = tmp_path / "out.bin"
    with FileTransport(p) as t:
        t.write(b"\x1b@abc")
        assert t.read(1, 0.01) == b""
        assert not query_status(t, 0.01).known
    assert p.read_bytes() == b"\x1b@abc" + bytes.fromhex("100401")


def test_tcp_transport_round_trip():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    got = bytearray()

    def serve():
        conn, _ = srv.accept()
        with conn:
            while True:
                data = conn.recv(4096)
                if not data:
                    return
                got.extend(data)
                if data.endswith(b"\x10\x04\x04"):
                    conn.sendall(b"\x12")

    th = threading.Thread(target=serve, daemon=True)
    th.start()
    with TcpTransport("127.0.0.1", srv.getsockname()[1]) as t:
        t.write(b"\x1b@hello")
        t.write(b"\x10\x04\x04")
        assert t.read(1, 2.0) == b"\x12"
    th.join(2)
    srv.close()
    assert bytes(got) == b"\x1b@hello\x10\x04\x04"


def test_tcp_refused_is_not_found():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    with pytest.raises(PrinterNotFound):
        TcpTransport("127.0.0.1", port, connect_timeout=1).open()


def test_lp_transport_on_a_pty():
    master, slave = os.openpty()
    import tty

    tty.setraw(slave)
    path = os.ttyname(slave)
    with LpTransport(path) as t:
        t.write(b"\x1b@\x1c&\xd6\xd0\x1c.\n")
        assert os.read(master, 100) == b"\x1b@\x1c&\xd6\xd0\x1c.\n"
        assert t.read(1, 0.05) == b""
        os.write(master, b"\x12")
        assert t.read(1, 1.0) == b"\x12"
    os.close(master)
    os.close(slave)


def test_lp_missing_node_is_not_found(tmp_path):
    with pytest.raises(PrinterNotFound):
        LpTransport(str(tmp_path / "lp9")).open()


class _Ep:
    wMaxPacketSize = 64

    def __init__(self, exc):
        self.exc = exc

    def write(self, data, timeout):
        raise self.exc

    def read(self, size, timeout):
        raise self.exc


@pytest.mark.parametrize("exc,err", [
    (lambda usb: usb.core.USBTimeoutError("timeout", errno.ETIMEDOUT, -7), PrinterTimeout),
    (lambda usb: usb.core.USBError("No such device", errno.ENODEV, -4), PrinterDisconnected),
    (lambda usb: usb.core.USBError("Access denied", errno.EACCES, -3), PrinterAccessDenied),
])
def test_usb_write_errors_map_to_printer_errors(exc, err):
    import usb.core

    t = UsbTransport("0416:5011")
    t._ep_out = _Ep(exc(usb))
    with pytest.raises(err):
        t.write(b"x", timeout=0.1)


def test_usb_read_timeout_is_no_reply():
    import usb.core

    t = UsbTransport()
    t._ep_in = _Ep(usb.core.USBTimeoutError("timeout", errno.ETIMEDOUT, -7))
    assert t.read(1, 0.01) == b""


def test_from_spec():
    assert isinstance(from_spec("usb:0416:5011"), UsbTransport) and from_spec("usb:0416:5011").vid_pid == "0416:5011"
    t = from_spec("tcp:10.0.0.5")
    assert (t.host, t.port) == ("10.0.0.5", 9100)
    assert from_spec("tcp:printer:9101").port == 9101
    assert from_spec("lp:/dev/usb/lp1").path == "/dev/usb/lp1"
    with pytest.raises(ValueError):
        from_spec("bluetooth:x")


def test_discover_with_nothing_attached(monkeypatch):
    monkeypatch.setattr(UsbTransport, "find_all", staticmethod(lambda vid_pid="": []))
    monkeypatch.setattr(LpTransport, "find_all", staticmethod(lambda: []))
    assert discovery.discover() == []
    with pytest.raises(PrinterNotFound):
        discovery.open_default()


def test_discover_lists_lp_node_with_status(monkeypatch, tmp_path):
    master, slave = os.openpty()
    path = os.ttyname(slave)
    monkeypatch.setattr(UsbTransport, "find_all", staticmethod(lambda vid_pid="": []))
    monkeypatch.setattr(LpTransport, "find_all", staticmethod(lambda: [path]))
    found = discovery.discover(timeout=0.05)
    assert found == [{"kind": "printer", "name": f"usblp {path}", "transport": "lp", "path": path,
                      "vid_pid": "", "profile": "", "status": "unknown (no status reply)"}]
    os.close(master)
    os.close(slave)
