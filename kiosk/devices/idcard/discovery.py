"""Find ID-card readers and open one from a short spec string.

Specs: ``sim`` / ``sim:serial`` / ``sim:usb-native`` / ``sim:usb-chunked`` (simulator),
``serial:/dev/ttyUSB0`` (or any ``/dev/tty*`` path or pyserial URL), ``usb:VID:PID``
(vendor bulk pair, 64-byte chunks), ``usb-native:VID:PID`` (native SAM endpoints), and
``auto``: ``$KIOSK_IDCARD_READER`` if set, else the first reader :func:`discover` finds.
"""
from __future__ import annotations

import os

from kiosk.devices.idcard.errors import ReaderUnavailable
from kiosk.devices.idcard.protocol import ReaderSession

#: USB readers with one vendor IN/OUT pair (64-byte chunks), from vendor notes.
KNOWN_USB = {(0x0400, 0xC35A): "ID-card reader (vendor bulk)", (0x0316, 0x5020): "ID-card reader (vendor bulk)"}
#: USB-serial bridges readers sit behind; any of them may be a reader (or something else).
SERIAL_BRIDGES = {(0x1A86, 0x7523): "CH340", (0x10C4, 0xEA60): "CP210x", (0x067B, 0x2303): "PL2303"}


def _vid_pid(text: str) -> tuple[int, int]:
    try:
        vid, pid = text.split(":")
        return int(vid, 16), int(pid, 16)
    except ValueError:
        raise ReaderUnavailable(f"bad USB id {text!r}: expected VID:PID in hex, e.g. 0400:c35a",
                                "读卡器设置有误，请联系工作人员") from None


def open_reader(spec: str = "auto", simulator=None, timeout: float | None = None) -> ReaderSession:
    """Open a reader session for ``spec`` (see module doc).

    ``simulator``: a :class:`SimulatedReader` to use for ``sim*`` specs (a new one with the
    demo cards and no card placed otherwise).

    Raises:
        ReaderUnavailable: nothing found, or it cannot be opened.
    """
    from kiosk.devices.idcard import transports

    kw = {"reply_timeout": timeout} if timeout else {}
    if spec == "auto":
        spec = os.environ.get("KIOSK_IDCARD_READER", "")
        if not spec:
            found = [r for r in discover() if r["status"] in ("found", "candidate")]
            if not found:
                raise ReaderUnavailable("no ID-card reader found (USB or serial)")
            spec = found[0]["spec"]
    if spec.startswith("sim"):
        from kiosk.devices.idcard.simulator import SimSerialPort, SimulatedReader, SimUsbDevice

        sim = simulator if simulator is not None else SimulatedReader()
        if not sim.plugged:  # like a real port or USB device that is not there
            raise ReaderUnavailable("simulated reader is unplugged")
        kind = spec.partition(":")[2] or "serial"
        if kind == "serial":
            t = transports.SerialTransport(SimSerialPort(sim), "simulated serial reader")
        elif kind == "usb-native":
            t = transports.NativeUsbTransport(SimUsbDevice(sim, "native"), "simulated USB reader (native SAM)")
        elif kind == "usb-chunked":
            t = transports.ChunkedUsbTransport(SimUsbDevice(sim, "chunked"), 0x01, 0x82,
                                               "simulated USB reader (vendor bulk)")
        else:
            raise ReaderUnavailable(f"unknown simulated transport {kind!r}")
        return ReaderSession(t, **kw)
    if spec.startswith("usb-native:"):
        return ReaderSession(transports.open_usb(*_vid_pid(spec[11:]), layout="native"), **kw)
    if spec.startswith("usb:"):
        return ReaderSession(transports.open_usb(*_vid_pid(spec[4:]), layout="chunked"), **kw)
    if spec.startswith("serial:"):
        spec = spec[7:]
    return ReaderSession(transports.open_serial(spec), **kw)


def discover() -> list[dict]:
    """Readers attached now, without talking to them.

    Returns dicts with keys ``kind`` (``"idcard"``), ``name``, ``transport`` (``"usb"`` /
    ``"serial"``), ``path`` (device node), ``vid_pid`` (``"0400:c35a"``), ``status``
    (``"found"``; ``"candidate"`` for a USB-serial bridge that may be a reader;
    ``"no-permission"``: install deploy/udev/61-cunwu-kiosk-idcard.rules) and ``spec``
    (for :func:`open_reader`). Never raises: a missing backend just lists nothing.
    """
    out: list[dict] = []
    try:
        import usb.core

        for dev in usb.core.find(find_all=True):
            key = (dev.idVendor, dev.idProduct)
            if key not in KNOWN_USB:
                continue
            path = f"/dev/bus/usb/{dev.bus:03d}/{dev.address:03d}"
            ok = os.access(path, os.R_OK | os.W_OK)
            out.append({"kind": "idcard", "name": KNOWN_USB[key], "transport": "usb", "path": path,
                        "vid_pid": f"{key[0]:04x}:{key[1]:04x}",
                        "status": "found" if ok else "no-permission",
                        "spec": f"usb:{key[0]:04x}:{key[1]:04x}"})
    except Exception:  # noqa: BLE001 - no libusb backend, no /dev/bus/usb: nothing to list
        pass
    try:
        from serial.tools import list_ports

        for port in list_ports.comports():
            key = (port.vid, port.pid)
            if key not in SERIAL_BRIDGES:
                continue
            ok = os.access(port.device, os.R_OK | os.W_OK)
            out.append({"kind": "idcard", "name": f"serial reader? ({SERIAL_BRIDGES[key]} bridge)",
                        "transport": "serial", "path": port.device,
                        "vid_pid": f"{key[0]:04x}:{key[1]:04x}",
                        "status": "candidate" if ok else "no-permission",
                        "spec": f"serial:{port.device}"})
    except Exception:  # noqa: BLE001
        pass
    return out
