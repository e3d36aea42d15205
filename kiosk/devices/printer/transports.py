"""Ways to reach a printer, behind one interface (:class:`Transport`).

- :class:`UsbTransport`: pyusb (libusb). Finds the printer by VID:PID or by USB printer class 7,
  reads the bulk endpoints from the descriptor, detaches the kernel ``usblp`` driver if it holds
  the interface, and writes with a timeout.
- :class:`LpTransport`: the ``usblp`` character device ``/dev/usb/lp*``.
- :class:`TcpTransport`: raw TCP port 9100 (network printers).
- :class:`FileTransport`: a file (to keep the raw ESC/POS bytes).

python-escpos has printer classes for these, but they print escpos's own error messages, use no
write timeout on ``/dev/usb/lp``, and do not map "unplugged" to one error type; ours raise
:mod:`.errors` types so a job can report and retry.
"""
from __future__ import annotations

import errno
import os
import select
import socket
import time
from pathlib import Path

from .errors import (PrinterAccessDenied, PrinterDisconnected, PrinterError, PrinterNotFound,
                     PrinterTimeout)

USB_CLASS_PRINTER = 7
CHUNK = 4096


class Transport:
    """A byte pipe to one printer. Use as a context manager (opens, then closes).

    Attributes:
        kind: ``usb``, ``lp``, ``tcp``, ``file`` or ``simulator``.
        path: where it is (bus/address, device node, host:port, file name).
        vid_pid: ``"0416:5011"`` for USB printers, else ``""``.
    """

    kind = "?"
    path = ""
    vid_pid = ""

    def open(self) -> None:
        """Raises: PrinterNotFound, PrinterAccessDenied."""

    def close(self) -> None:
        """Release the device (never raises)."""

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        """Send all of ``data``.

        Raises:
            PrinterDisconnected: the printer went away. PrinterTimeout: it took nothing for ``timeout`` s.
        """
        raise NotImplementedError

    def read(self, size: int = 1, timeout: float = 1.0) -> bytes:
        """Up to ``size`` bytes the printer sent within ``timeout`` s; ``b""`` if none."""
        return b""

    def drain(self) -> None:
        """Throw away bytes the printer sent earlier (old status replies)."""
        for _ in range(64):
            if not self.read(64, 0.02):
                return

    def describe(self) -> str:
        return f"{self.kind}:{self.path}"

    def __enter__(self) -> "Transport":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _os_error(exc: OSError, what: str) -> PrinterError:
    """Map an OS/libusb errno to our error type."""
    no = getattr(exc, "errno", None) or getattr(exc, "backend_error_code", None)
    if no in (errno.ENODEV, errno.ENXIO, errno.EIO, errno.EPIPE, errno.ESHUTDOWN, -4):  # -4 LIBUSB_ERROR_NO_DEVICE
        return PrinterDisconnected(f"{what}: printer disconnected ({exc})")
    if no in (errno.EACCES, errno.EPERM, -3):  # -3 LIBUSB_ERROR_ACCESS
        return PrinterAccessDenied(f"{what}: permission denied ({exc}); install deploy/udev rules")
    if no in (errno.ETIMEDOUT, errno.EAGAIN, -7):  # -7 LIBUSB_ERROR_TIMEOUT
        return PrinterTimeout(f"{what}: printer took no data ({exc})")
    if no == errno.ENOENT:
        return PrinterNotFound(f"{what}: no such device ({exc})")
    return PrinterDisconnected(f"{what}: {exc}")


