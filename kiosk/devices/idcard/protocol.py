"""One conversation with a SAM-V reader over any transport: find → select → read, and the
presence probe used to tell a removed card from one that was already read.

Why our own code: see :mod:`kiosk.devices.idcard.frames`.

SW3 handling: 0x90/0x9F succeed; 0x80 → :class:`NoCard`; 0x81 → :class:`SelectFailed`;
0x40 → :class:`CardTypeRefused`; 0x10 (the reader saw a bad checksum) and a bad checksum in
the reply are retried once; everything else → :class:`ReaderStatusError`.
"""
from __future__ import annotations

import datetime as _dt
from typing import Protocol

from kiosk.devices.idcard import frames
from kiosk.devices.idcard.errors import (
    CardDataError,
    CardTypeRefused,
    ChecksumError,
    FrameError,
    NoCard,
    ReaderStatusError,
    SelectFailed,
)
from kiosk.devices.idcard.text import TEXT_LEN, IdCard, parse_text

#: Reply time-outs in seconds. Reading the text and photo takes the card ~0.5–1 s.
REPLY_TIMEOUT = 1.0
READ_TIMEOUT = 3.0


class Transport(Protocol):
    """Carries whole frames. Implementations: :mod:`kiosk.devices.idcard.transports`.

    ``receive`` returns one unchecked frame and raises :class:`ReaderTimeout` when none
    arrives in time; any I/O failure (unplugged, no permission) is :class:`ReaderUnavailable`.
    """

    description: str

    def send(self, frame: bytes) -> None: ...

    def receive(self, timeout: float) -> bytes: ...

    def reset(self) -> None: ...

    def close(self) -> None: ...


def text_from_read_reply(reply: frames.Reply) -> bytes:
    """The 256-byte text out of a ``30 01`` (or ``30 10``) reply's data.

    Data is ``text_len(2) photo_len(2) [fp_len(2)] text photo [fp]``; we tell the two layouts
    apart by the data length.

    Raises:
        FrameError: lengths do not add up.
    """
    d = reply.data
    if len(d) < 4:
        raise FrameError(f"read reply carries {len(d)} data bytes")
    tlen, plen = int.from_bytes(d[0:2], "big"), int.from_bytes(d[2:4], "big")
    if 4 + tlen + plen == len(d):
        start = 4
    elif len(d) >= 6 and 6 + tlen + plen + int.from_bytes(d[4:6], "big") == len(d):
        start = 6  # 30 10: a third length (fingerprint)
    else:
        raise FrameError("read reply lengths do not add up")
    if tlen != TEXT_LEN:
        raise FrameError(f"card text length is {tlen}, expected {TEXT_LEN}")
    return d[start:start + tlen]


def check_read_status(reply: frames.Reply) -> None:
    """Raise the error matching a failed reply's SW3 (no-op on success)."""
    sw = reply.sw3
    if sw in (frames.SW_OK, frames.SW_FOUND):
        return
    if sw == frames.SW_NO_CARD:
        raise NoCard(sw, "no card in the field")
    if sw == frames.SW_SELECT_FAILED:
        raise SelectFailed(sw)
    if sw == 0x40:
        err = CardTypeRefused("?", "其他类型的卡片")
        err.message = "the reader says this is not an ID card (SW3 0x40, unknown card type)"
        err.args = (err.message,)
        raise err
    if sw == 0x41:
        raise ReaderStatusError(sw, "reading the card failed (SW3 0x41): card moved or removed",
                                "读卡失败，请不要移动身份证，重新放卡")
    raise ReaderStatusError(sw)


