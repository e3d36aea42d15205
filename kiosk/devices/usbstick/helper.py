"""Root side of mounting a stick for the unprivileged kiosk app (cunwu-kiosk-stick@.service).

The app runs as its own user and cannot mount. It asks systemd to start
``cunwu-kiosk-stick@<kernel name>.service`` (polkit allows the kiosk's user exactly that,
deploy/polkit/50-cunwu-kiosk.rules); the unit runs :func:`mount` as root, and stopping it
runs :func:`unmount`. The app then reads ``/run/cunwu-kiosk-usb/<name>``, and
``<name>.json`` beside it says what happened (its Chinese line for the screen).

Because the kiosk's user chooses ``<name>``, everything is checked here first: a plain
kernel name; a block device on USB (or a loop device, which only root can set up); no
partition of the same disk mounted anywhere else (a Raspberry Pi may boot from a USB disk);
FAT32, exFAT or NTFS; and a mount base that is root's own folder, never a link.

Why not udisks2: its D-Bus API would need udisks2 and a polkit rule for its mount action,
which cannot restrict the options to read-only; and its command-line tool's output is
localised text. This helper reuses :func:`kiosk.devices.usbstick.mount.mount_ro`.
"""
from __future__ import annotations

import json
import logging
import os
import re
import stat
from pathlib import Path

from kiosk.devices.usbstick import mount as m
from kiosk.devices.usbstick.errors import UnreadableStick

log = logging.getLogger("kiosk.usbstick.helper")

#: where sticks are mounted for the app (deploy/system/tmpfiles.conf; root-owned, 0755)
MOUNT_BASE = Path("/run/cunwu-kiosk-usb")
SYS_BLOCK = Path("/sys/class/block")
NAME = re.compile(r"^[a-z0-9]{1,32}$")


class RefusedDevice(UnreadableStick):
    """The device is not a stick the kiosk may mount."""

    default_zh = "这个设备不是U盘，未导入，原数据不变"


def _devnum(text: str) -> tuple[int, int]:
    a, b = text.strip().split(":")
    return int(a), int(b)


def check_device(name: str, sys_block: Path = SYS_BLOCK, dev_dir: Path = Path("/dev")) -> Path:
    """The device node for kernel name ``name``, once it is a USB (or loop) block device
    whose disk has nothing mounted.

    Raises:
        RefusedDevice: bad name, not a block device, not on USB, or its disk is in use.
    """
    if not NAME.match(name or ""):
        raise RefusedDevice(f"{name!r} is not a kernel block device name")
    sysdir = sys_block / name
    if not (sysdir / "dev").exists():
        raise RefusedDevice(f"{name}: no such block device")
    real = sysdir.resolve()
    if not (name.startswith("loop") or "/usb" in str(real)):
        raise RefusedDevice(f"{name}: not on USB ({real})")
    dev = dev_dir / name
    try:
        st = os.stat(dev)
    except OSError:
        raise RefusedDevice(f"{dev}: no device node") from None
    if not stat.S_ISBLK(st.st_mode) or (os.major(st.st_rdev), os.minor(st.st_rdev)) != _devnum((sysdir / "dev").read_text()):
        raise RefusedDevice(f"{dev} is not the block device {name}")
    disk = real.parent if (sysdir / "partition").exists() else real
    members = [disk] + [p for p in disk.iterdir() if (p / "partition").exists()]
    numbers = {_devnum((p / "dev").read_text()) for p in members}
    nodes = {str(dev_dir / p.name) for p in members}
    for p in members:
        if (p / "holders").is_dir() and any((p / "holders").iterdir()):
            raise RefusedDevice(f"{name}: {p.name} is in use ({', '.join(h.name for h in (p / 'holders').iterdir())})")
    for number, source, target in _mounts():
        # a kernel mount names the device by number; a FUSE one (fuseblk) by its path
        if (number in numbers or os.path.realpath(source) in nodes) and not _under(target, MOUNT_BASE):
            raise RefusedDevice(f"{name}: its disk is mounted at {target}")
    try:
        with open("/proc/swaps", encoding="utf-8") as f:
            swaps = {os.path.realpath(line.split()[0]) for line in f.readlines()[1:] if line.strip()}
    except OSError:
        swaps = set()
    if swaps & nodes:
        raise RefusedDevice(f"{name}: its disk holds swap space")
    return dev


def _mounts() -> list[tuple[tuple[int, int], str, str]]:
    """``(major, minor), source, mount point`` of every mount (/proc/self/mountinfo, proc(5))."""
    out = []
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            tail = parts[parts.index("-") + 1:]
            source = tail[1] if len(tail) > 1 else ""
            out.append((_devnum(parts[2]), source, parts[4].replace("\\040", " ")))
    return out


def _under(path: str, base: Path) -> bool:
    return path == str(base) or path.startswith(str(base) + "/")


def _base() -> Path:
    """The mount base, made if missing; refused unless a real folder owned by root."""
    MOUNT_BASE.mkdir(mode=0o755, exist_ok=True)
    st = os.lstat(MOUNT_BASE)
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != 0 or st.st_mode & 0o022:
        raise RefusedDevice(f"{MOUNT_BASE} is not a folder only root may change")
    return MOUNT_BASE


def _result(name: str, doc: dict) -> None:
    p = MOUNT_BASE / f"{name}.json"
    tmp = p.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    os.chmod(tmp, 0o644)
    os.replace(tmp, p)


def mount(name: str) -> Path:
    """Mount ``/dev/<name>`` read-only at ``MOUNT_BASE/<name>`` and write ``<name>.json``.

    Raises:
        UnreadableStick: refused or not mountable (also written to ``<name>.json``).
    """
    base = _base()
    try:
        dev = check_device(name)
        mounted = m.mount_ro(str(dev), base)
    except UnreadableStick as exc:
        log.warning("stick %s refused: %s", name, exc.message)
        _result(name, {"ok": False, "message": exc.message, "message_zh": exc.message_zh})
        raise
    log.info("stick %s mounted read-only (%s, %s)", name, mounted.fstype, mounted.via)
    _result(name, {"ok": True, "path": str(mounted.path), "fstype": mounted.fstype, "via": mounted.via})
    return mounted.path


def unmount(name: str) -> bool:
    """Unmount ``MOUNT_BASE/<name>`` (lazily if busy or gone); True when nothing is mounted."""
    if not NAME.match(name or ""):
        raise RefusedDevice(f"{name!r} is not a kernel block device name")
    path = MOUNT_BASE / name
    ok = m.unmount(m.Mounted(f"/dev/{name}", path, "", "helper")) if os.path.ismount(path) else True
    try:
        (MOUNT_BASE / f"{name}.json").unlink()
    except FileNotFoundError:
        pass
    if ok:
        try:
            path.rmdir()
        except OSError:
            pass
    log.info("stick %s %s", name, "unmounted" if ok else "still mounted")
    return ok
