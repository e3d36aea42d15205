"""SAM-V frames: build requests, check replies, resynchronise a byte stream on the preamble.

Why our own code: no maintained Python library speaks this protocol; the vendor SDKs
(``sdtapi.dll``, ``libtermb.so``) are closed binaries. Layout (GA/T 467-2019; docs/devices.md,
"The SAM-V frame protocol")::

    host -> reader:  AA AA AA 96 69 | LEN_HI LEN_LO | CMD PARA [DATA] | CHK
    reader -> host:  AA AA AA 96 69 | LEN_HI LEN_LO | SW1 SW2 SW3 [DATA] | CHK

LEN counts every byte after the two length bytes up to and including CHK (big-endian);
CHK is the XOR of LEN_HI … last data byte (the preamble is not included).

Every function here raises only :class:`FrameError` / :class:`ChecksumError`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import reduce

from kiosk.devices.idcard.errors import ChecksumError, FrameError

PREAMBLE = b"\xAA\xAA\xAA\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2  # preamble + LEN
#: Longest reply we accept: text+photo+fingerprint is 2321 bytes; leave room, refuse junk.
MAX_LEN = 4096

# Commands (CMD, PARA).
RESET_SAM = (0x10, 0xFF)
SAM_STATUS = (0x11, 0xFF)
SAM_ID = (0x12, 0xFF)
FIND_CARD = (0x20, 0x01)
SELECT_CARD = (0x20, 0x02)
READ_TEXT_PHOTO = (0x30, 0x01)
READ_APPENDED_ADDRESS = (0x30, 0x03)
READ_TEXT_PHOTO_FP = (0x30, 0x10)

# SW3 status codes.
SW_OK = 0x90
SW_FOUND = 0x9F
SW_NO_ITEM = 0x91
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81

STATUS = {
    0x90: "success",
    0x9F: "card found",
    0x91: "the item is not on the card",
    0x10: "checksum error",
    0x11: "length error",
    0x21: "command error",
    0x23: "operation not allowed",
    0x24: "unknown error",
    0x31: "card authentication failed",
    0x32: "SAM authentication failed",
    0x33: "information authentication failed",
    0x40: "unknown card type",
    0x41: "read failed",
    0x47: "random-number failure",
    0x60: "SAM self-test failed",
    0x66: "SAM not authorised",
    0x80: "no card found",
    0x81: "select failed",
}


def status_text(sw3: int) -> str:
    """English meaning of an SW3 status byte (``"unknown status"`` for others)."""
    return STATUS.get(sw3, "unknown status")


def xor(data: bytes) -> int:
    """XOR of all bytes (0 for empty)."""
    return reduce(lambda a, b: a ^ b, data, 0)


def build_frame(body: bytes) -> bytes:
    """Frame ``body`` (CMD PARA DATA, or SW1 SW2 SW3 DATA): preamble, LEN, body, CHK."""
    n = len(body) + 1
    if n > 0xFFFF:
        raise FrameError(f"frame body too long: {len(body)} bytes")
    head = n.to_bytes(2, "big")
    return PREAMBLE + head + body + bytes([xor(head + body)])


def build_request(cmd: tuple[int, int], data: bytes = b"") -> bytes:
    """Request frame for a command such as :data:`FIND_CARD`.

    ``build_request(FIND_CARD) == bytes.fromhex("AAAAAA9669 0003 2001 22")``.
    """
    return build_frame(bytes(cmd) + data)


@dataclass(frozen=True)
class Reply:
    """A checked reply: status bytes and data."""

    sw1: int
    sw2: int
    sw3: int
    data: bytes

    @property
    def ok(self) -> bool:
        return self.sw3 in (SW_OK, SW_FOUND)


def frame_length(header: bytes) -> int:
    """Total frame size given its first 7 bytes (preamble + LEN).

    Raises:
        FrameError: no preamble, or LEN outside 1..MAX_LEN.
    """
    if len(header) < HEADER_LEN or header[:5] != PREAMBLE:
        raise FrameError("frame does not start with the preamble AA AA AA 96 69")
    n = int.from_bytes(header[5:7], "big")
    if not 1 <= n <= MAX_LEN:
        raise FrameError(f"frame length {n} out of range")
    return HEADER_LEN + n


def check_frame(frame: bytes) -> bytes:
    """Check preamble, length and XOR; return the body (between LEN and CHK).

    Raises:
        FrameError: wrong preamble or length.
        ChecksumError: XOR mismatch.
    """
    frame = bytes(frame)
    total = frame_length(frame[:HEADER_LEN])
    if len(frame) != total:
        raise FrameError(f"frame is {len(frame)} bytes, its length field says {total}")
    if xor(frame[5:-1]) != frame[-1]:
        raise ChecksumError(f"checksum mismatch: got 0x{frame[-1]:02X}, computed 0x{xor(frame[5:-1]):02X}")
    return frame[HEADER_LEN:-1]


def parse_reply(frame: bytes) -> Reply:
    """Check a reply frame and split it into SW1 SW2 SW3 and data.

    Raises:
        FrameError / ChecksumError: see :func:`check_frame`; also a body shorter than SW1..SW3.
    """
    body = check_frame(frame)
    if len(body) < 3:
        raise FrameError(f"reply body has {len(body)} bytes, fewer than SW1 SW2 SW3")
    return Reply(body[0], body[1], body[2], body[3:])


class FrameBuffer:
    """Accumulates bytes from a stream and cuts whole frames out of it.

    Garbage before a preamble is dropped (counted in :attr:`discarded`). A header with an
    impossible length is treated as garbage too: we skip one byte and search again, so one
    corrupted byte cannot wedge the stream. Checksums are checked by :func:`parse_reply`.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.discarded = 0

    def feed(self, data: bytes) -> None:
        self._buf += data

    def clear(self) -> None:
        self.discarded += len(self._buf)
        self._buf.clear()

    def __len__(self) -> int:
        return len(self._buf)

    def needed(self) -> int:
        """Bytes still missing for the frame at the head of the buffer (≥ 1 while incomplete)."""
        self._resync()
        if len(self._buf) < HEADER_LEN:
            return HEADER_LEN - len(self._buf)
        return max(0, frame_length(bytes(self._buf[:HEADER_LEN])) - len(self._buf))

    def _resync(self) -> None:
        while True:
            i = self._buf.find(PREAMBLE)
            if i < 0:
                # keep a tail that could be the start of a preamble
                keep = 0
                for k in range(min(len(PREAMBLE) - 1, len(self._buf)), 0, -1):
                    if self._buf.endswith(PREAMBLE[:k]):
                        keep = k
                        break
                drop = len(self._buf) - keep
                self.discarded += drop
                del self._buf[:drop]
                return
            if i:
                self.discarded += i
                del self._buf[:i]
            if len(self._buf) < HEADER_LEN:
                return
            n = int.from_bytes(self._buf[5:7], "big")
            if 1 <= n <= MAX_LEN:
                return
            self.discarded += 1  # impossible length: this preamble was noise
            del self._buf[:1]

    def pop_frame(self) -> bytes | None:
        """The next whole frame (unchecked), or None while incomplete."""
        self._resync()
        if len(self._buf) < HEADER_LEN:
            return None
        total = frame_length(bytes(self._buf[:HEADER_LEN]))
        if len(self._buf) < total:
            return None
        frame = bytes(self._buf[:total])
        del self._buf[:total]
        return frame


def find_reply(data: bytes) -> Reply:
    """The first valid reply frame anywhere in ``data`` (garbage around it is ignored).

    Used for captured replies (``kiosk read-card --replay``).

    Raises:
        FrameError: no whole frame in ``data``.
        ChecksumError: the first whole frame has a bad checksum.
    """
    buf = FrameBuffer()
    buf.feed(bytes(data))
    frame = buf.pop_frame()
    if frame is None:
        raise FrameError("no complete reader frame in the data")
    return parse_reply(frame)
