"""Frame transports for SAM-V readers: serial (pyserial) and USB (pyusb, two layouts).

* :class:`SerialTransport` — a byte stream (115200 8N1, usually behind a CH340/CP210x/PL2303
  bridge). Frames are cut out of the stream with :class:`FrameBuffer`, which resynchronises
  on the preamble after garbage bytes.
* :class:`NativeUsbTransport` — the native SAM USB layout: preamble+LEN on bulk OUT 0x02 and
  CMD..CHK on 0x06; replies come as preamble+LEN on IN 0x81 and SW1..CHK on IN 0x85.
* :class:`ChunkedUsbTransport` — one vendor bulk/interrupt IN+OUT pair carrying whole frames in
  64-byte chunks (e.g. 0400:C35A, 0316:5020).

Each takes an already opened object (a pyserial ``Serial`` or a pyusb ``Device``) so the
simulator's look-alikes can stand in for hardware in tests. I/O failures become
:class:`ReaderUnavailable`, time-outs :class:`ReaderTimeout`.
"""
from __future__ import annotations

import errno
import time
from typing import Any

from kiosk.devices.idcard.errors import FrameError, ReaderTimeout, ReaderUnavailable
from kiosk.devices.idcard.frames import HEADER_LEN, FrameBuffer, frame_length

BAUDRATE = 115200
CHUNK = 64
#: Native SAM USB endpoints (GA/T 467).
NATIVE_ENDPOINTS = {"out_head": 0x02, "out_body": 0x06, "in_head": 0x81, "in_body": 0x85}


def _unavailable(what: str, exc: BaseException, zh: str = "身份证读卡器已断开，请联系工作人员") -> ReaderUnavailable:
    return ReaderUnavailable(f"ID-card reader {what}: {exc}", zh)


_NOT_CONNECTED = "未连接身份证读卡器，请联系工作人员"