class ReaderSession:
    """A reader behind one transport.

    Not thread-safe: use it from one thread (the :class:`CardWatcher` thread, or the CLI).
    """

    def __init__(self, transport: Transport, reply_timeout: float = REPLY_TIMEOUT,
                 read_timeout: float = READ_TIMEOUT):
        self.transport = transport
        self.reply_timeout = reply_timeout
        self.read_timeout = read_timeout

    @property
    def description(self) -> str:
        return self.transport.description

    def close(self) -> None:
        self.transport.close()

    def __enter__(self) -> "ReaderSession":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def transact(self, cmd: tuple[int, int], data: bytes = b"", timeout: float | None = None,
                 retries: int = 1) -> frames.Reply:
        """Send one command and return its checked reply (any SW3).

        Stale input is dropped first. A reply with a bad checksum, or SW3 0x10 (the reader
        got a bad checksum from us), is retried ``retries`` times.

        Raises:
            ReaderTimeout, ReaderUnavailable: from the transport.
            ChecksumError / FrameError: still bad after the retries.
        """
        request = frames.build_request(cmd, data)
        for attempt in range(retries + 1):
            self.transport.reset()
            self.transport.send(request)
            try:
                reply = frames.parse_reply(self.transport.receive(timeout or self.reply_timeout))
            except ChecksumError:
                if attempt < retries:
                    continue
                raise
            if reply.sw3 == 0x10 and attempt < retries:
                continue
            return reply
        raise AssertionError("unreachable")

    def sam_status(self) -> bool:
        """True when the SAM answers its status command with success."""
        return self.transact(frames.SAM_STATUS).sw3 == frames.SW_OK

    def find(self) -> bool:
        """``20 01``: True when a card answered (SW3 0x9F), False for no card (0x80).

        Note: a card that was just read usually does not answer until it left the field.
        """
        reply = self.transact(frames.FIND_CARD)
        if reply.sw3 == frames.SW_FOUND:
            return True
        if reply.sw3 == frames.SW_NO_CARD:
            return False
        check_read_status(reply)
        return True  # 0x90 from some readers

    def select(self) -> None:
        """``20 02``. Raises SelectFailed / NoCard / ReaderStatusError."""
        check_read_status(self.transact(frames.SELECT_CARD))

    def read_text(self) -> bytes:
        """``30 01``: the card's 256-byte text (the photo is dropped unread).

        Raises:
            ReaderStatusError (0x41: card moved or removed mid-read), NoCard, FrameError.
        """
        reply = self.transact(frames.READ_TEXT_PHOTO, timeout=self.read_timeout)
        check_read_status(reply)
        return text_from_read_reply(reply)

    def read_card(self, today: _dt.date | None = None) -> IdCard:
        """find → select → read → parse.

        Raises:
            NoCard: no (new) card in the field.
            SelectFailed, ReaderStatusError: the card moved, or the reader refused.
            CardTypeRefused: not a resident ID card.
            CardDataError: the text is not a valid resident card.
            ReaderTimeout, ReaderUnavailable, FrameError: reader or link trouble.
        """
        if not self.find():
            raise NoCard(frames.SW_NO_CARD, "no card in the field")
        self.select()
        return parse_text(self.read_text(), today=today)

    def probe_present(self) -> bool | None:
        """Is the card that was just read still in the field?

        Sends ``30 03`` (read appended address), which addresses the already selected card,
        the way the vendor SDK demos watch for removal (see docs/devices.md): 0x90 or 0x91
        (no appended address) → still there; 0x80/0x81/0x41/0x31 → gone. ``20 01`` cannot
        be used: it answers 0x80 both for a removed card and for a card already read.

        Returns:
            True / False, or None when this reader cannot tell (it rejects the command).
        """
        sw = self.transact(frames.READ_APPENDED_ADDRESS).sw3
        if sw in (frames.SW_OK, frames.SW_NO_ITEM):
            return True
        if sw in (frames.SW_NO_CARD, frames.SW_SELECT_FAILED, 0x41, 0x31, 0x33):
            return False
        return None


def parse_captured_reply(data: bytes, today: _dt.date | None = None) -> IdCard:
    """Parse a captured ``30 01`` reply (raw bytes; garbage around the frame is skipped).

    Raises:
        FrameError / ChecksumError: no valid frame.
        ReaderStatusError / NoCard / CardTypeRefused: the captured reply is a failure.
        CardDataError: the text is not a valid resident card.
    """
    reply = frames.find_reply(data)
    check_read_status(reply)
    if not reply.data:
        raise CardDataError("the captured reply carries no card data (not a 30 01 reply)")
    return parse_text(text_from_read_reply(reply), today=today)
