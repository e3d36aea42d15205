"""App packages (county build, kiosk verify) and the self-update: install into a new venv,
atomic switch, health check, rollback; each refusal leaves the software as it was; the
kiosk user's side through a stand-in for systemd. Real venvs are built from small stub
wheels; the full path with the real app runs in the booted test system (tests/deploy)."""
from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import run_cli, tree_digest

from kiosk.cache import appinstall as I
from kiosk.cache import apppackage as P
from kiosk.cache import keys as K
from kiosk.services.appupdate import AppUpdateService
from kiosk.services.bus import EventBus
from kiosk.services.events import (AppRolledBack, AppUpdateEvent, AppUpdateOffered, AppUpdateProgress,
                                   AppUpdateRefused, AppUpdateSwitching)

STUB_CLI = "def build_parser():\n    return 'parser'\n"


def make_wheel(out_dir: Path, dist: str, version: str, files: dict[str, str], tag: str = "py3-none-any",
               requires: tuple[str, ...] = ()) -> Path:
    """A minimal valid wheel (PEP 427) with a RECORD of SHA-256 hashes."""
    name = dist.replace("-", "_")
    info = f"{name}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    content = {**files, f"{info}/METADATA": meta,
               f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"}
    record = []
    for path, text in content.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{info}/RECORD,,")
    out = out_dir / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(out, "w") as z:
        for path, text in content.items():
            z.writestr(path, text)
        z.writestr(f"{info}/RECORD", "\n".join(record) + "\n")
    return out


def stub_wheels(d: Path, version: str, extra: dict[str, str] | None = None) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    make_wheel(d, "cunwu-kiosk", version, {"kiosk/__init__.py": f"__version__ = {version!r}\n",
                                           "kiosk/cli.py": STUB_CLI}, requires=("tinydep",))
    make_wheel(d, "tinydep", "1.0", {"tinydep.py": "X = 1\n"})
    for name, text in (extra or {}).items():
        (d / name).write_text(text)
    return d


@pytest.fixture(scope="module")
def keys_(tmp_path_factory):
    d = tmp_path_factory.mktemp("appkeys")
    for k in ("county-test-key", "app-test-key", "other-test-key"):
        assert run_cli("keygen", "--out", d / k) == 0
    return d


@pytest.fixture(scope="module")
def packages(tmp_path_factory, keys_):
    d = tmp_path_factory.mktemp("apppkgs")
    app = keys_ / "app-test-key" / "signing.key"
    out = {}
    for v in ("0.2.0", "0.3.0"):
        assert run_cli("app", "build", stub_wheels(d / f"w{v}", v), "--key", app, "--out", d / f"p{v}") == 0
        out[v] = d / f"p{v}"
    return out


class FakeSystemd:
    """``systemctl`` as the health check and the installer use it: ``show`` answers from
    :attr:`units`; everything else is recorded."""

    def __init__(self):
        self.calls = []
        self.units = {I.APP_UNIT: {"ActiveState": "active", "MainPID": "100", "StatusText": "cunwu-kiosk 0.1.0 运行中"},
                      I.PAUSED_UNIT: {"ActiveState": "inactive"}}

    def __call__(self, args):
        if args[0] == "show":
            u = self.units.get(args[1], {})
            return subprocess.CompletedProcess(args, 0, "".join(f"{k}={v}\n" for k, v in u.items()), "")
        self.calls.append(args)
        return subprocess.CompletedProcess(args, 0, "", "")


@pytest.fixture()
def layout(tmp_path, keys_):
    """/opt and /var/lib/cunwu-kiosk-app of a kiosk running 0.1.0, trusting the test keys."""
    opt, state = tmp_path / "opt", tmp_path / "state"
    old = opt / "venvs" / "0.1.0-aaaaaaaa"
    (old / "bin").mkdir(parents=True)
    (old / ".installed").write_text("0.1.0 aaaaaaaa\n")
    os.symlink("venvs/0.1.0-aaaaaaaa", opt / "current")
    os.symlink("venvs/0.1.0-aaaaaaaa", opt / "previous")
    state.mkdir()
    lay = I.Layout(opt, state, python=sys.executable, systemctl=FakeSystemd(), smoke=("-c", "import kiosk.cli, tinydep"))
    store = lay.trust
    store.add(K.load_public(keys_ / "county-test-key" / "signing.pub"), "county", (K.DATA,))
    store.add(K.load_public(keys_ / "app-test-key" / "signing.pub"), "app", (K.APP,))
    return lay


