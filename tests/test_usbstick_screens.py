"""Headless UI tests for 技术员维护 and U盘导入数据: PIN pad, progress, result, errors; touch
targets ≥ 20 mm; PNGs of every state written to the test's tmp dir (and to $KIOSK_SHOTS if
set, to look at them). The stick imports go into a kiosk home of their own (``khome``): the
shared app's update service is swapped for one that installs there."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import UI_PIN, build_bundle
from uikit import shown, small_targets, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


@pytest.fixture(scope="module")
def khome(tmp_path_factory, small_bundle, test_key):
    from kiosk.cache import install, keys

    h = tmp_path_factory.mktemp("stickhome") / "home"
    h.mkdir()
    keys.TrustStore(h).trust_first(keys.load_public(test_key / "signing.pub"))
    install.install(small_bundle, h)
    return h


@pytest.fixture()
def updates(ui, khome):
    """The shared app with an update service that imports into ``khome`` and syncs from a
    county server (never reached: no sync is started)."""
    from kiosk.services.updates import UpdateService

    cfg = {**ui.cfg, "sync": {"base_url": "http://county.example/cunwu", "every_hours": 6}}
    svc = UpdateService(ui.bus, khome, cfg, watch_sticks=False, sync_every_s=0)
    old = ui.services.replace("updates", svc)
    yield svc
    ui.services.replace("updates", old)


@pytest.fixture()
def no_pin(ui_home):
    """No technician PIN set on the shared app's home for the duration of a test."""
    pins = ui_home / "trust" / "pins.json"
    aside = pins.with_name("pins.json.aside")
    os.replace(pins, aside)
    yield
    os.replace(aside, pins)


def shot(app, tmp_path, name) -> Path:
    from kivy.core.window import Window

    pump(app)
    out = tmp_path / f"{name}.png"
    shutil.move(Window.screenshot(name=str(tmp_path / "s.png")), out)
    if os.environ.get("KIOSK_SHOTS"):
        Path(os.environ["KIOSK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(os.environ["KIOSK_SHOTS"]) / out.name)
    return out


def press_pin(app, pad, digits: str):
    keys = {w.text: w for w in pad.ids["keys"].children}
    for d in digits:
        tap(app, keys[d])
    tap(app, pad.ids["ok"])


def assert_no_pin_view(app, scr):
    """No PIN pad; the 尚未设置技术员密码 line with the command; 返回/首页 shown, full size."""
    from kiosk.screens.technician import PinPad

    tree = list(walk(scr))
    assert not [w for w in tree if isinstance(w, PinPad)]
    label = scr.ids.nopin_text
    assert label in tree and shown(label)
    assert label.text.replace("\n", "") == "尚未设置技术员密码。请技术人员在终端上运行：kiosk pin set technician"
    for b in (scr.ids.nopin_back, scr.ids.nopin_home):
        assert b in tree and shown(b) and not b.disabled
    assert scr.ids.nopin_back.text == "返回" and scr.ids.nopin_home.text == "首页"
    assert not small_targets(app, scr)


def test_corner_taps_open_the_technician_pin_pad(ui):
    """Five quick taps in the bottom-left corner, the hidden way in, from any screen."""
    from kivy.tests.common import UnitTestTouch

    ui.go("projects")
    pump(ui)
    for _ in range(5):
        t = UnitTestTouch(5, 5)
        t.touch_down()
        t.touch_up()
        pump(ui, 1)
    until(ui, lambda: ui.sm.current == "technician")
    assert ui.history == ["home", "projects"] and ui.sm.current_screen.state == "pin"
    ui.back()
    pump(ui)
    assert ui.sm.current == "projects"


def test_technician_pin_then_menu(ui, updates, khome, tmp_path):
    from kiosk.cache import pin
    from kiosk.services.updates import record_sync

    updates.start()
    ui.go("technician")
    pump(ui)
    scr = ui.sm.get_screen("technician")
    assert ui.sm.current == "technician" and scr.state == "pin"
    assert scr.ids.pad in list(walk(scr)) and scr.ids.nopin not in list(walk(scr))
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "technician-pin")
    pad = scr.ids.pad
    press_pin(ui, pad, "111")  # too short
    assert pad.message == "密码为6到12位数字"
    pad.clear()
    press_pin(ui, pad, "111111")  # wrong: says how many tries are left
    until(ui, lambda: not pad.busy)
    assert pad.message == f"密码错误，还可尝试{pin.MAX_TRIES - 1}次" and scr.state == "pin"
    press_pin(ui, pad, UI_PIN)
    until(ui, lambda: scr.state == "menu")

    class R:  # what a sync recorded
        status, seq, downloaded = "installed", 2, 1234

        class install:
            old_seq, new_seq, data_as_of = 1, 2, "2025-05-31"

    record_sync(khome, R, None, now=1_700_000_000)
    scr.refresh()
    pump(ui)
    assert "上次同步：2023-11-1" in scr.sync_text and "已更新：第1版 → 第2版（数据更新至 2025-05-31）" in scr.sync_text
    assert "更新服务器：http://county.example/cunwu" in scr.sync_text and "下次自动同步" in scr.sync_text
    i = ui.info
    assert scr.data_line == f"本机数据：{i.village_name}　第{i.seq}版　数据更新至 {i.data_as_of}　指纹 {i.fingerprint}"
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "technician-menu")


