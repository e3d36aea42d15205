"""No key or gesture leaves the kiosk (deploy/README.md, "What the app must do"): Escape
(Android back), F1, Alt+F4, other shortcuts and every close request are refused; keys reach
a focused text field only; a second finger does nothing; a long press opens nothing; under
systemd READY follows the first frame and WATCHDOG comes from the Kivy clock."""
from __future__ import annotations

import os
import socket
import sys
import time

import pytest
from uikit import run_for, tap, until

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

ESC, F1, F4, TAB, BACKSPACE, Q = 27, 282, 285, 9, 8, 113
#: (key, scancode, modifiers): Escape, Android back (also 27), F1, Alt+F4, Ctrl+Q, Alt+Tab, Tab
KEYS = [(ESC, 41, []), (F1, 58, []), (F4, 61, ["alt"]), (Q, 20, ["ctrl"]), (TAB, 43, ["alt"]), (TAB, 43, [])]


def still_running(app, screen: str, history: list[str]) -> None:
    from kivy.base import EventLoop
    from kivy.core.window import Window

    pump(app)
    assert EventLoop.status == "started" and app.root.parent is Window
    assert app.sm.current == screen and app.history == history


def test_keys_and_close_requests_are_refused(ui):
    from kivy.core.window import Window

    ui.go("finance")
    pump(ui)
    for key, scancode, mods in KEYS:
        assert Window.dispatch("on_key_down", key, scancode, None, mods) is True, key
        assert Window.dispatch("on_keyboard", key, scancode, None, mods) is True, key
        assert Window.dispatch("on_key_up", key, scancode) in (None, False, True)
        still_running(ui, "finance", ["home"])
    assert Window.dispatch("on_request_close") is True
    assert Window.dispatch("on_request_close", source="keyboard") is True
    still_running(ui, "finance", ["home"])
    assert getattr(ui, "_app_settings", None) is None  # F1 built no settings panel
    # without the lockdown the same close request would go through (the test can fail)
    Window.unbind(on_request_close=ui._refuse_close)
    try:
        assert not Window.dispatch("on_request_close")
    finally:
        Window.bind(on_request_close=ui._refuse_close)


def test_keys_reach_a_focused_text_field_only(ui):
    """员工查找 (technician menu) types into its field; Escape still does nothing there."""
    from kivy.core.window import Window

    ui.go("technician", unlocked=True)
    pump(ui)
    tech = ui.sm.get_screen("technician")
    tap(ui, tech.ids.staff_search)
    s = ui.sm.get_screen("search")
    box = s._staff_box
    until(ui, lambda: box.focus)
    box.text = "补贴"
    box.cursor = (2, 0)
    Window.dispatch("on_key_down", BACKSPACE, 42, None, [])
    pump(ui)
    assert box.text == "补"
    assert Window.dispatch("on_key_down", ESC, 41, None, []) is True
    assert Window.dispatch("on_keyboard", ESC, 41, None, []) is True
    still_running(ui, "search", ["home", "technician"])
    assert box.text == "补"
    box.focus = False
    pump(ui)
    assert Window.dispatch("on_key_down", BACKSPACE, 42, None, []) is True
    assert box.text == "补"  # no field has the keyboard: the key goes nowhere


def test_second_finger_does_nothing(ui):
    """Two fingers: the second one's tap (on another button) does nothing; the first
    finger's tap still works."""
    from kivy.tests.common import UnitTestTouch

    home = ui.sm.get_screen("home")
    a, b = home.ids.finance, home.ids.projects
    first = UnitTestTouch(*a.to_window(*a.center))
    first.touch_down()
    pump(ui, 1)
    second = UnitTestTouch(*b.to_window(*b.center))
    second.touch_down()
    pump(ui, 1)
    second.touch_move(second.x + 40, second.y + 40)
    second.touch_up()
    pump(ui, 3)
    assert ui.sm.current == "home" and ui.history == []
    first.touch_up()
    pump(ui, 3)
    until(ui, lambda: ui.sm.current == "finance")
    assert ui.history == ["home"]
    ui.back()
    pump(ui)
    # one finger at a time: the next tap, alone, works as always
    tap(ui, b)
    until(ui, lambda: ui.sm.current == "projects")


def test_long_press_opens_nothing(ui):
    from kivy.config import Config
    from kivy.core.window import Window
    from kivy.tests.common import UnitTestTouch

    assert dict(Config.items("modules")) == {}
    children = list(Window.children)
    home = ui.sm.get_screen("home")
    x, y = Window.width // 2, Window.height - 5  # the header, no button under it
    t = UnitTestTouch(x, y)
    t.touch_down()
    run_for(1.5)  # longer than any long-press delay
    t.touch_up()
    pump(ui, 3)
    assert ui.sm.current == "home" and ui.sm.current_screen is home
    assert list(Window.children) == children
    assert not [m for m in sys.modules if m.startswith("kivy.modules.")]


@pytest.fixture()
def notify(tmp_path, monkeypatch):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(str(tmp_path / "notify"))
    s.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")  # a ping every 0.5 s
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    yield s
    s.close()


def _messages(app, sock, want: int, timeout: float = 20.0) -> list[str]:
    from kivy.base import EventLoop

    got: list[str] = []
    deadline = time.monotonic() + timeout
    while len(got) < want:
        assert time.monotonic() < deadline, got
        EventLoop.idle()
        try:
            got.append(sock.recv(4096).decode())
        except BlockingIOError:
            pass
    return got


def test_ready_after_the_first_frame_then_watchdog_from_the_clock(ui, notify):
    from kivy.clock import Clock
    from kivy.core.window import Window

    from kiosk.version import status_line

    ui._tell_systemd()  # what on_start does under systemd
    with pytest.raises(BlockingIOError):
        notify.recv(4096)  # nothing before a frame is drawn
    try:
        Window.canvas.ask_update()
        ready, ping1, ping2 = _messages(ui, notify, 3)
        assert ready.split("\n") == ["READY=1", f"STATUS={status_line()}"]
        assert ping1 == ping2 == "WATCHDOG=1"
    finally:
        Clock.unschedule(ui._watchdog_ping)


def test_outside_systemd_nothing_is_sent(ui, tmp_path, monkeypatch):
    from kivy.clock import Clock

    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    ui._tell_systemd()
    pump(ui, 3)
    assert ui._watchdog_ping not in [e.get_callback() for e in Clock.get_events()]
