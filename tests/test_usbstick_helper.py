"""The root helper that mounts a stick for the unprivileged app: what it refuses (names, a
device not on USB, a disk in use), that it mounts read-only at its own base and says so in
its JSON, and the app's side (not root) going through ``systemctl start`` and reading only
exit codes and that JSON. The whole path through systemd and polkit as the kiosk's user is
checked in the booted test system (tests/deploy)."""
from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk.devices.usbstick import helper, mount
from kiosk.devices.usbstick.errors import UnreadableStick

ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def _run(*cmd) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=ENV)


LOOP = os.geteuid() == 0 and shutil.which("losetup") and subprocess.run(["losetup", "-f"], capture_output=True).returncode == 0
needs_loop = pytest.mark.skipif(not LOOP, reason="loop devices/mount not allowed here")


@pytest.fixture()
def fat_loop(tmp_path):
    img = tmp_path / "stick.img"
    _run("mkfs.vfat", "-n", "STICK", "-C", img, 8 * 1024)
    (tmp_path / "hello.txt").write_text("你好\n", encoding="utf-8")
    _run("mcopy", "-i", img, tmp_path / "hello.txt", "::/")
    dev = _run("losetup", "-r", "-f", "--show", img).stdout.strip()
    yield dev
    subprocess.run(["losetup", "-d", dev], capture_output=True)


@pytest.fixture()
def base(tmp_path, monkeypatch):
    b = tmp_path / "usb"
    monkeypatch.setattr(helper, "MOUNT_BASE", b)
    return b


@pytest.mark.parametrize("name", ["", "../sda1", "sdb1/..", "SDB1", "sdb 1", "a" * 33])
def test_bad_names_refused(name):
    with pytest.raises(helper.RefusedDevice, match="kernel block device name"):
        helper.check_device(name)


def test_device_not_on_usb_refused():
    sysb = Path("/sys/class/block")
    others = [p.name for p in sysb.iterdir() if not p.name.startswith("loop") and "/usb" not in str(p.resolve())] \
        if sysb.exists() else []
    if not others:
        pytest.skip("no non-USB block device here")
    with pytest.raises(helper.RefusedDevice, match="not on USB"):
        helper.check_device(others[0])
    with pytest.raises(helper.RefusedDevice, match="no such block device"):
        helper.check_device("sdzz9")


@needs_loop
def test_mounts_read_only_and_reports(fat_loop, base):
    name = Path(fat_loop).name
    path = helper.mount(name)
    try:
        assert path == base / name and os.path.ismount(path)
        assert (path / "hello.txt").read_text(encoding="utf-8") == "你好\n"
        with pytest.raises(OSError) as ei:
            (path / "x").write_text("x")
        assert ei.value.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        doc = json.loads((base / f"{name}.json").read_text(encoding="utf-8"))
        # the kernel's vfat, or fusefat where the kernel has none
        assert doc == {"ok": True, "path": str(path), "fstype": "vfat", "via": doc["via"]}
        assert doc["via"] in ("mount", "fusefat")
        assert oct((base / f"{name}.json").stat().st_mode & 0o777) == "0o644"
    finally:
        assert helper.unmount(name) is True
    assert not path.exists() and not (base / f"{name}.json").exists()


@pytest.fixture()
def ext4_in_use(tmp_path):
    """A loop device with an ext4 file system mounted by the kernel elsewhere (the system
    disk of a Raspberry Pi booting from USB looks like this)."""
    img = tmp_path / "system.img"
    _run("truncate", "-s", "8M", img)
    _run("mkfs.ext4", "-q", img)
    dev = _run("losetup", "-f", "--show", img).stdout.strip()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _run("mount", "-o", "ro", dev, elsewhere)
    yield dev
    subprocess.run(["umount", elsewhere], capture_output=True)
    subprocess.run(["losetup", "-d", dev], capture_output=True)