def test_technician_without_pin_says_how_to_set_one(ui, no_pin, tmp_path):
    """No technician PIN set: no pad that can never succeed, but the command to set one."""
    ui.go("technician")
    pump(ui)
    scr = ui.sm.get_screen("technician")
    assert ui.sm.current == "technician" and scr.state == "nopin"
    assert_no_pin_view(ui, scr)
    shot(ui, tmp_path, "technician-nopin")
    tap(ui, scr.ids.nopin_home)
    assert ui.sm.current == "home"


@pytest.fixture(scope="module")
def stick_bundles(tmp_path_factory, small_src, test_key):
    """Bundles 2 and 3 of the small village, each published on a stick folder of its own."""
    from kiosk.county.publish import publish

    out = {}
    for seq in (2, 3):
        d = tmp_path_factory.mktemp(f"stick{seq}")
        publish(build_bundle(small_src, test_key, seq, d / "bundle"), d / "stick" / "cunwu")
        out[seq] = d / "stick"
    return out


def test_stick_import_screens(ui, updates, khome, tmp_path, stick_bundles):
    from kiosk.cache import stickimport as importer
    from kiosk.services import events as ev
    from kiosk.services.updates import Meter

    scr = ui.sm.get_screen("update")
    updates.stick_added(root=stick_bundles[2]).join(10)
    until(ui, lambda: scr.state in ("pin", "error"))
    assert ui.sm.current == "update" and scr.state == "pin"
    assert "第2版" in scr.detail and "第1版" in scr.detail
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "update-pin")

    # progress as the service reports it mid-copy (figures from a fake clock)
    t = [0.0]
    m = Meter(clock=lambda: t[0])
    m.update("copy", 0, 200_000_000)
    t[0] = 4.0
    m.update("copy", 84_000_000, 200_000_000)
    scr.set_state("installing", "正在导入，请勿拔出U盘")
    scr.safe_text, scr.safe = "请勿拔出U盘", False
    scr.on_import_event(ev.ImportProgress("stick", "copy", m.percent, m.text(), 84_000_000, 200_000_000))
    pump(ui)
    assert scr.progress_text == "21% · 21.0 MB/s · 还需约 15 秒"
    shot(ui, tmp_path, "update-progress")

    scr.set_state("pin")
    pump(ui)
    press_pin(ui, scr.ids.pad, UI_PIN)
    until(ui, lambda: scr.state in ("done", "error"))
    assert scr.state == "done", scr.detail
    assert scr.safe and scr.safe_text == "可以拔出U盘"
    assert "原来：第1版　数据更新至 2025-05-31" in scr.detail and "现在：第2版" in scr.detail
    labels = [w.text for w in walk(scr.ids.result) if hasattr(w, "text") and w.text]
    assert "财务收支：5 → 5 条" in [x.replace("\u00a0", " ") for x in labels], labels
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "update-done")

    scr.on_import_event(ev.ImportRefused("U盘在复制过程中被拔出或无法读取，未导入，原数据不变。请重新插入U盘再试"))
    pump(ui)
    assert scr.headline == "未导入" and scr.safe_text == "可以拔出U盘"
    shot(ui, tmp_path, "update-error")
    tap(ui, scr.ids.home_btn)
    assert ui.sm.current == "home"
    assert importer.current_version(khome).seq == 2


def test_stick_pulled_while_it_is_read_goes_home(ui, updates, stick_bundles):
    """The stick taken out before the PIN: back to 首页, nothing installed, no error screen."""
    scr = ui.sm.get_screen("update")
    updates.stick_added(root=stick_bundles[3]).join(10)
    until(ui, lambda: scr.state == "pin")
    updates.stick_removed(None)
    until(ui, lambda: ui.sm.current == "home")
    assert updates.stick_state == "idle" and scr.state == "pin"


def test_stick_import_without_pin_says_how_to_set_one(ui, updates, no_pin, tmp_path, stick_bundles):
    """A stick with new data but no technician PIN set: not a pad that can never succeed, but
    the command to set one (as on 技术员维护), 返回/首页; leaving gives the stick back."""
    scr = ui.sm.get_screen("update")
    updates.stick_added(root=stick_bundles[3]).join(10)
    until(ui, lambda: scr.state in ("nopin", "pin", "error"))
    assert scr.state == "nopin" and updates.stick_state == "need_pin", scr.detail
    assert scr.headline.endswith("的新数据") and "U盘：第3版" in scr.detail
    assert_no_pin_view(ui, scr)
    shot(ui, tmp_path, "update-nopin")
    tap(ui, scr.ids.nopin_home)
    assert ui.sm.current == "home" and updates.stick_state == "idle"
