"""ESC/POS receipt printer: compose Chinese receipts, send them over USB/lp/TCP/file, read status.

Public API (the UI calls these; see docs/printer.md):

- :class:`Receipt`: builder for a receipt (title, village, rows, table, amount, QR, footer).
- :func:`print_receipt` ``(receipt, profile=None, transport=None) -> PrintResult``; :func:`retry`.
- :func:`compose` ``(receipt, profile) -> Composed`` (bytes, no I/O).
- :func:`discover` ``() -> [dict]``; :func:`get_profile`; :class:`SimulatedPrinter`.

No Kivy here.
"""
from __future__ import annotations

import logging

from .composer import Composed, compose
from .discovery import discover
from .errors import (CoverOpen, PaperOut, PrinterDisconnected, PrinterError, PrinterNotFound,
                     PrinterOffline, PrinterTimeout, UnprintableText)
from .job import PrintResult, print_receipt, retry
from .profiles import Profile, get_profile, profiles
from .receipt import Receipt
from .simulator import SimulatedPrinter
from .status import PrinterStatus

__all__ = [
    "Composed", "compose", "discover", "PrintResult", "print_receipt", "retry", "Profile",
    "get_profile", "profiles", "Receipt", "SimulatedPrinter", "PrinterStatus", "PrinterError",
    "PrinterNotFound", "PrinterDisconnected", "PrinterTimeout", "PaperOut", "CoverOpen",
    "PrinterOffline", "UnprintableText",
]

# A library does not decide where its log goes (logging HOWTO, "Configuring logging for a
# library"): without this, Python's last-resort handler prints job warnings to stderr next to
# the CLI's own one-line error. The app's handlers on the root logger still receive them.
logging.getLogger(__name__).addHandler(logging.NullHandler())
