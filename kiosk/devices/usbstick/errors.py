"""Stick errors: each carries the Chinese line shown on the update screen."""
from __future__ import annotations

from kiosk.errors import Exit, KioskError


class StickError(KioskError):
    exit_code = Exit.STICK
    default_zh = "U盘读取失败，未导入，原数据不变"


class UnreadableStick(StickError):
    """The file system is unknown, damaged, or cannot be mounted."""

    default_zh = "U盘无法读取（支持 FAT32、exFAT、NTFS 格式），未导入，原数据不变"


class StickRemoved(StickError):
    """The stick went away (or stopped answering) while it was being read."""

    default_zh = "U盘在复制过程中被拔出或无法读取，未导入，原数据不变。请重新插入U盘再试"
