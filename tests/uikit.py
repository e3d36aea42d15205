"""Driving the shared headless app in UI tests: taps as a finger makes them, waits that end
on a condition or a deadline (never a fixed sleep), and what a person sees on a screen."""
from __future__ import annotations

import re
import time

from kiosk.screens.headless import pump


def until(app, cond, timeout: float = 20.0, frames: int = 2) -> None:
    """Run the event loop until ``cond()`` holds, then ``frames`` more frames.

    Raises:
        TimeoutError: not within ``timeout`` seconds of wall time.
    """
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        EventLoop.idle()
    pump(app, frames)


def run_for(seconds: float) -> None:
    """Let the event loop run for ``seconds`` of wall time (to show that nothing happens)."""
    from kivy.base import EventLoop

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        EventLoop.idle()


def tap(app, widget, frames: int = 3) -> None:
    """Press and release at ``widget``'s centre in window coordinates, running the loop
    between, as a finger would."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    t = UnitTestTouch(x, y)
    t.touch_down()
    pump(app, 1)
    t.touch_up()
    pump(app, frames)


def screen(app):
    return app.sm.current_screen


def walk(w):
    yield w
    for c in w.children:
        yield from walk(c)


def plain(markup: str) -> str:
    """Markup → the text a person reads (tags dropped, NBSP as space)."""
    s = re.sub(r"\[/?[a-z]+(=[^\]]*)?\]", "", markup)
    return s.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&").replace("\u00a0", " ")


def texts(root) -> list[str]:
    """Every non-empty text in ``root``'s tree (markup as is)."""
    return [w.text for w in walk(root) if isinstance(getattr(w, "text", None), str) and w.text]


def shown(w, root=None) -> bool:
    """Whether ``w`` is visible: it and its parents up to ``root`` (or the screen manager)
    have size and opacity."""
    from kivy.uix.screenmanager import ScreenManager

    while w is not None and w is not root and not isinstance(w, ScreenManager) and w is not w.parent:
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def small_targets(app, scr) -> list[str]:
    """Touchable widgets on ``scr`` smaller than the 20 mm target."""
    from kivy.uix.behaviors import ButtonBehavior

    t = app.theme.target
    return [f"{getattr(w, 'text', '')!r} {w.size}" for w in walk(scr)
            if isinstance(w, ButtonBehavior) and shown(w) and not w.disabled and (w.width < t or w.height < t)]


def show_data(app, home, patch=None, timeout: float = 30.0) -> None:
    """Make the shared app show the data installed in ``home`` (None: nothing, 尚无数据),
    through the kiosk's own path: the data service finds a new version and the app
    switches at 首页. ``patch(mirror)`` may change what is opened (e.g. its info)."""
    app.test_data.point(home, patch)
    if home is None:
        app.data.close()
        until(app, lambda: app.info is None and app.sm.current == "nodata", timeout)
        return
    want = app.test_data.expected()
    app.go_home()
    app.data.check()   # a new version is staged, then switched in at 首页
    app.data.switch()  # (the same version again: announced anew)
    until(app, lambda: app.info is not None and (app.info.fingerprint, app.info.seq) == want
          and app.sm.current in ("home", "villages"), timeout)


def drag(app, widget, dy: float, steps: int = 20, start=None, frames: int = 1, on_step=None) -> None:
    """Drag a finger over ``widget`` by ``dy`` px (positive: up, i.e. the content scrolls
    on), in ``steps`` touch moves, then hold still (five moves on the spot, as a resting
    finger reports) and lift: a slow drag, no fling. ``on_step()`` runs after each move,
    once the clock has run (the view is laid out as a person would see it)."""
    from kivy.clock import Clock
    from kivy.tests.common import UnitTestTouch

    x, y = start or widget.to_window(widget.center_x, widget.y + 10 if dy > 0 else widget.top - 10)
    t = UnitTestTouch(x, y)
    t.touch_down()
    Clock.tick()
    for i in range(1, steps + 1):
        t.touch_move(x, y + dy * i / steps)
        Clock.tick()
        if on_step is not None:
            on_step()
    for _ in range(5):
        t.touch_move(x, y + dy)
        Clock.tick()
    t.touch_up()
    pump(app, frames)
