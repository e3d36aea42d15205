"""Headless UI tests for 技术员维护 and U盘导入数据: PIN pad, progress, result, errors; touch
targets ≥ 20 mm; PNGs of every state written to the test's tmp dir (and to
$KIOSK_SHOTS if set, to look at them)."""
from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.ui

os.environ.setdefault("KIVY_NO_ARGS", "1")
os.environ.setdefault("KIVY_NO_FILELOG", "1")
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-test-"))

PIN = "246810"
SCOPE = "431382111249"


@pytest.fixture(scope="module")
def khome(tmp_path_factory, small_bundle, test_key):
    from kiosk.cache import install, keys, pin

    h = tmp_path_factory.mktemp("uihome") / "home"
    h.mkdir()
    keys.TrustStore(h).trust_first(keys.load_public(test_key / "signing.pub"))
    install.install(small_bundle, h)
    pin.set_pin("technician", PIN, home=h)
    return h


@pytest.fixture(scope="module")
def app(khome):
    """The running Kivy app (another UI test module's, or our own) with our two screens
    added and pointed at ``khome`` for the duration of this module."""
    from kiosk.app import configure_kivy

    configure_kivy(windowed=True, size=(1920, 1080))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.app import KioskApp, pump, start_headless
    from kiosk.screens.technician import TechnicianScreen
    from kiosk.screens.update import UpdateScreen
    from kiosk.updates import UpdateService

    app = App.get_running_app()
    own = app is None
    if own:
        app = KioskApp(khome)
        start_headless(app)
    Window.size = (1920, 1080)
    pump(app)
    for name, cls in (("technician", TechnicianScreen), ("update", UpdateScreen)):
        if name not in app.sm.screen_names:
            app.sm.add_widget(cls(name=name))
    saved = app.home
    app.home = khome
    app.updates = UpdateService(khome, {**app.cfg, "sync": {"base_url": "http://county.example/cunwu", "every_hours": 6}},
                                post=lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
    yield app
    app.home = saved
    app.updates = None
    if own:
        app.stop()


def pump(app, frames=3):
    from kiosk.app import pump as _pump

    _pump(app, frames=frames)


def pump_until(app, cond, timeout=10.0):
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    while not cond():
        EventLoop.idle()
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(0.005)
    pump(app)


def tap(app, widget):
    from kiosk.app import tap as _tap

    _tap(app, widget, frames=2)


def shot(app, tmp_path, name) -> Path:
    from kivy.core.window import Window

    pump(app)
    out = tmp_path / f"{name}.png"
    shutil.move(Window.screenshot(name=str(tmp_path / "s.png")), out)
    if os.environ.get("KIOSK_SHOTS"):
        Path(os.environ["KIOSK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(os.environ["KIOSK_SHOTS"]) / out.name)
    return out


def walk(w):
    yield w
    for c in w.children:
        yield from walk(c)


def shown(w) -> bool:
    from kivy.uix.screenmanager import ScreenManager

    while w is not None and not isinstance(w, ScreenManager):  # the window is its own parent
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def small_targets(app, scr) -> list[str]:
    from kivy.uix.behaviors import ButtonBehavior

    t = app.theme.target
    return [f"{getattr(w, 'text', '')!r} {w.size}" for w in walk(scr)
            if isinstance(w, ButtonBehavior) and shown(w) and not w.disabled and (w.width < t or w.height < t)]


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


def test_technician_pin_then_menu(app, khome, tmp_path):
    from kiosk.screens.update import show
    from kiosk.updates import record_sync

    show(app, "technician")
    pump(app)
    scr = app.sm.get_screen("technician")
    assert app.sm.current == "technician" and scr.state == "pin"
    assert scr.ids.pad in list(walk(scr)) and scr.ids.nopin not in list(walk(scr))
    assert not small_targets(app, scr)
    shot(app, tmp_path, "technician-pin")
    pad = scr.ids.pad
    press_pin(app, pad, "111")  # too short
    assert pad.message == "密码为6到12位数字"
    pad.clear()
    press_pin(app, pad, "111111")  # wrong
    pump_until(app, lambda: not pad.busy)
    assert pad.message == "密码错误，请重新输入" and scr.state == "pin"
    press_pin(app, pad, PIN)
    pump_until(app, lambda: scr.state == "menu")

    class R:  # what a sync recorded
        status, seq, downloaded = "installed", 2, 1234

        class install:
            old_seq, new_seq, data_as_of = 1, 2, "2025-05-31"

    record_sync(khome, R, None, now=1_700_000_000)
    scr.refresh()
    pump(app)
    assert "上次同步：2023-11-1" in scr.sync_text and "已更新：第1版 → 第2版（数据更新至 2025-05-31）" in scr.sync_text
    assert "更新服务器：http://county.example/cunwu" in scr.sync_text and "下次自动同步" in scr.sync_text
    i = app.info  # the app's own mirror (ours, or the demo village when another UI module runs first)
    assert scr.data_line == f"本机数据：{i.village_name}　第{i.seq}版　数据更新至 {i.data_as_of}　指纹 {i.fingerprint}"
    assert not small_targets(app, scr)
    shot(app, tmp_path, "technician-menu")


def test_technician_without_pin_says_how_to_set_one(app, tmp_path):
    """No technician PIN set: no pad that can never succeed, but the command to set one."""
    from kiosk.cache import pin
    from kiosk.screens.update import show

    bare = tmp_path / "bare-home"
    bare.mkdir()
    assert not pin.is_set("technician", bare)
    saved, app.home = app.home, bare
    try:
        show(app, "technician")
        pump(app)
        scr = app.sm.get_screen("technician")
        assert app.sm.current == "technician" and scr.state == "nopin"
        assert_no_pin_view(app, scr)
        shot(app, tmp_path, "technician-nopin")
        tap(app, scr.ids.nopin_home)
        assert app.sm.current in ("home", "nodata")
    finally:
        app.home = saved


def test_stick_import_screens(app, khome, tmp_path, small_bundle2_ui):
    from kiosk.cache import stickimport as importer
    from kiosk.county.publish import publish
    from kiosk.screens.update import show
    from kiosk.updates import Meter

    stick = tmp_path / "stick"
    publish(small_bundle2_ui, stick / "cunwu")
    svc = app.updates
    scr = app.sm.get_screen("update")
    events = []
    svc.on_event = lambda kind, **kw: (events.append(kind), scr.on_update_event(kind, **kw))

    show(app, "update", state="preparing")
    pump(app)
    shot(app, tmp_path, "update-preparing")
    svc.stick_added(root=stick).join(10)
    pump_until(app, lambda: "plan" in events or "error" in events)
    assert scr.state == "pin" and "第2版" in scr.detail and "第1版" in scr.detail
    assert not small_targets(app, scr)
    shot(app, tmp_path, "update-pin")

    # progress as the service reports it mid-copy (figures from a fake clock)
    t = [0.0]
    m = Meter(clock=lambda: t[0])
    m.update("copy", 0, 200_000_000)
    t[0] = 4.0
    m.update("copy", 84_000_000, 200_000_000)
    scr.set_state("installing", "正在导入，请勿拔出U盘")
    scr.safe_text, scr.safe = "请勿拔出U盘", False
    scr.on_update_event("progress", phase="copy", percent=m.percent, text=m.text())
    pump(app)
    assert scr.progress_text == "21% · 21.0 MB/s · 还需约 15 秒"
    shot(app, tmp_path, "update-progress")

    scr.set_state("pin")
    svc.stick_state = "need_pin"
    pump(app)
    press_pin(app, scr.ids.pad, PIN)
    pump_until(app, lambda: "done" in events or "error" in events)
    assert events[-1] == "done", events
    assert scr.state == "done" and scr.safe and scr.safe_text == "可以拔出U盘"
    assert "原来：第1版　数据更新至 2025-05-31" in scr.detail and "现在：第2版" in scr.detail
    labels = [w.text for w in walk(scr.ids.result) if hasattr(w, "text") and w.text]
    assert "财务收支：5 → 5 条" in [t.replace("\u00a0", " ") for t in labels], labels
    assert not small_targets(app, scr)
    shot(app, tmp_path, "update-done")

    scr.on_update_event("error", message_zh="U盘在复制过程中被拔出或无法读取，未导入，原数据不变。请重新插入U盘再试",
                        safe_to_remove=True)
    pump(app)
    assert scr.headline == "未导入" and scr.safe_text == "可以拔出U盘"
    shot(app, tmp_path, "update-error")
    tap(app, scr.ids.home_btn)
    assert app.sm.current in ("home", "nodata")
    assert importer.current_version(khome).seq == 2


def test_stick_import_without_pin_says_how_to_set_one(app, khome, tmp_path, small_src, test_key):
    """A stick with new data but no technician PIN set: not a pad that can never succeed, but
    the command to set one (as on 技术员维护), 返回/首页; leaving gives the stick back."""
    from kiosk.cache import pin
    from kiosk.county.publish import publish
    from kiosk.screens.update import show

    from conftest import build_bundle

    stick = tmp_path / "stick"  # version 3: newer than what test_stick_import_screens installs
    publish(build_bundle(small_src, test_key, 3, tmp_path / "bundle"), stick / "cunwu")
    bare = tmp_path / "bare-home"
    bare.mkdir()
    assert not pin.is_set("technician", bare)
    svc = app.updates
    scr = app.sm.get_screen("update")
    events = []
    svc.on_event = lambda kind, **kw: (events.append(kind), scr.on_update_event(kind, **kw))
    saved, app.home = app.home, bare
    try:
        show(app, "update", state="preparing")
        pump(app)
        svc.stick_added(root=stick).join(10)
        pump_until(app, lambda: "plan" in events or "error" in events)
        assert events == ["plan"], scr.detail
        assert scr.state == "nopin" and svc.stick_state == "need_pin"
        assert scr.headline.endswith("的新数据") and "U盘：第3版" in scr.detail
        assert_no_pin_view(app, scr)
        shot(app, tmp_path, "update-nopin")
        tap(app, scr.ids.nopin_home)
        assert app.sm.current in ("home", "nodata") and svc.stick_state == "idle"
    finally:
        app.home = saved


@pytest.fixture(scope="module")
def small_bundle2_ui(tmp_path_factory, small_src, test_key):
    from conftest import build_bundle

    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("uib2") / "bundle")
