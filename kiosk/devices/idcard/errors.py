"""Errors of the ID-card reader package. Each carries an English line and a Chinese line.

Every failure the reader, a transport or the parser can produce is one of these; the
frame parser raises nothing else, whatever bytes arrive (see tests/test_idcard_frames.py).
"""
from __future__ import annotations

from kiosk.errors import Exit, KioskError


class IdCardError(KioskError):
    """Base of every ID-card reader failure."""

    default_zh = "读卡失败，请重新放卡"


class FrameError(IdCardError):
    """Bytes from the reader do not form a valid frame (bad length, truncated, no preamble)."""

    default_zh = "读卡器通信错误，请重新放卡"


class ChecksumError(FrameError):
    """A frame's XOR checksum does not match its content."""

    default_zh = "读卡器通信校验错误，请重新放卡"


class ReaderTimeout(IdCardError):
    """The reader did not send a whole reply in time."""

    default_zh = "读卡器没有响应"


class ReaderUnavailable(IdCardError):
    """No reader found, it cannot be opened (permissions), or it was unplugged."""

    default_zh = "未连接身份证读卡器，请联系工作人员"
    exit_code = Exit.CARD_READER


class ReaderStatusError(IdCardError):
    """The reader answered with a failure status (SW3), e.g. 0x41 read failed.

    Attributes:
        sw3: the status byte.
    """

    def __init__(self, sw3: int, message: str | None = None, message_zh: str | None = None):
        from kiosk.devices.idcard.frames import status_text  # late: avoid an import cycle

        self.sw3 = sw3
        super().__init__(message or f"reader status 0x{sw3:02X}: {status_text(sw3)}", message_zh)


class NoCard(ReaderStatusError):
    """No card in the field (SW3 0x80), or the card left before it could be read."""

    default_zh = "请把身份证放在读卡区"


class SelectFailed(ReaderStatusError):
    """Selecting the found card failed (SW3 0x81): it moved, or it is not an ID card."""

    default_zh = "选卡失败，请把身份证放平放稳"


class CardDataError(IdCardError):
    """The card's text is not a valid resident card (bad ID number, date, or code)."""

    default_zh = "身份证信息无法识别，请联系工作人员"


class CardTypeRefused(IdCardError):
    """The card is not a resident ID card (foreign permanent resident card, permit, …).

    Attributes:
        flag: the card-type character found at text offset 248.
    """

    default_zh = "本机只能读取居民身份证"

    def __init__(self, flag: str, kind: str):
        self.flag = flag
        self.kind = kind
        super().__init__(f"refused card type {flag!r} ({kind}): only resident ID cards are read",
                         f"这是{kind}，本机只能读取居民身份证")
