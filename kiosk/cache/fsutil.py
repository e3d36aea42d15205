"""Durable file operations: write-then-rename with fsync of file and directory.

Why: a power cut must leave either the old or the new content, never a torn file, and a
rename is only durable once its directory is fsynced (POSIX; ext4 with data=ordered).
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def fsync_dir(path: Path | str) -> None:
    """fsync a directory so renames and creations inside it are durable."""
    fd = os.open(str(path), os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path | str) -> None:
    """fsync a regular file's data and metadata."""
    fd = os.open(str(path), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path | str, data: bytes, mode: int = 0o644) -> None:
    """Replace ``path`` with ``data`` atomically and durably (tmp → fsync → os.replace → fsync dir)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    fd = os.open(str(tmp), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_json(path: Path | str, obj: Any) -> None:
    """:func:`atomic_write_bytes` of UTF-8 JSON (sorted keys, indented)."""
    atomic_write_bytes(path, (json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8"))


def read_json(path: Path | str, default: Any = None) -> Any:
    """JSON content of ``path``, or ``default`` if it does not exist."""
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
