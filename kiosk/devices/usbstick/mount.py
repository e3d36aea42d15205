"""Mount a stick read-only (and unmount it), FAT32, exFAT and NTFS.

On a kiosk nothing automounts, so we mount ourselves: ``ro,nosuid,nodev,noexec`` through
the kernel driver first (vfat, exfat, ntfs3), then the FUSE driver of the same file system
(fusefat, exfat-fuse, ntfs-3g; Debian packages) for kernels without it. Not running as
root, we ask udisks2 (``udisksctl mount``, D-Bus) with the same options.

Why subprocesses and not a library: mount(2) needs file-system-specific option strings and
the FUSE drivers are programs; util-linux ``mount``/``umount`` and ``blkid`` are the
documented interfaces.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from kiosk.devices.usbstick.errors import UnreadableStick

#: blkid TYPE → display name
SUPPORTED = {"vfat": "FAT32", "exfat": "exFAT", "ntfs": "NTFS"}
RO_OPTS = "ro,nosuid,nodev,noexec"
MOUNT_TIMEOUT_S = 30


def _run(cmd: list[str], timeout: float = MOUNT_TIMEOUT_S) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def probe_fstype(dev: str) -> str | None:
    """File system type of ``dev`` as blkid names it (``vfat``, ``exfat``, ``ntfs``, …), or None."""
    blkid = shutil.which("blkid") or "/usr/sbin/blkid"
    try:
        r = _run([blkid, "-p", "-o", "value", "-s", "TYPE", dev], timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    t = r.stdout.strip()
    return t or None


def _commands(fstype: str, dev: str, mp: str) -> list[list[str]]:
    mount = shutil.which("mount") or "/usr/bin/mount"
    if fstype == "vfat":
        return [[mount, "-t", "vfat", "-o", RO_OPTS + ",utf8,shortname=mixed", dev, mp],
                ["fusefat", "-o", "ro,nosuid,nodev", dev, mp]]
    if fstype == "exfat":
        return [[mount, "-t", "exfat", "-o", RO_OPTS, dev, mp],
                ["mount.exfat-fuse", "-o", RO_OPTS, dev, mp]]
    if fstype == "ntfs":
        return [[mount, "-t", "ntfs3", "-o", RO_OPTS, dev, mp],
                ["ntfs-3g", "-o", RO_OPTS, dev, mp]]
    return []


@dataclass
class Mounted:
    """A read-only mount. ``via`` names the program that mounted it."""

    dev: str
    path: Path
    fstype: str
    via: str
    udisks: bool = False

    def unmount(self) -> bool:
        return unmount(self)

    def __enter__(self) -> "Mounted":
        return self

    def __exit__(self, *exc) -> None:
        self.unmount()


def _safe_name(dev: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(dev).name) or "stick"


def mount_ro(dev: str, base: Path | None = None, fstype: str | None = None) -> Mounted:
    """Mount ``dev`` read-only under ``base`` (default ``/run/cunwu-kiosk/usb``).

    Raises:
        UnreadableStick: unknown or unsupported file system, or every driver refused it.
    """
    fstype = fstype or probe_fstype(dev)
    if fstype not in SUPPORTED:
        raise UnreadableStick(f"{dev}: file system {fstype or 'unknown'} is not supported (FAT32, exFAT, NTFS)",
                              "U盘格式无法识别（支持 FAT32、exFAT、NTFS），未导入，原数据不变")
    if os.geteuid() != 0 and shutil.which("udisksctl"):
        return _mount_udisks(dev, fstype)
    base = Path(base or "/run/cunwu-kiosk/usb")
    mp = base / _safe_name(dev)
    mp.mkdir(parents=True, exist_ok=True)
    if os.path.ismount(mp):  # left over from a crash: take it down first
        _umount_path(mp)
    errors = []
    for cmd in _commands(fstype, dev, str(mp)):
        prog = shutil.which(cmd[0]) or (cmd[0] if os.path.isabs(cmd[0]) and os.path.exists(cmd[0]) else None)
        if not prog:
            continue
        try:
            r = _run([prog] + cmd[1:])
        except subprocess.TimeoutExpired:
            errors.append(f"{cmd[0]}: timed out")
            continue
        if r.returncode == 0 and os.path.ismount(mp):
            return Mounted(dev, mp, fstype, Path(cmd[0]).name)
        errors.append(f"{Path(cmd[0]).name}: {(r.stderr or r.stdout).strip().splitlines()[-1:] or r.returncode}")
    try:
        mp.rmdir()
    except OSError:
        pass
    raise UnreadableStick(f"{dev}: cannot mount {fstype} read-only ({'; '.join(map(str, errors)) or 'no driver'})",
                          f"U盘（{SUPPORTED[fstype]}）无法读取，可能已损坏，未导入，原数据不变")


def _mount_udisks(dev: str, fstype: str) -> Mounted:
    r = _run(["udisksctl", "mount", "--no-user-interaction", "-b", dev, "-o", RO_OPTS])
    m = re.search(r" at (.+?)\.?$", r.stdout.strip())
    if r.returncode != 0 or not m:
        raise UnreadableStick(f"{dev}: udisks2 cannot mount it: {(r.stderr or r.stdout).strip()}",
                              f"U盘（{SUPPORTED[fstype]}）无法读取，未导入，原数据不变")
    return Mounted(dev, Path(m.group(1)), fstype, "udisks2", udisks=True)


def _umount_path(mp: Path) -> bool:
    umount = shutil.which("umount") or "/usr/bin/umount"
    for cmd in ([umount, str(mp)], ["fusermount", "-u", str(mp)], [umount, "-l", str(mp)], ["fusermount", "-uz", str(mp)]):
        if not (shutil.which(cmd[0]) or os.path.exists(cmd[0])):
            continue
        try:
            if _run(cmd, timeout=15).returncode == 0 and not os.path.ismount(mp):
                return True
        except subprocess.TimeoutExpired:
            continue
    return not os.path.ismount(mp)


def unmount(m: Mounted) -> bool:
    """Unmount (lazily if busy or if the stick is already gone); True when nothing is
    mounted any more and the stick may be pulled out."""
    if m.udisks:
        ok = _run(["udisksctl", "unmount", "--no-user-interaction", "-b", m.dev]).returncode == 0
        return ok or not os.path.ismount(m.path)
    ok = _umount_path(m.path)
    if ok:
        try:
            m.path.rmdir()
        except OSError:
            pass
    return ok