class UsbTransport(Transport):
    """A USB printer through pyusb.

    Args:
        vid_pid: ``"0416:5011"``; empty: the first device with a printer-class (7) interface.
        device: an already found ``usb.core.Device`` (discovery passes it).
    """

    kind = "usb"

    def __init__(self, vid_pid: str = "", device=None):
        self.vid_pid = vid_pid.lower()
        self._dev = device
        self._ep_out = self._ep_in = None
        self._intf = None
        self._detached = False

    @staticmethod
    def find_all(vid_pid: str = "") -> list:
        """USB devices matching ``vid_pid``, or with a printer-class interface. ``[]`` without libusb."""
        import usb.core

        def is_printer(dev) -> bool:
            if vid_pid:
                return f"{dev.idVendor:04x}:{dev.idProduct:04x}" == vid_pid.lower()
            try:
                return any(i.bInterfaceClass == USB_CLASS_PRINTER for cfg in dev for i in cfg)
            except usb.core.USBError:
                return False

        try:
            return list(usb.core.find(find_all=True, custom_match=is_printer) or [])
        except usb.core.NoBackendError:
            return []

    def open(self) -> None:
        import usb.core
        import usb.util

        if self._dev is None:
            found = self.find_all(self.vid_pid)
            if not found:
                raise PrinterNotFound(f"no USB printer {self.vid_pid or '(class 7)'} attached")
            self._dev = found[0]
        dev = self._dev
        self.vid_pid = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
        self.path = f"{dev.bus:03d}/{dev.address:03d}"
        try:
            cfg = dev.get_active_configuration()
        except usb.core.USBError:
            try:
                dev.set_configuration()
                cfg = dev.get_active_configuration()
            except usb.core.USBError as exc:
                raise _os_error(exc, "USB configure") from exc
        intf = usb.util.find_descriptor(cfg, bInterfaceClass=USB_CLASS_PRINTER) or cfg[(0, 0)]
        self._intf = intf.bInterfaceNumber
        try:
            if dev.is_kernel_driver_active(self._intf):  # usblp holds it
                dev.detach_kernel_driver(self._intf)
                self._detached = True
        except (usb.core.USBError, NotImplementedError) as exc:
            if getattr(exc, "errno", None) in (errno.EACCES, errno.EPERM):
                raise _os_error(exc, "USB detach usblp") from exc
        def bulk(direction):
            return usb.util.find_descriptor(
                intf, custom_match=lambda e: usb.util.endpoint_direction(e.bEndpointAddress) == direction
                and usb.util.endpoint_type(e.bmAttributes) == usb.util.ENDPOINT_TYPE_BULK)
        self._ep_out = bulk(usb.util.ENDPOINT_OUT)
        self._ep_in = bulk(usb.util.ENDPOINT_IN)
        if self._ep_out is None:
            raise PrinterNotFound(f"USB device {self.vid_pid} has no bulk OUT endpoint")

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        import usb.core

        for i in range(0, len(data), CHUNK):
            try:
                self._ep_out.write(data[i:i + CHUNK], timeout=int(timeout * 1000))
            except usb.core.USBTimeoutError as exc:
                raise PrinterTimeout(f"USB write timed out after {timeout} s") from exc
            except usb.core.USBError as exc:
                raise _os_error(exc, "USB write") from exc

    def read(self, size: int = 1, timeout: float = 1.0) -> bytes:
        import usb.core

        if self._ep_in is None:
            return b""
        try:
            return bytes(self._ep_in.read(max(size, self._ep_in.wMaxPacketSize),
                                          timeout=max(1, int(timeout * 1000))))[:size]
        except usb.core.USBTimeoutError:
            return b""
        except usb.core.USBError as exc:
            if getattr(exc, "errno", None) == errno.ETIMEDOUT:
                return b""
            raise _os_error(exc, "USB read") from exc

    def close(self) -> None:
        import usb.util

        if self._dev is None:
            return
        try:
            usb.util.dispose_resources(self._dev)
            if self._detached:
                self._dev.attach_kernel_driver(self._intf)  # give /dev/usb/lp* back
        except Exception:  # noqa: BLE001 - closing an unplugged device may fail; nothing to do
            pass
        self._detached = False