def test_build_and_verify(packages, keys_, capsys):
    p = packages["0.2.0"]
    doc = json.loads((p / P.MANIFEST).read_bytes())
    assert (doc["type"], doc["format"], doc["version"], doc["arch"], doc["python"]) == ("cunwu-kiosk-app", 1, "0.2.0", "any", "3")
    assert sorted(e["path"] for e in doc["files"]) == ["wheels/cunwu_kiosk-0.2.0-py3-none-any.whl",
                                                       "wheels/tinydep-1.0-py3-none-any.whl"]
    assert len((p / P.SIG).read_bytes()) == 64
    assert run_cli("app", "verify", p, "--pubkey", keys_ / "app-test-key" / "signing.pub") == 0
    assert "every file verified" in capsys.readouterr().out
    assert run_cli("app", "verify", p, "--pubkey", keys_ / "county-test-key" / "signing.pub") == 17


def test_wheel_tags():
    assert P.wheel_arch("Kivy-2.3.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl") == "aarch64"
    assert P.wheel_arch("pillow-10.4.0-cp311-cp311-manylinux_2_28_x86_64.whl") == "x86_64"
    assert P.wheel_arch("qrcode-8.2-py3-none-any.whl") == "any"
    assert P.wheel_python("cryptography-51.0.1-cp311-abi3-manylinux2014_aarch64.whl") == "3.11"
    assert P.wheel_python("six-1.17.0-py2.py3-none-any.whl") == "3"


def test_build_refuses_mixed_machines(tmp_path, keys_):
    w = stub_wheels(tmp_path / "w", "0.2.0")
    for tag in ("cp311-cp311-manylinux2014_x86_64", "cp311-cp311-manylinux2014_aarch64"):
        (w / f"fake-1.0-{tag}.whl").write_bytes(b"x")
    with pytest.raises(P.AppPackageError, match="several machines"):
        P.build(w, keys_ / "app-test-key" / "signing.key", tmp_path / "out")


def test_install_switch_and_keep(layout, packages):
    trial = I.install(packages["0.2.0"], layout)
    assert (trial["version"], trial["previous_version"]) == ("0.2.0", "0.1.0")
    cur = os.readlink(layout.opt / "current")
    assert cur.startswith("venvs/0.2.0-") and os.readlink(layout.opt / "previous") == "venvs/0.1.0-aaaaaaaa"
    py = layout.opt / cur / "bin" / "python"
    assert subprocess.run([py, "-c", "import kiosk; print(kiosk.__version__)"], capture_output=True,
                          text=True, cwd=layout.state).stdout.strip() == "0.2.0"
    assert I.current_version(layout) == "0.2.0" and I.status(layout)["trial"] == "0.2.0"
    calls = layout.systemctl.calls
    assert ["restart", "--no-block", I.APP_UNIT] in calls and ["start", "--no-block", I.HEALTH_UNIT] in calls
    # the new version comes up and stays: kept, the trial forgotten, nothing older than previous kept
    layout.systemctl.units[I.APP_UNIT] = {"ActiveState": "active", "MainPID": "200",
                                          "StatusText": "cunwu-kiosk 0.2.0 运行中"}
    t = [0.0]
    assert I.health_check(layout, timeout=60, settle=5, clock=lambda: t[0],
                          sleep=lambda s: t.__setitem__(0, t[0] + s)) == "ok"
    assert t[0] >= 5
    st = I.status(layout)
    assert st["trial"] is None and st["current"] == "0.2.0" and st["result"]["committed"] is True
    assert sorted(p.name for p in (layout.opt / "venvs").iterdir()) == ["0.1.0-aaaaaaaa", Path(cur).name]


def _refused(layout, src, needle_zh):
    before = tree_digest(layout.opt)
    with pytest.raises(P.AppPackageError) as ei:
        I.install(src, layout)
    assert needle_zh in ei.value.message_zh
    assert tree_digest(layout.opt) == before, "the software changed"
    assert not (layout.state / "trial.json").exists() and not (layout.state / "staging").exists()
    res = I.status(layout)["result"]
    assert res["ok"] is False and res["message_zh"] == ei.value.message_zh
    assert layout.systemctl.calls == []
    return ei.value


def test_tampered_package_refused(layout, packages, tmp_path):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(packages["0.2.0"], bad)
    whl = bad / "wheels" / "tinydep-1.0-py3-none-any.whl"
    data = bytearray(whl.read_bytes())
    data[100] ^= 0xFF
    whl.write_bytes(bytes(data))
    _refused(layout, bad, "已损坏或被改动")
    # a signed manifest edited to say another version
    bad2 = tmp_path / "bad2"
    shutil.copytree(packages["0.2.0"], bad2)
    m = (bad2 / P.MANIFEST).read_bytes().replace(b'"version": "0.2.0"', b'"version": "0.2.1"')
    (bad2 / P.MANIFEST).write_bytes(m)
    _refused(layout, bad2, "签名无效")


