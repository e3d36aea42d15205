"""Stick watcher (polling path with a fake sysfs), progress meter and the PIN/plan state machine."""
from __future__ import annotations

import os
from pathlib import Path

from kiosk.devices.usbstick.watcher import Stick, StickWatcher, scan_sysfs
from kiosk.services.bus import EventBus
from kiosk.services.updates import Meter, UpdateService, next_due, RETRY_FIRST_S


def _fake_sysfs(root: Path) -> Path:
    """/sys/class/block with: sda (internal disk, 1 partition), sdb (USB stick, partition
    sdb1), sdc (removable, no partition table), sdd (empty card reader slot)."""
    devices = root / "devices"
    block = root / "class" / "block"
    block.mkdir(parents=True)

    def disk(path: str, removable: str, size: str = "1000", parts=()):
        d = devices / path
        d.mkdir(parents=True)
        (d / "removable").write_text(removable + "\n")
        (d / "size").write_text(size + "\n")
        os.symlink(d, block / d.name)
        for p in parts:
            (d / p).mkdir()
            (d / p / "partition").write_text("1\n")
            (d / p / "size").write_text("900\n")
            os.symlink(d / p, block / p)

    disk("pci0000:00/ata1/host0/block/sda", "0", parts=["sda1"])
    disk("pci0000:00/usb1/1-1/host6/block/sdb", "0", parts=["sdb1"])
    disk("pci0000:00/virtual/sdc", "1")
    disk("pci0000:00/usb2/2-1/host7/block/sdd", "1", size="0")
    return block


def test_scan_sysfs_finds_usb_and_removable_filesystems(tmp_path):
    block = _fake_sysfs(tmp_path)
    assert sorted(scan_sysfs(block, Path("/dev"))) == ["/dev/sdb1", "/dev/sdc"]


def test_polling_reports_plug_and_unplug():
    present = [set(), {"/dev/sdb1"}, {"/dev/sdb1"}, set()]
    events = []
    w = StickWatcher(on_add=lambda s: events.append(("add", s)), on_remove=lambda d: events.append(("remove", d)),
                     use_udev=False, scan=lambda: {d: None for d in present.pop(0)}, probe=lambda d: "vfat")
    assert w.poll_once() == ([], [])
    assert w.poll_once() == (["/dev/sdb1"], [])
    assert w.poll_once() == ([], [])
    assert w.poll_once() == ([], ["/dev/sdb1"])
    assert events == [("add", Stick("/dev/sdb1", "vfat")), ("remove", "/dev/sdb1")]


def test_a_failing_callback_does_not_stop_the_watcher():
    seen = []

    def boom(stick):
        seen.append(stick.devnode)
        raise RuntimeError("screen not ready")

    scans = [{"/dev/sdb1": None}, {"/dev/sdb1": None, "/dev/sdc1": None}]
    w = StickWatcher(boom, lambda d: None, use_udev=False, scan=lambda: scans.pop(0), probe=lambda d: None)
    w.poll_once()
    w.poll_once()
    assert seen == ["/dev/sdb1", "/dev/sdc1"]


def test_meter_percent_rate_and_time_left():
    t = [100.0]
    m = Meter(clock=lambda: t[0])
    m.update("copy", 0, 100_000_000)
    t[0] += 2
    m.update("copy", 50_000_000, 100_000_000)
    assert (m.percent, round(m.rate), round(m.left_s)) == (25, 25_000_000, 6)
    assert m.text() == "25% · 25.0 MB/s · 还需约 6 秒"
    t[0] += 2
    m.update("copy", 100_000_000, 100_000_000)
    m.update("verify", 0, 100_000_000)
    t[0] += 1
    m.update("verify", 100_000_000, 100_000_000)
    assert m.percent == 100 and m.text().startswith("100% · 100.0 MB/s")


def test_next_due_backs_off_after_failures():
    ok = {"ts": 1000.0, "ok": True, "failures": 0}
    assert next_due(ok, 6) == 1000 + 6 * 3600
    assert next_due({"ts": 1000.0, "ok": False, "failures": 1}, 6) == 1000 + RETRY_FIRST_S
    assert next_due({"ts": 1000.0, "ok": False, "failures": 3}, 6) == 1000 + 4 * RETRY_FIRST_S
    assert next_due({"ts": 1000.0, "ok": False, "failures": 10}, 6) == 1000 + 6 * 3600
    assert next_due(None, 6) == 0


def test_install_needs_a_plan_first(home):
    svc = UpdateService(EventBus(), home, watch_sticks=False)
    assert svc.stick_install() is None  # no stick, no plan: nothing starts
    assert svc.stick_cancel() is True and svc.stick_state == "idle"
