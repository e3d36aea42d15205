"""Mount a stick read-only (and unmount it), FAT32, exFAT and NTFS.

On a kiosk nothing automounts, so we mount ourselves: ``ro,nosuid,nodev,noexec`` through
the kernel driver first (vfat, exfat, ntfs3), then the FUSE driver of the same file system
(fusefat, exfat-fuse, ntfs-3g; Debian packages) for kernels without it.

The installed kiosk app does not run as root: it asks systemd to start the root helper
``cunwu-kiosk-stick@<kernel name>.service`` (kiosk.devices.usbstick.helper, allowed by
polkit for the kiosk's user and nothing else), which checks the device and mounts it the
same way at ``/run/cunwu-kiosk-usb/<name>``; stopping the unit unmounts. Only exit codes
and the helper's JSON result are read, never a program's (localised) text.

Why subprocesses and not a library: mount(2) needs file-system-specific option strings and
the FUSE drivers are programs; util-linux ``mount``/``umount`` and ``blkid`` are the
documented interfaces.
"""
from __future__ import annotations

import json
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
    helper: bool = False

    def unmount(self) -> bool:
        return unmount(self)

    def __enter__(self) -> "Mounted":
        return self

    def __exit__(self, *exc) -> None:
        self.unmount()


def _is_root() -> bool:
    return os.geteuid() == 0


def _safe_name(dev: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", Path(dev).name) or "stick"


def mount_ro(dev: str, base: Path | None = None, fstype: str | None = None) -> Mounted:
    """Mount ``dev`` read-only under ``base`` (default ``/run/cunwu-kiosk/usb``).

    Raises:
        UnreadableStick: unknown or unsupported file system, or every driver refused it.
    """
    if not _is_root():  # the kiosk's user cannot read the device: the root helper probes it
        return _mount_helper(dev, fstype)
    fstype = fstype or probe_fstype(dev)
    if fstype not in SUPPORTED:
        raise UnreadableStick(f"{dev}: file system {fstype or 'unknown'} is not supported (FAT32, exFAT, NTFS)",
                              "U盘格式无法识别（支持 FAT32、exFAT、NTFS），未导入，原数据不变")
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


#: the root helper (deploy/systemd/cunwu-kiosk-stick@.service) and where it mounts
HELPER_UNIT = "cunwu-kiosk-stick@{}.service"
HELPER_BASE = Path("/run/cunwu-kiosk-usb")
#: systemctl's exit status for "no such unit" (LSB "program is not installed")
_NO_UNIT = 5


def _helper_name(dev: str) -> str:
    return Path(os.path.realpath(dev)).name


def _mount_helper(dev: str, fstype: str | None) -> Mounted:
    """Mount through the root helper unit (the kiosk app's way: it is not root). ``fstype``
    is only a hint (udev's): the helper probes the device itself."""
    name = _helper_name(dev)
    systemctl = shutil.which("systemctl") or "/usr/bin/systemctl"
    try:
        r = _run([systemctl, "start", HELPER_UNIT.format(name)], timeout=MOUNT_TIMEOUT_S + 30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        r = subprocess.CompletedProcess([], 1, "", str(exc))
    path = HELPER_BASE / name
    if r.returncode == _NO_UNIT:
        raise UnreadableStick(f"{dev}: not root, and the stick helper unit is not installed (deploy/install.sh)",
                              "本机未安装U盘读取组件，请联系技术人员")
    try:
        doc = json.loads((HELPER_BASE / f"{name}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = {}
    if r.returncode == 0 and os.path.ismount(path):
        return Mounted(dev, path, doc.get("fstype") or fstype or "", "cunwu-kiosk-stick", helper=True)
    if not doc.get("ok", True) and doc.get("message_zh"):
        raise UnreadableStick(f"{dev}: {doc.get('message', 'refused')}", doc["message_zh"])
    what = f"U盘（{SUPPORTED[fstype]}）" if fstype in SUPPORTED else "U盘"
    raise UnreadableStick(f"{dev}: the stick helper could not mount it (systemctl exit {r.returncode}; see "
                          f"journalctl -u {HELPER_UNIT.format(name)})", f"{what}无法读取，未导入，原数据不变")


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
    if m.helper:
        systemctl = shutil.which("systemctl") or "/usr/bin/systemctl"
        try:
            ok = _run([systemctl, "stop", HELPER_UNIT.format(_helper_name(m.dev))], timeout=60).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        return ok or not os.path.ismount(m.path)
    ok = _umount_path(m.path)
    if ok:
        try:
            m.path.rmdir()
        except OSError:
            pass
    return ok
