"""Error base class and the CLI's exit codes: every expected failure carries an English line
for the CLI and a Chinese line for the screen, and one exit code with one meaning."""
from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """``kiosk`` exit codes: one meaning per code (README, "Command line")."""

    OK = 0
    FAILED = 1          # any other expected failure (and OS errors such as a missing path)
    USAGE = 2           # the command line is wrong (also argparse's own code)
    BUNDLE = 3          # a bundle is refused, or cannot be built
    BUSY = 4            # another import or sync is running
    NETWORK = 5         # the update server cannot be reached or answered wrongly
    DISK_FULL = 6       # not enough free space on the kiosk
    STICK = 7           # the USB stick cannot be read, or was pulled
    NOT_WRITABLE = 8    # KIOSK_HOME (or an output folder) cannot be written
    SOURCE = 9          # the county's source export is invalid
    PIN = 10            # the technician PIN is wrong, not set, or badly formed
    PIN_LOCKED = 11     # too many wrong PINs: locked for a while
    CARD_READER = 12    # the ID-card reader is missing or failed
    PRINTER = 13        # the receipt printer is missing or failed
    KEYS = 14           # a key file is unusable, or the trust store refuses a change
    CONFIG = 15         # config.json cannot be read
    DATA_DAMAGED = 16   # the installed data fails its check (status, check)
    APP_UPDATE = 17     # an app package is refused, or the app update failed (software unchanged)
    INTERRUPTED = 130   # Ctrl+C


class KioskError(Exception):
    """Base of expected failures.

    Attributes:
        message: one English line (CLI, logs).
        message_zh: one Chinese line for the screen.
        exit_code: CLI exit status (:class:`Exit`).
    """

    exit_code = Exit.FAILED
    default_zh = "操作失败"

    def __init__(self, message: str, message_zh: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh or self.default_zh

    def __str__(self) -> str:  # one line: "English (中文)"
        return f"{self.message} ({self.message_zh})" if self.message_zh else self.message


class StickError(KioskError):
    """A USB stick cannot be read, or was pulled: the mounting (``kiosk.devices.usbstick``)
    and the import from a stick (``kiosk.cache.stickimport``) raise subclasses of this."""

    exit_code = Exit.STICK
    default_zh = "U盘读取失败，未导入，原数据不变"
