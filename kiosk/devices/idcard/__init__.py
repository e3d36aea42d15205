"""Chinese 2nd-generation resident ID card reader (SAM-V module, GA/T 467 frame protocol).

Public API::

    open_reader(spec) -> ReaderSession        # "sim", "serial:/dev/ttyUSB0", "usb:0400:c35a", …
    ReaderSession.read_card() -> IdCard       # find → select → read → parse
    parse_captured_reply(bytes) -> IdCard     # a saved 30 01 reply
    CardWatcher(factory, on_present, on_removed, poll_interval)
    discover() -> list[dict]                  # readers for `kiosk devices`

Errors are :class:`IdCardError` subclasses (English + Chinese line). No Kivy here.
"""
from __future__ import annotations

from kiosk.devices.idcard.discovery import discover, open_reader
from kiosk.devices.idcard.errors import (
    CardDataError,
    CardTypeRefused,
    ChecksumError,
    FrameError,
    IdCardError,
    NoCard,
    ReaderStatusError,
    ReaderTimeout,
    ReaderUnavailable,
    SelectFailed,
)
from kiosk.devices.idcard.protocol import ReaderSession, parse_captured_reply
from kiosk.devices.idcard.text import IdCard, parse_text, township_address
from kiosk.devices.idcard.watcher import CardWatcher

__all__ = [
    "CardDataError", "CardTypeRefused", "CardWatcher", "ChecksumError", "FrameError", "IdCard",
    "IdCardError", "NoCard", "ReaderSession", "ReaderStatusError", "ReaderTimeout",
    "ReaderUnavailable", "SelectFailed", "discover", "open_reader", "parse_captured_reply",
    "parse_text", "township_address",
]
