"""USB stick imports from real file system images.

FAT images are made with mkfs.vfat and filled with mtools (no mount needed). Where loop
devices and mounting work (root; this includes FUSE drivers for FAT/exFAT/NTFS), the
image is attached read-only with ``losetup -r`` and mounted by the product's own
:func:`mount_ro`; removal mid-copy is simulated by killing the FUSE driver (reads then
fail with ENOTCONN, as they fail with EIO when a real stick is pulled). Without loop
devices the image is read through mtools (``mcopy`` to a folder) and the mount tests skip.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from kiosk.errors import Exit

from conftest import build_bundle, run_cli, tree_digest
from sourcekit import small_source, write_source
from kiosk.cache import bundle as B
from kiosk.cache import install as I
from kiosk.cache import discovery, stickimport, sync
from kiosk.cache.keys import TrustStore
from kiosk.cache.stickimport import StickRemoved
from kiosk.county.publish import publish
from kiosk.devices.usbstick import mount
from kiosk.devices.usbstick.errors import UnreadableStick
from kiosk.services.events import ImportDone, ImportOffered, ImportProgress, ImportRefused, StickFound
from kiosk.services.updates import UpdateService
from recorder import Recorder

SCOPE = "431382111249"
OTHER = "431382111202"  # 赵家村 (same township)
ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}


def _run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, capture_output=True, text=True, env=ENV, **kw)


def _loop_works() -> bool:
    if os.geteuid() != 0 or not shutil.which("losetup"):
        return False
    return subprocess.run(["losetup", "-f"], capture_output=True).returncode == 0


LOOP = _loop_works()
needs_loop = pytest.mark.skipif(not LOOP, reason="loop devices/mount not allowed here; FAT images are read through mtools instead")


@pytest.fixture(scope="session")
def small_bundle2(tmp_path_factory, small_src, test_key) -> Path:
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("sb2") / "bundle")


@pytest.fixture(scope="session")
def other_bundle(tmp_path_factory, test_key) -> Path:
    data = small_source()
    data["village"] = {**data["village"], "code": OTHER, "official_name": "赵家村委会"}
    src = write_source(tmp_path_factory.mktemp("osrc") / "src", data)
    return build_bundle(src, test_key, 5, tmp_path_factory.mktemp("ob") / "bundle")


@pytest.fixture()
def stick_tree(tmp_path, small_bundle, small_bundle2, other_bundle, other_test_key) -> Path:
    """What a county technician's stick holds: two villages, two versions of ours, and a
    folder signed with a key this kiosk does not trust."""
    root = tmp_path / "stick"
    for b in (small_bundle, small_bundle2, other_bundle):
        publish(b, root / "cunwu")
    junk = root / "old" / "untrusted"
    shutil.copytree(small_bundle, junk)
    (junk / "manifest.sig").write_bytes(b"\0" * 64)
    return root


def make_fat_image(img: Path, tree: Path, size_mb: int = 24) -> Path:
    _run("mkfs.vfat", "-n", "CUNWU", "-C", img, size_mb * 1024)
    _run("mcopy", "-s", "-i", img, *sorted(tree.iterdir()), "::/")
    return img


@pytest.fixture()
def loopdev():
    devs = []

    def attach(img: Path, ro: bool = True) -> str:
        dev = _run("losetup", *(["-r"] if ro else []), "-f", "--show", img).stdout.strip()
        devs.append(dev)
        return dev

    yield attach
    for d in devs:
        subprocess.run(["losetup", "-d", d], capture_output=True)


def fuse_pid(mountpoint: Path) -> int | None:
    """PID of the FUSE driver serving ``mountpoint`` (its command line names it)."""
    for p in Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                args = (p / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if str(mountpoint).encode() in args:
                return int(p.name)
    return None


# ---------------------------------------------------------------- discovery (any folder)

def test_discovery_picks_this_village_newest_first(stick_tree, home, test_key):
    trusted = TrustStore(home).keys()
    found = discovery.find_bundles(stick_tree, trusted)
    assert [(c.scope, c.seq) for c in found.candidates] == [(OTHER, 5), (SCOPE, 2), (SCOPE, 1)]
    assert [(p.name, why) for p, why in found.skipped] == [("untrusted", "签名验证失败：清单被改动或签名密钥不受信任")]
    best = discovery.choose(found, SCOPE, 0)
    assert best.path == stick_tree / "cunwu" / SCOPE / "v000002"
    with pytest.raises(B.BundleError) as ei:
        discovery.choose(found, None, 0)
    assert ei.value.message_zh.startswith("U盘上有多个村的数据包")
    with pytest.raises(B.BundleError) as ei:
        discovery.choose(found, SCOPE, 2)
    assert ei.value.message_zh == "U盘上本村的数据包（第2版）不比本机已有的（第2版）新，无需导入"
    with pytest.raises(B.BundleError) as ei:
        discovery.choose(found, "431382111206", 0)
    assert "没有本村（431382111206）" in ei.value.message_zh


def test_kiosk_import_accepts_a_folder_of_bundles(stick_tree, home, small_bundle, capsys):
    assert run_cli("import", small_bundle) == 0  # the kiosk is 洪泉村, 第1版
    assert run_cli("import", stick_tree) == 0
    assert "installed 第2版 (was 第1版)" in capsys.readouterr().out
    assert I.read_state(home)["highest_seq"] == 2
    assert run_cli("import", stick_tree) == Exit.BUNDLE  # nothing newer left
    assert "不比本机已有的（第2版）新" in capsys.readouterr().err


def test_plan_writes_nothing_and_reports_old_and_new(stick_tree, home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    before = tree_digest(home)
    p = stickimport.plan(stick_tree, home)
    assert tree_digest(home) == before
    assert (p.old.seq, p.new.seq) == (1, 2)
    assert p.old.data_as_of == p.new.data_as_of == "2025-05-31"
    assert p.new.counts == {"finance": 5, "projects": 1, "assets": 2, "services": 1, "powers": 1, "payments": 2}


def test_refused_bundle_on_stick_changes_nothing(stick_tree, home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    db = stick_tree / "cunwu" / SCOPE / "v000002" / B.DB_PATH
    raw = bytearray(db.read_bytes())
    raw[5000] ^= 0x01
    db.write_bytes(bytes(raw))
    before = tree_digest(home)
    p = stickimport.plan(stick_tree, home)
    with pytest.raises(B.BundleError) as ei:
        stickimport.run(p, home)
    assert "校验值不符" in ei.value.message_zh
    assert tree_digest(home) == before


def test_fat_image_read_through_mtools(tmp_path, stick_tree, home):
    """The fallback where loop devices are not allowed: the image's files via mtools."""
    img = make_fat_image(tmp_path / "stick.img", stick_tree)
    listing = _run("mdir", "-i", img, "-b", "::/cunwu/" + SCOPE).stdout.split()
    assert sorted(Path(x).name for x in listing) == ["latest", "v000001", "v000002"]
    out = tmp_path / "fromimg"
    out.mkdir()
    _run("mcopy", "-s", "-i", img, "::/cunwu", out)
    rep = stickimport.run(stickimport.plan(out, home, SCOPE), home, SCOPE)
    assert (rep.old, rep.new.seq) == (None, 2)