@needs_loop
def test_disk_mounted_elsewhere_is_refused(ext4_in_use, base):
    name = Path(ext4_in_use).name
    with pytest.raises(helper.RefusedDevice, match="its disk is mounted at .*elsewhere"):
        helper.mount(name)
    doc = json.loads((base / f"{name}.json").read_text(encoding="utf-8"))
    assert doc["ok"] is False and doc["message_zh"] == "这个设备不是U盘，未导入，原数据不变"


@needs_loop
def test_base_must_be_roots_own(fat_loop, base):
    base.mkdir()
    os.chmod(base, 0o777)
    with pytest.raises(helper.RefusedDevice, match="only root may change"):
        helper.mount(Path(fat_loop).name)
    os.chmod(base, 0o755)
    base.rmdir()
    base.symlink_to("/etc")
    with pytest.raises(helper.RefusedDevice, match="only root may change"):
        helper.mount(Path(fat_loop).name)


class FakeSystemctl:
    """``systemctl start/stop cunwu-kiosk-stick@NAME.service`` answered the way systemd
    would: run the helper (as the unit would, as root) and return its exit status."""

    def __init__(self, missing_unit: bool = False):
        self.calls = []
        self.missing_unit = missing_unit
        self.real_run = mount._run
        self.as_root = False

    def is_root(self) -> bool:
        return self.as_root

    def __call__(self, cmd, timeout=0):
        if not str(cmd[0]).endswith("systemctl"):
            return self.real_run(cmd, timeout) if timeout else self.real_run(cmd)
        self.calls.append(cmd[1:])
        if self.missing_unit:
            return subprocess.CompletedProcess(cmd, 5, "", "Unit cunwu-kiosk-stick@x.service not found.")
        verb, unit = cmd[1], cmd[2]
        name = unit.split("@", 1)[1].removesuffix(".service")
        self.as_root = True
        try:
            helper.mount(name) if verb == "start" else helper.unmount(name)
            return subprocess.CompletedProcess(cmd, 0, "", "")
        except UnreadableStick:
            return subprocess.CompletedProcess(cmd, 1, "", "Job failed. See journalctl.")
        finally:
            self.as_root = False


@needs_loop
def test_app_side_goes_through_the_helper(fat_loop, base, monkeypatch):
    fake = FakeSystemctl()
    monkeypatch.setattr(mount, "HELPER_BASE", base)
    monkeypatch.setattr(mount, "_is_root", fake.is_root)
    monkeypatch.setattr(mount, "_run", fake)
    name = Path(fat_loop).name
    with mount.mount_ro(fat_loop) as m:
        assert m.helper and m.path == base / name and (m.path / "hello.txt").exists()
        assert m.fstype == "vfat"  # probed by the helper: the app cannot read the device itself
    assert not os.path.ismount(base / name)
    assert fake.calls == [["start", f"cunwu-kiosk-stick@{name}.service"], ["stop", f"cunwu-kiosk-stick@{name}.service"]]


@needs_loop
def test_app_side_reports_the_helpers_reason(ext4_in_use, base, monkeypatch):
    fake = FakeSystemctl()
    monkeypatch.setattr(mount, "HELPER_BASE", base)
    monkeypatch.setattr(mount, "_is_root", fake.is_root)
    monkeypatch.setattr(mount, "_run", fake)
    with pytest.raises(UnreadableStick) as ei:
        mount.mount_ro(ext4_in_use, fstype="vfat")  # what blkid would say of a stick
    assert ei.value.message_zh == "这个设备不是U盘，未导入，原数据不变"
    assert "its disk is mounted" in ei.value.message
    missing = FakeSystemctl(missing_unit=True)
    monkeypatch.setattr(mount, "_run", missing)
    with pytest.raises(UnreadableStick) as ei:
        mount.mount_ro(ext4_in_use, fstype="vfat")
    assert ei.value.message_zh == "本机未安装U盘读取组件，请联系技术人员"