def test_extra_wheel_refused(layout, packages, tmp_path):
    """pip would take the highest version it finds: an unsigned extra wheel is refused, and
    only listed files are ever copied out of the source (so it never reaches pip)."""
    import shutil

    src = tmp_path / "extra"
    shutil.copytree(packages["0.2.0"], src)
    make_wheel(src / "wheels", "tinydep", "9.0", {"tinydep.py": "import os; os.system('id')\n"})
    pkg_copy = tmp_path / "copy"
    I._copy_listed(src, pkg_copy)
    assert not (pkg_copy / "wheels" / "tinydep-9.0-py3-none-any.whl").exists()
    pkg = P.read(src, layout.trust.keys(role=K.APP))
    with pytest.raises(P.AppPackageError, match="not in the manifest"):
        P.verify_files(pkg)


def test_unknown_key_refused(layout, keys_, tmp_path):
    p = tmp_path / "p"
    P.build(stub_wheels(tmp_path / "w", "0.2.0"), keys_ / "other-test-key" / "signing.key", p)
    _refused(layout, p, "签名密钥不受信任")
    # the data key is trusted, but not for app packages
    q = tmp_path / "q"
    P.build(stub_wheels(tmp_path / "w2", "0.2.0"), keys_ / "county-test-key" / "signing.key", q)
    _refused(layout, q, "签名密钥不受信任")


def test_older_version_refused(layout, keys_, tmp_path):
    p = tmp_path / "p"
    P.build(stub_wheels(tmp_path / "w", "0.1.0"), keys_ / "app-test-key" / "signing.key", p)
    _refused(layout, p, "不比本机的（0.1.0）新")


def test_other_machine_refused(layout, keys_, tmp_path):
    other = "aarch64" if I.machine() != "aarch64" else "x86_64"
    w = stub_wheels(tmp_path / "w", "0.2.0")
    (w / f"fakebin-1.0-cp311-cp311-manylinux2014_{other}.whl").write_bytes(b"not installed anyway")
    p = tmp_path / "p"
    P.build(w, keys_ / "app-test-key" / "signing.key", p)
    e = _refused(layout, p, f"是为 {other} 电脑制作的")
    assert I.machine() in e.message_zh


def test_symlink_in_spool_refused(layout, packages, tmp_path):
    import shutil

    spool = tmp_path / "spool"
    shutil.copytree(packages["0.2.0"], spool)
    whl = spool / "wheels" / "tinydep-1.0-py3-none-any.whl"
    whl.unlink()
    whl.symlink_to("/etc/shadow")
    _refused(layout, spool, "不完整")


def test_crash_loop_rolls_back(layout, packages):
    I.install(packages["0.2.0"], layout)
    new_venv = layout.opt / os.readlink(layout.opt / "current")
    layout.systemctl.calls.clear()
    layout.systemctl.units[I.APP_UNIT] = {"ActiveState": "failed", "MainPID": "0", "StatusText": ""}
    assert I.health_check(layout, timeout=60, settle=5, sleep=lambda s: None) == "rolled back"
    assert os.readlink(layout.opt / "current") == "venvs/0.1.0-aaaaaaaa" == os.readlink(layout.opt / "previous")
    assert not new_venv.exists()
    st = I.status(layout)
    assert st["failed"] == ["0.2.0"] and st["trial"] is None and st["result"]["rolled_back"] is True
    assert st["result"]["message_zh"] == "新版本 0.2.0 启动失败，已自动退回原版本 0.1.0"
    assert [I.APP_UNIT] == [c[-1] for c in layout.systemctl.calls if c[0] == "restart"]
    # offered again: refused, the failed version is never installed again
    layout.systemctl.calls.clear()
    _refused(layout, packages["0.2.0"], "曾启动失败并已自动退回")


def test_no_ready_within_the_deadline_rolls_back(layout, packages):
    I.install(packages["0.2.0"], layout)
    # the old version's status line stays (the new one never sent READY)
    t = [0.0]
    assert I.health_check(layout, timeout=30, settle=5, clock=lambda: t[0],
                          sleep=lambda s: t.__setitem__(0, t[0] + s)) == "rolled back"
    assert t[0] >= 30
    assert "within 30 s" in I.status(layout)["result"]["message"]


def test_health_check_without_trial_does_nothing(layout):
    assert I.health_check(layout, timeout=1, settle=1) == "nothing"