# ---------------------------------------------------------------- real mounts

def make_image(img: Path, tree: Path, fstype: str, loopdev) -> Path:
    """A 24 MB image of ``fstype`` holding ``tree``: FAT through mtools, exFAT and NTFS
    through their FUSE drivers mounted read-write once (mtools only speaks FAT)."""
    if fstype == "vfat":
        return make_fat_image(img, tree)
    _run("truncate", "-s", "24M", img)
    _run("mkfs.exfat" if fstype == "exfat" else "mkntfs", *(["-F", "-Q", "-q"] if fstype == "ntfs" else []), img)
    rw = img.with_suffix(".rw")
    rw.mkdir()
    dev = loopdev(img, ro=False)
    _run("mount.exfat-fuse" if fstype == "exfat" else "ntfs-3g", dev, rw)
    try:
        shutil.copytree(tree, rw, dirs_exist_ok=True)
    finally:
        _run("umount", rw)
    _run("losetup", "-d", dev)
    return img


@needs_loop
@pytest.mark.parametrize("fstype", ["vfat", "exfat", "ntfs"])
def test_mount_read_only_each_file_system(tmp_path, stick_tree, home, loopdev, fstype):
    dev = loopdev(make_image(tmp_path / f"{fstype}.img", stick_tree, fstype, loopdev))
    assert mount.probe_fstype(dev) == fstype
    with mount.mount_ro(dev, tmp_path / "media") as m:
        assert os.path.ismount(m.path)
        with pytest.raises(OSError) as ei:
            (m.path / "x").write_text("x")
        assert ei.value.errno in (errno.EROFS, errno.EACCES, errno.EPERM)
        if m.via == "fusefat":
            # fusefat (the fallback where the kernel has no vfat) shows 8.3 names in upper
            # case (CUNWU/, DATA/), so the exact-name layout check refuses such bundles;
            # kiosks mount with the kernel's vfat (shortname=mixed) first.
            assert {p.name.lower() for p in m.path.iterdir()} == {"cunwu", "old"}
            rep = None
        else:
            assert (m.path / "cunwu" / SCOPE / "v000002" / B.MANIFEST).read_bytes()[:1] == b"{"
            p = stickimport.plan(m.path, home, SCOPE)
            assert p.candidate.path == m.path / "cunwu" / SCOPE / "v000002"
            rep = stickimport.run(p, home, SCOPE)
    assert not os.path.ismount(m.path) and not m.path.exists()
    if rep is not None:
        assert (rep.old, rep.new.seq, rep.new.data_as_of) == (None, 2, "2025-05-31")