class SerialTransport:
    """Frames over a pyserial-like port (``read(n)``, ``write(b)``, ``timeout``,
    ``reset_input_buffer()``, ``close()``)."""

    def __init__(self, port: Any, description: str = "serial"):
        self.port = port
        self.description = description
        self._buf = FrameBuffer()

    def _io(self, fn, *args):
        try:
            return fn(*args)
        except (OSError, ValueError) as exc:  # SerialException is an OSError; ValueError: closed port
            raise _unavailable(f"on {self.description} failed", exc) from exc

    def send(self, frame: bytes) -> None:
        self._io(self.port.write, frame)

    def reset(self) -> None:
        self._buf = FrameBuffer()
        self._io(self.port.reset_input_buffer)

    def receive(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._buf.pop_frame()
            if frame is not None:
                return frame
            left = deadline - time.monotonic()
            if left <= 0:
                raise ReaderTimeout(f"no whole reply from {self.description} within {timeout:.1f} s")
            self.port.timeout = left
            self._buf.feed(self._io(self.port.read, max(1, self._buf.needed())))

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:  # noqa: BLE001 - closing a vanished port must not raise
            pass


def open_serial(url: str, timeout: float = 1.0) -> SerialTransport:
    """Open a serial reader at 115200 8N1 (``/dev/ttyUSB0`` or any pyserial URL).

    Raises:
        ReaderUnavailable: missing, busy or not permitted (udev rules: deploy/udev/).
    """
    import serial

    try:
        kwargs = {"exclusive": True} if url.startswith("/dev/") else {}
        port = serial.serial_for_url(url, baudrate=BAUDRATE, bytesize=8, parity="N",
                                     stopbits=1, timeout=timeout, write_timeout=timeout, **kwargs)
    except (OSError, ValueError) as exc:
        raise _unavailable(f"at {url} cannot be opened", exc, _NOT_CONNECTED) from exc
    return SerialTransport(port, description=f"serial {url}")


class _UsbBase:
    def __init__(self, dev: Any, description: str):
        self.dev = dev
        self.description = description

    def _write(self, ep: int, data: bytes, timeout: float) -> None:
        import usb.core

        try:
            n = self.dev.write(ep, data, int(timeout * 1000))
        except usb.core.USBTimeoutError as exc:
            raise ReaderTimeout(f"writing to {self.description} timed out") from exc
        except (usb.core.USBError, OSError, ValueError) as exc:
            raise _unavailable(f"on {self.description} failed", exc) from exc
        if n != len(data):
            raise _unavailable(f"on {self.description} wrote {n} of {len(data)} bytes",
                               OSError(errno.EIO, "short write"))

    def _read(self, ep: int, size: int, deadline: float) -> bytes:
        import usb.core

        left = deadline - time.monotonic()
        if left <= 0:
            raise ReaderTimeout(f"no whole reply from {self.description}")
        try:
            return bytes(self.dev.read(ep, size, max(1, int(left * 1000))))
        except usb.core.USBTimeoutError as exc:
            raise ReaderTimeout(f"no whole reply from {self.description}") from exc
        except (usb.core.USBError, OSError, ValueError) as exc:
            raise _unavailable(f"on {self.description} failed", exc) from exc

    def close(self) -> None:
        try:
            import usb.util

            usb.util.dispose_resources(self.dev)
        except Exception:  # noqa: BLE001 - the device may be gone already
            pass


class NativeUsbTransport(_UsbBase):
    """The native SAM USB layout: header and body on separate endpoints (see module doc)."""

    def __init__(self, dev: Any, description: str = "usb (native SAM)", endpoints: dict | None = None):
        super().__init__(dev, description)
        self.ep = dict(NATIVE_ENDPOINTS, **(endpoints or {}))
        self._timeout = 1.0

    def send(self, frame: bytes) -> None:
        self._write(self.ep["out_head"], frame[:HEADER_LEN], self._timeout)
        self._write(self.ep["out_body"], frame[HEADER_LEN:], self._timeout)

    def reset(self) -> None:
        pass  # packets, not a stream: nothing stale to drop between transactions

    def receive(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        head = self._read(self.ep["in_head"], CHUNK, deadline)
        total = frame_length(head[:HEADER_LEN])  # FrameError if it is not a header
        if len(head) != HEADER_LEN:
            raise FrameError(f"native header packet has {len(head)} bytes, expected {HEADER_LEN}")
        body = b""
        while len(body) < total - HEADER_LEN:
            body += self._read(self.ep["in_body"], total - HEADER_LEN - len(body), deadline)
        if len(body) != total - HEADER_LEN:
            raise FrameError("native body is longer than its header says")
        return head + body


class ChunkedUsbTransport(_UsbBase):
    """One IN and one OUT endpoint carrying whole frames in 64-byte chunks."""

    def __init__(self, dev: Any, ep_out: int, ep_in: int, description: str = "usb (vendor bulk)"):
        super().__init__(dev, description)
        self.ep_out, self.ep_in = ep_out, ep_in
        self._buf = FrameBuffer()

    def send(self, frame: bytes) -> None:
        for i in range(0, len(frame), CHUNK):
            self._write(self.ep_out, frame[i:i + CHUNK], 1.0)

    def reset(self) -> None:
        self._buf = FrameBuffer()

    def receive(self, timeout: float) -> bytes:
        deadline = time.monotonic() + timeout
        while True:
            frame = self._buf.pop_frame()
            if frame is not None:
                return frame
            self._buf.feed(self._read(self.ep_in, CHUNK, deadline))


def open_usb(vid: int, pid: int, layout: str = "chunked") -> NativeUsbTransport | ChunkedUsbTransport:
    """Open a USB reader by VID:PID. ``layout``: ``"native"`` or ``"chunked"``.

    The chunked layout's endpoints are taken from the first vendor interface's descriptor
    rather than assumed.

    Raises:
        ReaderUnavailable: not found, no permission (see deploy/udev/), or no endpoints.
    """
    import usb.core
    import usb.util

    desc = f"usb {vid:04x}:{pid:04x} ({layout})"
    try:
        dev = usb.core.find(idVendor=vid, idProduct=pid)
        if dev is None:
            raise ReaderUnavailable(f"no ID-card reader {vid:04x}:{pid:04x} on USB")
        cfg = dev.get_active_configuration() if _configured(dev) else None
        if cfg is None:
            dev.set_configuration()
            cfg = dev.get_active_configuration()
        intf = cfg[(0, 0)]
        if dev.is_kernel_driver_active(intf.bInterfaceNumber):
            dev.detach_kernel_driver(intf.bInterfaceNumber)
        if layout == "native":
            return NativeUsbTransport(dev, desc)
        ep_out = usb.util.find_descriptor(intf, custom_match=lambda e: usb.util.endpoint_direction(
            e.bEndpointAddress) == usb.util.ENDPOINT_OUT)
        ep_in = usb.util.find_descriptor(intf, custom_match=lambda e: usb.util.endpoint_direction(
            e.bEndpointAddress) == usb.util.ENDPOINT_IN)
        if ep_out is None or ep_in is None:
            raise ReaderUnavailable(f"{desc} has no IN/OUT endpoint pair")
        return ChunkedUsbTransport(dev, ep_out.bEndpointAddress, ep_in.bEndpointAddress, desc)
    except (usb.core.USBError, usb.core.NoBackendError, NotImplementedError, OSError) as exc:
        raise _unavailable(f"{desc} cannot be opened", exc, _NOT_CONNECTED) from exc


def _configured(dev: Any) -> bool:
    import usb.core

    try:
        dev.get_active_configuration()
        return True
    except usb.core.USBError:
        return False