class LpTransport(Transport):
    """The kernel ``usblp`` device, e.g. ``/dev/usb/lp0``: non-blocking I/O with ``select`` timeouts."""

    kind = "lp"

    def __init__(self, path: str = "/dev/usb/lp0"):
        self.path = path
        self._fd: int | None = None

    @staticmethod
    def find_all() -> list[str]:
        return sorted(str(p) for p in Path("/dev/usb").glob("lp*"))

    def open(self) -> None:
        try:
            self._fd = os.open(self.path, os.O_RDWR | os.O_NONBLOCK)
        except OSError as exc:
            if exc.errno in (errno.ENOENT, errno.ENODEV, errno.ENXIO):
                raise PrinterNotFound(f"{self.path}: no printer ({exc.strerror})") from exc
            raise _os_error(exc, self.path) from exc

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        view = memoryview(data)
        deadline = time.monotonic() + timeout
        while view:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([], [self._fd], [], left)[1]:
                raise PrinterTimeout(f"{self.path}: write timed out after {timeout} s")
            try:
                n = os.write(self._fd, view[:CHUNK])
            except BlockingIOError:
                continue
            except OSError as exc:
                raise _os_error(exc, self.path) from exc
            view = view[n:]

    def read(self, size: int = 1, timeout: float = 1.0) -> bytes:
        try:
            if not select.select([self._fd], [], [], timeout)[0]:
                return b""
            return os.read(self._fd, size)
        except BlockingIOError:
            return b""
        except OSError as exc:
            raise _os_error(exc, self.path) from exc

    def close(self) -> None:
        if self._fd is not None:
            try:
                os.close(self._fd)
            except OSError:
                pass
            self._fd = None


class TcpTransport(Transport):
    """A network printer's raw port (JetDirect, 9100)."""

    kind = "tcp"

    def __init__(self, host: str, port: int = 9100, connect_timeout: float = 5.0):
        self.host, self.port = host, int(port)
        self.path = f"{host}:{self.port}"
        self._connect_timeout = connect_timeout
        self._sock: socket.socket | None = None

    def open(self) -> None:
        try:
            self._sock = socket.create_connection((self.host, self.port), timeout=self._connect_timeout)
        except (ConnectionRefusedError, socket.gaierror) as exc:
            raise PrinterNotFound(f"no printer at {self.path} ({exc})") from exc
        except TimeoutError as exc:
            raise PrinterTimeout(f"{self.path}: connect timed out") from exc
        except OSError as exc:
            raise _os_error(exc, self.path) from exc

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        self._sock.settimeout(timeout)
        try:
            self._sock.sendall(data)
        except TimeoutError as exc:
            raise PrinterTimeout(f"{self.path}: write timed out after {timeout} s") from exc
        except OSError as exc:
            raise PrinterDisconnected(f"{self.path}: connection lost ({exc})") from exc

    def read(self, size: int = 1, timeout: float = 1.0) -> bytes:
        self._sock.settimeout(timeout)
        try:
            data = self._sock.recv(size)
        except TimeoutError:
            return b""
        except OSError as exc:
            raise PrinterDisconnected(f"{self.path}: connection lost ({exc})") from exc
        if not data:
            raise PrinterDisconnected(f"{self.path}: printer closed the connection")
        return data

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


class FileTransport(Transport):
    """Writes the raw bytes to a file (truncated on open). Never answers status queries."""

    kind = "file"

    def __init__(self, path: str | os.PathLike):
        self.path = str(path)
        self._f = None

    def open(self) -> None:
        self._f = open(self.path, "wb")

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        self._f.write(data)

    def close(self) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None


def from_spec(spec: str) -> Transport:
    """A transport from a string: ``usb``, ``usb:0416:5011``, ``lp:/dev/usb/lp0``,
    ``tcp:HOST[:PORT]``, ``file:PATH``.

    Raises:
        ValueError: unknown form.
    """
    kind, _, rest = spec.partition(":")
    if kind == "usb":
        return UsbTransport(rest)
    if kind == "lp":
        return LpTransport(rest or "/dev/usb/lp0")
    if kind == "tcp":
        host, _, port = rest.rpartition(":") if rest.count(":") == 1 else (rest, "", "9100")
        return TcpTransport(host, int(port or 9100))
    if kind == "file":
        return FileTransport(rest)
    raise ValueError(f"unknown printer transport {spec!r}")