@needs_loop
def test_unreadable_stick_gives_a_clear_message(tmp_path, loopdev, home):
    img = tmp_path / "garbage.img"
    img.write_bytes(os.urandom(4 << 20))
    dev = loopdev(img)
    with pytest.raises(UnreadableStick) as ei:
        mount.mount_ro(dev, tmp_path / "media")
    assert ei.value.message_zh == "U盘格式无法识别（支持 FAT32、exFAT、NTFS），未导入，原数据不变"
    # a FAT stick whose file system is damaged (FAT and root directory zeroed)
    img2 = make_fat_image(tmp_path / "broken.img", _empty(tmp_path))
    with open(img2, "r+b") as f:
        f.seek(512)
        f.write(b"\0" * (2 << 20))
    dev2 = loopdev(img2)
    before = tree_digest(home)
    rec = Recorder()
    svc = UpdateService(rec.bus, home, watch_sticks=False, mount_base=tmp_path / "media")
    svc.stick_added(dev2).join(30)
    assert rec.names() == ["StickFound", "ImportRefused"]
    assert "未导入" in rec.events[-1].message_zh and rec.events[-1].safe_to_remove is True
    assert tree_digest(home) == before


def _empty(tmp_path: Path) -> Path:
    d = tmp_path / "empty"
    d.mkdir(exist_ok=True)
    (d / "readme.txt").write_text("nothing here")
    return d


