"""Stick errors of the mounting: each carries the Chinese line shown on the update screen.

(A stick pulled during an import is :class:`kiosk.cache.stickimport.StickRemoved`.)
"""
from __future__ import annotations

from kiosk.errors import StickError  # noqa: F401 (the family's base, re-exported)


class UnreadableStick(StickError):
    """The file system is unknown, damaged, or cannot be mounted."""

    default_zh = "U盘无法读取（支持 FAT32、exFAT、NTFS 格式），未导入，原数据不变"
