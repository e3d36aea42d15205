"""Notice sticks being plugged in and pulled out.

With pyudev (Linux with udev): a netlink monitor on the ``block`` subsystem, filtered to
USB partitions (or whole disks) that carry a file system. Without udev (containers, some
minimal images): poll ``/sys/class/block`` every ``poll_s`` seconds for removable or
USB-attached block devices. Both call ``on_add(Stick)`` / ``on_remove(devnode)`` from their
own thread; the UI hands them to its main thread.
"""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.devices.usbstick.mount import probe_fstype

log = logging.getLogger("kiosk.usbstick")


@dataclass(frozen=True)
class Stick:
    devnode: str          # /dev/sdb1
    fstype: str | None    # vfat | exfat | ntfs | None (unknown)
    label: str = ""


def scan_sysfs(sys_block: Path = Path("/sys/class/block"), dev_root: Path = Path("/dev")) -> dict[str, Path]:
    """Block devices that look like sticks: ``{devnode: sysfs path}``.

    A partition counts if its disk is removable or sits on a USB bus; a disk without
    partitions counts itself (sticks formatted without a partition table)."""
    out: dict[str, Path] = {}
    if not sys_block.is_dir():
        return out
    for entry in sorted(sys_block.iterdir()):
        real = entry.resolve()
        is_part = (entry / "partition").exists()
        disk = real.parent if is_part else real
        try:
            removable = (disk / "removable").read_text().strip() == "1"
        except OSError:
            removable = False
        if not (removable or "/usb" in str(disk)):
            continue
        if not is_part and any((real / n / "partition").exists() for n in os.listdir(real) if (real / n).is_dir()):
            continue  # whole disk with partitions: the partitions are the sticks
        try:
            if (real / "size").read_text().strip() == "0":
                continue  # card reader slot without a card
        except OSError:
            pass
        out[str(dev_root / entry.name)] = real
    return out


def sticks_now(use_udev: bool | None = None, scan: Callable[[], dict] = scan_sysfs) -> list[str]:
    """Device nodes of the sticks attached now, for 从U盘导入 (a stick plugged in before the
    app started, given back unused, or never reported): udev's USB file systems when udev
    runs (as :class:`StickWatcher` sees them), else the sysfs scan."""
    if _udev_available() if use_udev is None else use_udev:
        try:
            import pyudev

            ctx = pyudev.Context()
            return sorted(d.device_node for d in ctx.list_devices(subsystem="block", ID_BUS="usb",
                                                                 ID_FS_USAGE="filesystem"))
        except Exception:  # noqa: BLE001 - no udev after all: scan sysfs
            log.warning("udev unavailable; scanning /sys/class/block", exc_info=True)
    return sorted(scan())


class StickWatcher:
    """Calls ``on_add(Stick)`` and ``on_remove(devnode)``. ``start()`` reports sticks already
    present, then watches; ``stop()`` ends the thread.

    Args:
        use_udev: None = pyudev if it imports and a udev database exists, else polling.
        scan: polling's device lister (tests pass a fake one).
        probe: file system prober (default blkid).
    """

    def __init__(self, on_add: Callable[[Stick], None], on_remove: Callable[[str], None], poll_s: float = 1.0,
                 use_udev: bool | None = None, scan: Callable[[], dict] = scan_sysfs,
                 probe: Callable[[str], str | None] = probe_fstype):
        self.on_add, self.on_remove = on_add, on_remove
        self.poll_s = poll_s
        self.scan, self.probe = scan, probe
        self.use_udev = _udev_available() if use_udev is None else use_udev
        self.present: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._observer = None

    # --- polling -------------------------------------------------------------------------
    def poll_once(self) -> tuple[list[str], list[str]]:
        """One polling step: report and return (added, removed) device nodes."""
        now = set(self.scan())
        added, removed = sorted(now - self.present), sorted(self.present - now)
        self.present = now
        for dev in removed:
            self._safe(self.on_remove, dev)
        for dev in added:
            self._safe(self.on_add, Stick(dev, self.probe(dev)))
        return added, removed

    def _poll_loop(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.poll_s)

    # --- udev ----------------------------------------------------------------------------
    def _udev_event(self, device) -> None:
        action = device.action
        if device.get("ID_FS_USAGE") != "filesystem" and action != "remove":
            return
        if device.get("ID_BUS") != "usb" and action != "remove":
            return
        dev = device.device_node
        if action == "add" and dev not in self.present:
            self.present.add(dev)
            self._safe(self.on_add, Stick(dev, device.get("ID_FS_TYPE"), device.get("ID_FS_LABEL", "")))
        elif action == "remove" and dev in self.present:
            self.present.discard(dev)
            self._safe(self.on_remove, dev)

    def _start_udev(self) -> None:
        import pyudev

        ctx = pyudev.Context()
        for device in ctx.list_devices(subsystem="block", ID_BUS="usb", ID_FS_USAGE="filesystem"):
            self.present.add(device.device_node)
            self._safe(self.on_add, Stick(device.device_node, device.get("ID_FS_TYPE"), device.get("ID_FS_LABEL", "")))
        mon = pyudev.Monitor.from_netlink(ctx)
        mon.filter_by("block")
        self._observer = pyudev.MonitorObserver(mon, callback=self._udev_event, name="kiosk-usbstick")
        self._observer.start()

    # --- life cycle ----------------------------------------------------------------------
    def start(self) -> "StickWatcher":
        if self.use_udev:
            try:
                self._start_udev()
                return self
            except Exception:  # noqa: BLE001 - no udev after all: poll
                log.warning("pyudev monitor unavailable; polling /sys/class/block", exc_info=True)
        self._thread = threading.Thread(target=self._poll_loop, name="kiosk-usbstick", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._observer is not None:
            self._observer.stop()
        if self._thread is not None:
            self._thread.join(timeout=5)

    @staticmethod
    def _safe(fn, arg) -> None:
        try:
            fn(arg)
        except Exception:  # noqa: BLE001 - a callback error must not end the watcher
            log.exception("stick callback failed")


def _udev_available() -> bool:
    try:
        import pyudev  # noqa: F401
    except ImportError:
        return False
    return os.path.isdir("/run/udev/data")