@needs_loop
def test_stick_import_through_the_update_service(tmp_path, stick_tree, home, small_bundle, loopdev):
    assert run_cli("import", small_bundle) == 0
    dev = loopdev(make_image(tmp_path / "stick.img", stick_tree, "exfat", loopdev))
    rec = Recorder()
    svc = UpdateService(rec.bus, home, watch_sticks=False, mount_base=tmp_path / "media")
    svc.stick_added(dev).join(30)
    offer = rec.events[-1]
    assert isinstance(offer, ImportOffered) and svc.stick_state == "need_pin"
    assert (offer.plan.old.seq, offer.plan.new.seq) == (1, 2)
    assert os.path.ismount(tmp_path / "media" / Path(dev).name)
    svc.stick_install().join(60)
    done = rec.events[-1]
    assert isinstance(done, ImportDone) and done.safe_to_remove is True
    assert (done.report.old.seq, done.report.new.seq) == (1, 2)
    assert not os.path.ismount(tmp_path / "media" / Path(dev).name)
    prog = rec.of(ImportProgress)
    assert {p.phase for p in prog} == {"copy", "verify"} and {p.source for p in prog} == {"stick"}
    assert prog[-1].percent == 100 and [p.percent for p in prog] == sorted(p.percent for p in prog)
    assert I.read_state(home)["highest_seq"] == 2


@needs_loop
def test_stick_pulled_out_mid_copy(tmp_path, stick_tree, home, small_bundle, loopdev):
    assert run_cli("import", small_bundle) == 0
    dev = loopdev(make_image(tmp_path / "stick.img", stick_tree, "exfat", loopdev))
    m = mount.mount_ro(dev, tmp_path / "media")
    if m.via != "mount.exfat-fuse":
        m.unmount()
        pytest.skip("kernel exfat mount: removal is simulated by killing the FUSE driver only")
    p = stickimport.plan(m.path, home)
    before = tree_digest(home)
    pulled = []

    def pull(phase, done, total):
        if phase == "copy" and not pulled:
            pid = fuse_pid(m.path)
            os.kill(pid, signal.SIGKILL)  # the stick is gone: every read fails from now on
            pulled.append(pid)

    try:
        with pytest.raises(StickRemoved) as ei:
            stickimport.run(p, home, progress=pull)
    finally:
        assert m.unmount() is True  # a dead FUSE mount still comes down (lazily)
    assert pulled
    assert ei.value.message_zh.startswith("U盘在复制过程中被拔出或无法读取，未导入，原数据不变")
    assert tree_digest(home) == before
    assert I.read_state(home)["highest_seq"] == 1


# ---------------------------------------------------------------- full internal disk

@pytest.fixture()
def tiny_home(tmp_path, test_key, monkeypatch):
    """A KIOSK_HOME on a 40 MB tmpfs (a real file system that fills up)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    h = tmp_path / "tiny"
    h.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", h], capture_output=True).returncode:
        pytest.skip("tmpfs cannot be mounted here")
    monkeypatch.setenv("KIOSK_HOME", str(h))
    assert run_cli("trust", test_key / "signing.pub") == 0
    yield h
    subprocess.run(["umount", "-l", h], capture_output=True)


def _fill(path: Path, leave: int) -> None:
    free = shutil.disk_usage(path).free
    with open(path / "filler", "wb") as f:
        f.truncate(0)
        f.write(b"\0" * max(0, free - leave))


def test_full_disk_before_and_during_copy(tiny_home, stick_tree, small_bundle, monkeypatch):
    assert run_cli("import", small_bundle) == 0
    before = tree_digest(tiny_home / "mirror")
    _fill(tiny_home, 10 << 20)  # less than the 32 MB margin
    with pytest.raises(sync.DiskFull) as ei:
        stickimport.plan(stick_tree, tiny_home)
    assert ei.value.message_zh.startswith("终端存储空间不足")
    (tiny_home / "filler").unlink()
    p = stickimport.plan(stick_tree, tiny_home)  # enough space now
    _fill(tiny_home, 20_000)  # ...then something else fills the disk before the copy
    with pytest.raises(sync.DiskFull) as ei:
        stickimport.run(p, tiny_home)  # the install checks again before copying
    assert ei.value.message_zh.startswith("终端存储空间不足")
    monkeypatch.setattr(I, "check_free_space", lambda *a, **k: None)  # ...or fills it during the copy
    with pytest.raises(sync.DiskFull) as ei:
        stickimport.run(p, tiny_home)
    assert ei.value.message_zh == "终端存储空间已满，未导入，原数据不变"
    assert tree_digest(tiny_home / "mirror") == before
