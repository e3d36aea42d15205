"""Durable file operations: write-then-rename with fsync of file and directory.

Why: a power cut must leave either the old or the new content, never a torn file, and a
rename is only durable once its directory is fsynced (POSIX; ext4 with data=ordered).
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from kiosk.errors import Exit, KioskError

#: errors that mean "this folder cannot be written" (not "the disk is full": see DiskFull)
NOT_WRITABLE = {errno.EROFS, errno.EACCES, errno.EPERM}


class HomeNotWritable(KioskError):
    """KIOSK_HOME (or a folder in it) cannot be written: read-only file system or permissions."""

    exit_code = Exit.NOT_WRITABLE
    default_zh = "终端数据目录无法写入"


class OutputNotWritable(HomeNotWritable):
    """A command's output folder (``--out``) cannot be written (the family of exit code 8)."""

    default_zh = "无法写入输出文件"


def check_output_folder(folder: Path) -> None:
    """Raise :class:`OutputNotWritable` unless a file can be created in ``folder`` (tried
    for real: permissions alone do not tell, e.g. for root on /proc or a read-only mount)."""
    import tempfile

    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".kiosk-write-test-"):
            pass
    except OSError as exc:
        raise OutputNotWritable(f"cannot write to folder {folder}: {exc.strerror or exc}") from None


#: errors that mean "the disk is full"
FULL = {errno.ENOSPC, errno.EDQUOT}
#: free space kept on top of what an update needs (SQLite temp files, logs)
SPACE_MARGIN = 32 << 20


class DiskFull(KioskError):
    """Not enough free internal space (checked before copying; or the disk filled up while
    writing). Nothing half-written remains."""

    exit_code = Exit.DISK_FULL
    default_zh = "终端存储空间不足，未导入，原数据不变"


def disk_full(exc: OSError) -> DiskFull:
    return DiskFull(f"the kiosk's disk is full ({exc.strerror or exc}: {exc.filename or ''}); nothing was changed",
                    "终端存储空间已满，未导入，原数据不变")


def check_free_space(path: Path, need: int, margin: int = SPACE_MARGIN) -> None:
    """Raise :class:`DiskFull` unless ``path``'s file system has ``need + margin`` bytes free."""
    free = shutil.disk_usage(path).free
    if free < need + margin:
        raise DiskFull(f"not enough free space: {need + margin} bytes needed, {free} free",
                       f"终端存储空间不足（需要 {(need + margin) / 1e6:.0f} MB，剩余 {free / 1e6:.0f} MB），未导入，原数据不变")


def not_writable(home: Path | str, exc: OSError) -> HomeNotWritable:
    why = "read-only file system" if exc.errno == errno.EROFS else (exc.strerror or str(exc)).lower()
    return HomeNotWritable(f"cannot write to KIOSK_HOME {home}: {why} ({exc.filename or home})",
                           "终端数据目录无法写入（只读或无权限），请联系技术人员")


@contextmanager
def writing(home: Path | str) -> Iterator[None]:
    """Turn a write failure (read-only file system, permissions; a full disk) into one clear
    :class:`HomeNotWritable` (:class:`DiskFull`) line instead of a traceback."""
    try:
        yield
    except OSError as exc:
        if exc.errno in NOT_WRITABLE:
            raise not_writable(home, exc) from None
        if exc.errno in FULL:
            raise disk_full(exc) from None
        raise


def make_read_only(root: Path) -> None:
    """chmod a published version: files 0444, folders 0555 (an accidental or casual edit
    fails; root is not stopped by this, see docs/bundle-format.md §12)."""
    for dirpath, dirnames, filenames in os.walk(root):
        for f in filenames:
            os.chmod(Path(dirpath) / f, 0o444)
    for dirpath, dirnames, _ in sorted(os.walk(root), key=lambda t: -len(t[0])):
        os.chmod(dirpath, 0o555)


def make_writable_dirs(root: Path) -> None:
    """Give a read-only version's folders back their write bit (needed to delete or move
    them as a non-root user)."""
    if not root.is_dir() or root.is_symlink():
        return
    for dirpath, _, _ in os.walk(root):
        try:
            os.chmod(dirpath, stat.S_IMODE(os.lstat(dirpath).st_mode) | 0o700)
        except OSError:
            pass


def remove_tree(root: Path) -> None:
    """``shutil.rmtree`` that also removes read-only version folders (ignores errors)."""
    make_writable_dirs(Path(root))
    shutil.rmtree(root, ignore_errors=True)


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
        if mode != 0o644:  # a stale temp file keeps its old mode through O_CREAT
            os.fchmod(fd, mode)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    fsync_dir(path.parent)


def atomic_write_json(path: Path | str, obj: Any, mode: int = 0o644) -> None:
    """:func:`atomic_write_bytes` of UTF-8 JSON (sorted keys, indented)."""
    atomic_write_bytes(path, (json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8"),
                       mode)


def read_json(path: Path | str, default: Any = None) -> Any:
    """JSON content of ``path``, or ``default`` if it does not exist.

    Raises:
        ValueError: not UTF-8 JSON, or nested too deeply to parse (json raises RecursionError,
            which callers that catch ValueError would miss).
    """
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return default
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply") from None