def test_key_list_in_the_package_rotates_the_app_key(layout, keys_, tmp_path):
    """The county rotates to a new app key: the package carries the key list (signed by
    the data key) that introduces it."""
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", keys_ / "county-test-key" / "signing.pub",
                   "--app-key", keys_ / "other-test-key" / "signing.pub",
                   "--key", keys_ / "county-test-key" / "signing.key", "--seq", 1, "--out", kl) == 0
    p = tmp_path / "p"
    P.build(stub_wheels(tmp_path / "w", "0.2.0"), keys_ / "other-test-key" / "signing.key", p, keylist=kl)
    I.install(p, layout)
    assert I.current_version(layout) == "0.2.0"
    assert [k.key_id for k in layout.trust.keys(role=K.APP)] == [K.key_id(K.load_public(keys_ / "other-test-key" / "signing.pub"))]


def _service(layout, home, fake_root: bool = True):
    """The kiosk user's service, with systemctl standing in for systemd: starting the
    update unit runs the root side on the spool, as the unit would."""
    fake = layout.systemctl
    svc_ref = {}

    def systemctl(args):
        if args == ["start", "cunwu-kiosk-appupdate.service"]:
            try:
                I.install(svc_ref["svc"].spool / "package", layout)
                return subprocess.CompletedProcess(args, 0, "", "")
            except P.AppPackageError:
                return subprocess.CompletedProcess(args, 1, "", "Job failed.")
        return fake(args)

    bus = EventBus()
    events = []
    bus.subscribe(AppUpdateEvent, events.append)
    svc = AppUpdateService(bus, home, layout, systemctl=systemctl)
    svc_ref["svc"] = svc
    return svc, events


def test_service_offer_and_install(layout, packages, tmp_path):
    stick = tmp_path / "stick"
    (stick / P.STICK_FOLDER).mkdir(parents=True)
    import shutil

    for v, p in packages.items():
        shutil.copytree(p, stick / P.STICK_FOLDER / v)
    svc, events = _service(layout, tmp_path / "home")
    offer = svc.offer(stick)
    assert isinstance(offer, AppUpdateOffered) and offer.new_version == "0.3.0"
    assert offer.package == stick / P.STICK_FOLDER / "0.3.0"
    assert svc.install_now(offer) is True, [e for e in events if isinstance(e, AppUpdateRefused)]
    kinds = [type(e) for e in events]
    assert kinds[0] is AppUpdateOffered and kinds[-1] is AppUpdateSwitching
    copies = [e for e in events if isinstance(e, AppUpdateProgress) and e.phase == "copy"]
    assert copies and copies[-1].percent == 99 and "MB/s" in copies[-1].text
    assert I.current_version(layout) == "0.3.0" and not svc.spool.exists()
    # now nothing on the stick is newer: one calm line, nothing offered
    events.clear()
    assert svc.offer(stick) is None
    assert [e.message_zh for e in events] == ["软件更新包的版本（0.3.0）不比本机的（0.3.0）新，无需更新"]


def test_service_reports_a_refusal_from_the_root_side(layout, packages, tmp_path):
    import shutil

    stick = tmp_path / "stick"
    shutil.copytree(packages["0.2.0"], stick / "0.2.0")  # changed below: never the shared one
    svc, events = _service(layout, tmp_path / "home")
    offer = svc.offer(stick)
    assert offer is not None
    # between the offer and the install, the package on the stick is changed
    whl = Path(offer.package) / "wheels" / "tinydep-1.0-py3-none-any.whl"
    whl.write_bytes(whl.read_bytes()[:-10])
    assert svc.install_now(offer) is False
    assert isinstance(events[-1], AppUpdateRefused) and "已损坏或被改动" in events[-1].message_zh
    assert I.current_version(layout) == "0.1.0"


def test_rollback_announced_once(layout, packages, tmp_path):
    I.install(packages["0.2.0"], layout)
    layout.systemctl.units[I.APP_UNIT]["ActiveState"] = "failed"
    I.health_check(layout, timeout=10, settle=1, sleep=lambda s: None)
    svc, events = _service(layout, tmp_path / "home")
    ev = svc.announce_rollback()
    assert isinstance(ev, AppRolledBack) and ev.failed_version == "0.2.0"
    assert "已自动退回" in ev.message_zh
    assert svc.announce_rollback() is None and len(events) == 1


def test_registry_makes_the_service(tmp_path):
    from kiosk.services.registry import Services

    s = Services(EventBus(), tmp_path, {})
    assert isinstance(s.appupdate, AppUpdateService) and s.appupdate is s.get("appupdate")
    assert s.appupdate.started is False and "appupdate" in Services.BACKGROUND
