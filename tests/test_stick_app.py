"""从U盘导入 (sticks attached now) and one stick carrying data and software: the update
service keeps a stick with app packages mounted for them, the app update service looks at
them off the UI thread and never leaves half a package in its spool. The screens: see
tests/test_ui_stick_app.py."""
from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import build_bundle
# fixtures and helpers of the app package tests (keys, signed stub packages, a layout running 0.1.0)
from test_appupdate import FakeSystemd, keys_, layout, packages  # noqa: F401

from stickkit import make_stick, refused_package

from kiosk.cache import install
from kiosk.cache.keys import TrustStore, load_public
from kiosk.devices.usbstick.watcher import sticks_now
from kiosk.services import events as ev
from kiosk.services.appupdate import UNREADABLE_ZH, AppUpdateService
from kiosk.services.bus import EventBus
from kiosk.services.updates import UpdateService


def wait_for(cond, timeout: float = 30.0) -> None:
    """Until ``cond()`` holds (the service's worker thread), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        threading.Event().wait(0.01)


@pytest.fixture()
def khome(tmp_path, small_bundle, test_key):
    """A kiosk home with bundle 1 of the small village installed."""
    h = tmp_path / "home"
    h.mkdir()
    TrustStore(h).trust_first(load_public(test_key / "signing.pub"))
    install.install(small_bundle, h)
    return h


@pytest.fixture(scope="module")
def bundle2(tmp_path_factory, small_src, test_key):
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("b2") / "bundle")


def service(khome, found=()):
    bus = EventBus()
    events: list = []
    bus.subscribe(ev.Event, events.append)
    svc = UpdateService(bus, khome, {}, watch_sticks=False, sync_every_s=0, find_sticks=lambda: list(found))
    return svc, events


def kinds(events):
    return [type(e).__name__ for e in events]


def test_look_without_a_stick_says_none(khome):
    svc, events = service(khome, found=[])
    assert svc.stick_look() == "none"
    assert events == [] and svc.stick_state == "idle"


def test_look_finds_a_data_stick_and_starts_the_same_flow(khome, tmp_path, bundle2):
    stick = make_stick(tmp_path / "stick", bundle=bundle2)
    svc, events = service(khome, found=[stick])
    assert svc.stick_look() == "started"
    wait_for(lambda: svc.stick_state == "need_pin")
    assert kinds(events) == ["StickFound", "ImportOffered"]
    assert events[0].devnode == str(stick)
    offered = events[1]
    assert (offered.plan.old.seq, offered.plan.new.seq) == (1, 2) and offered.app_root is None
    # busy while it is prepared or installed: a second look starts nothing
    svc.stick_install().join(30)
    assert isinstance(events[-1], ev.ImportDone) and events[-1].safe_to_remove
    assert svc.stick_state == "done" and svc.stick_root is None


def test_look_while_an_import_runs_is_busy(khome, tmp_path, bundle2):
    stick = make_stick(tmp_path / "stick", bundle=bundle2)
    svc, _ = service(khome, found=[stick])
    svc.stick_state = "installing"
    assert svc.stick_look() == "busy"
    svc.stick_state = "app"
    assert svc.stick_look() == "busy"
    svc.stick_state, svc.syncing = "idle", True
    assert svc.stick_look() == "busy"


def test_sticks_now_scans_sysfs_without_udev():
    scan = lambda: {"/dev/sdc1": Path("/sys/x"), "/dev/sdb1": Path("/sys/y")}  # noqa: E731
    assert sticks_now(use_udev=False, scan=scan) == ["/dev/sdb1", "/dev/sdc1"]
    assert sticks_now(use_udev=False, scan=dict) == []


def test_stick_with_data_and_software_stays_mounted_for_the_software(khome, tmp_path, bundle2, packages):
    stick = make_stick(tmp_path / "stick", bundle=bundle2, app=packages["0.2.0"])
    svc, events = service(khome)
    svc.stick_added(root=stick).join(30)
    offered = events[-1]
    assert isinstance(offered, ev.ImportOffered) and offered.app_root == stick
    svc.stick_install().join(30)
    done = events[-1]
    assert isinstance(done, ev.ImportDone) and (done.report.old.seq, done.report.new.seq) == (1, 2)
    assert done.safe_to_remove is False and svc.stick_state == "held" and svc.stick_root == stick
    # the app package is copied from it: held until the app update service is through
    assert svc.stick_app_begin() == stick and svc.stick_state == "app"
    assert svc.stick_cancel() is False and svc.stick_state == "app"
    assert svc.stick_look() == "busy"
    assert svc.stick_app_end() is True
    assert svc.stick_state == "idle" and svc.stick_root is None and svc.stick_app_begin() is None


def test_software_only_stick_is_refused_for_data_but_held(khome, tmp_path, packages):
    stick = make_stick(tmp_path / "stick", app=packages["0.2.0"])
    svc, events = service(khome)
    svc.stick_added(root=stick).join(30)
    refused = events[-1]
    assert isinstance(refused, ev.ImportRefused)
    assert refused.no_bundle is True and refused.app_root == stick and refused.safe_to_remove is False
    assert refused.message_zh == "U盘上没有找到有效的数据包，未导入"
    assert svc.stick_state == "held"
    svc.stick_removed(None)  # pulled before anything was installed: given up, nothing held
    assert svc.stick_state == "idle" and svc.stick_root is None


def test_refused_data_beside_software_is_not_no_bundle(khome, tmp_path, small_bundle, packages):
    """An older bundle (not newer than the kiosk's) beside an app package: a real refusal."""
    stick = make_stick(tmp_path / "stick", bundle=small_bundle, app=packages["0.2.0"])
    svc, events = service(khome)
    svc.stick_added(root=stick).join(30)
    refused = events[-1]
    assert isinstance(refused, ev.ImportRefused) and refused.no_bundle is False and refused.app_root == stick
    assert refused.message_zh == "U盘上本村的数据包（第1版）不比本机已有的（第1版）新，无需导入"


def test_a_data_only_stick_is_given_back_as_before(khome, tmp_path, small_bundle):
    stick = make_stick(tmp_path / "stick", bundle=small_bundle)
    svc, events = service(khome)
    svc.stick_added(root=stick).join(30)
    assert isinstance(events[-1], ev.ImportRefused) and events[-1].safe_to_remove and events[-1].app_root is None
    assert svc.stick_state == "failed"


def _app_service(layout, home):  # noqa: F811 - the layout fixture's value
    bus = EventBus()
    events: list = []
    bus.subscribe(ev.AppUpdateEvent, events.append)
    return AppUpdateService(bus, home, layout, systemctl=FakeSystemd()), events


def test_look_offers_off_the_calling_thread(layout, packages, tmp_path):  # noqa: F811
    stick = make_stick(tmp_path / "stick", app=packages["0.3.0"])
    svc, events = _app_service(layout, tmp_path / "home")
    svc.look(stick).join(30)
    assert len(events) == 1 and isinstance(events[0], ev.AppUpdateOffered)
    assert (events[0].current_version, events[0].new_version) == ("0.1.0", "0.3.0")


def test_look_at_a_stick_gone_says_so(layout, tmp_path):  # noqa: F811
    svc, events = _app_service(layout, tmp_path / "home")
    svc.look(tmp_path / "gone").join(30)
    assert [(type(e), e.message_zh) for e in events] == [(ev.AppUpdateRefused, UNREADABLE_ZH)]


@pytest.mark.parametrize("why", ["older", "unknown key", "other machine"])
def test_look_refusals_say_one_line(layout, keys_, tmp_path, why):  # noqa: F811
    pkg = refused_package(tmp_path, keys_, why)
    stick = make_stick(tmp_path / "stick", app=pkg)
    svc, events = _app_service(layout, tmp_path / "home")
    svc.look(stick).join(30)
    assert len(events) == 1 and isinstance(events[0], ev.AppUpdateRefused)
    want = {"older": "软件更新包的版本（0.0.9）不比本机的（0.1.0）新，无需更新",
            "unknown key": "签名密钥不受信任",
            "other machine": "电脑制作的"}[why]
    assert want in events[0].message_zh and "\n" not in events[0].message_zh
    assert not svc.spool.exists()


def test_a_copy_that_fails_leaves_nothing_spooled(layout, packages, tmp_path):  # noqa: F811
    """The stick pulled mid-copy (a listed wheel gone): refused, the spool removed, the
    root unit never started."""
    stick = make_stick(tmp_path / "stick", app=packages["0.2.0"])
    svc, events = _app_service(layout, tmp_path / "home")
    calls = []
    svc._systemctl = lambda args: calls.append(args) or subprocess.CompletedProcess(args, 0, "", "")
    offer = svc.offer(stick)
    assert offer is not None
    next((Path(offer.package) / "wheels").glob("tinydep-*.whl")).unlink()
    assert svc.install_now(offer) is False
    assert isinstance(events[-1], ev.AppUpdateRefused)
    assert events[-1].message_zh == "从U盘复制软件更新包失败，未安装，原软件不变"
    assert not svc.spool.exists() and calls == []
