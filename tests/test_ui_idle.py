"""The idle return with its 继续使用 countdown, on the fake clock: public screens return to
首页 after ``public_idle_to_home`` (90 s), a card holder's records close
``personal_idle_to_home`` (30 s) after the card was placed or the last touch; for the last
``idle_warning`` (15 s) a large 继续使用 button counts down, without moving anything."""
from __future__ import annotations

import pytest
from uikit import screen, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


def _layout(scr) -> list:
    return [(type(w).__name__, tuple(round(v) for v in w.to_window(*w.pos)), tuple(round(v) for v in w.size))
            for w in walk(scr)]


def _advance(ui, seconds: float) -> None:
    """Move the fake clock on and let the app's once-a-second timer look at it."""
    ui.test_clock.t += seconds
    ui._idle_tick()
    pump(ui)


def test_public_countdown_appears_in_the_last_15_s_and_moves_nothing(ui):
    tap(ui, screen(ui).ids.projects)
    scr = screen(ui)
    before = _layout(scr)
    warn, idle = ui.timeouts["idle_warning"], ui.timeouts["public_idle_to_home"]
    assert (warn, idle) == (15, 90)
    _advance(ui, idle - warn - 1)
    assert not ui.countdown.shown
    _advance(ui, 1.5)
    assert ui.countdown.shown and ui.countdown.seconds == 15
    assert "继续使用" in ui.countdown.ids.keep.text and "（15秒）" in ui.countdown.ids.keep.text
    assert ui.countdown.ids.what.text == "长时间没有操作\n将回到首页"
    assert min(ui.countdown.ids.keep.size) >= ui.theme.target
    assert _layout(scr) == before  # floats above the screen: nothing under a finger moved
    _advance(ui, 5)
    assert ui.countdown.seconds == 10 and ui.sm.current == "projects"
    tap(ui, ui.countdown.ids.keep)  # 继续使用
    assert not ui.countdown.shown and ui.sm.current == "projects"
    assert ui.nav.idle_seconds_left() == pytest.approx(idle, abs=0.01)


def test_a_touch_elsewhere_works_as_usual_and_ends_the_countdown(ui):
    tap(ui, screen(ui).ids.assets)
    scr = screen(ui)
    _advance(ui, ui.timeouts["public_idle_to_home"] - 10)
    assert ui.countdown.shown
    chip = next(c for c in scr.ids.kinds.children if c.value == "资源")
    tap(ui, chip)  # the tap does what it always does
    until(ui, lambda: scr.kind == "资源" and not ui.busy)
    assert not ui.countdown.shown and ui.sm.current == "assets"
    _advance(ui, 10)
    assert ui.sm.current == "assets"  # the countdown started over


def test_no_countdown_under_a_resting_finger_and_the_return_at_90_s(ui):
    from kivy.tests.common import UnitTestTouch

    tap(ui, screen(ui).ids.powers)
    lst = screen(ui).ids.list
    t = UnitTestTouch(*lst.to_window(lst.center_x, lst.center_y))
    t.touch_down()
    try:
        _advance(ui, ui.timeouts["public_idle_to_home"] - 5)
        assert not ui.countdown.shown  # a finger on the screen: nothing appears under it
    finally:
        t.touch_up()
        pump(ui)
    _advance(ui, ui.timeouts["public_idle_to_home"] - 5)
    assert ui.countdown.shown and ui.countdown.seconds == 5
    _advance(ui, 5)
    until(ui, lambda: ui.sm.current == "home")
    assert not ui.countdown.shown


def test_personal_records_close_30_s_after_the_card_was_placed(ui):
    """The README says 30 s: the card holder who placed the card 10 s after tapping
    我的查询 keeps the records 30 s from the card, not 20 (placing it counts)."""
    assert ui.timeouts["personal_idle_to_home"] == 30
    tap(ui, screen(ui).ids.mine)
    mine = screen(ui)
    _advance(ui, 10)  # finding the card
    ui.services.card.simulator.place(0)
    until(ui, lambda: mine.phase == "shown" and not ui.busy)
    _advance(ui, 14)
    assert not ui.countdown.shown
    _advance(ui, 1.5)
    assert ui.countdown.shown and ui.countdown.ids.what.text == "长时间没有操作\n将关闭您的信息"
    assert ui.countdown.seconds == 15
    _advance(ui, 14)
    assert ui.sm.current == "mine" and mine.records is not None
    _advance(ui, 1)
    until(ui, lambda: ui.sm.current == "home")
    assert mine.records is None and not ui.countdown.shown
