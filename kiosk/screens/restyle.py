"""Switching the text size or the palette without re-rendering every screen at once.

A new theme (大字, 特大字, 高对比; ``KioskApp.set_display``) changes properties that kv rules
of every built screen are bound to, so every label of every screen would render its text
again at the next frame: a second or more on a software renderer, where only the screen on
display has to change now. So, from :func:`begin` until the frame after :func:`end`, a label
that is not on the window puts off rendering (``KLabel.texture_update`` asks
:func:`defer`); the labels put off are rendered a few at a time while nobody taps, and a
screen's are rendered before it is put up (:func:`before_show`, called by the App).

Colours a kv rule binds to (``C.text``) follow the palette by themselves; a label that was
given no colour at all takes the palette's text colour (:func:`recolour_default_labels`),
and a screen that draws with Python code redraws in its ``restyle()``.
"""
from __future__ import annotations

import time
import weakref

from kivy.clock import Clock
from kivy.lang.parser import _handlers as _kv_bindings  # the kv bindings per widget uid and property
from kivy.uix.screenmanager import Screen

#: labels created without a colour (KLabel.__init__): unless a kv rule binds their colour,
#: they take the palette's text colour
default_coloured: "weakref.WeakSet" = weakref.WeakSet()
_pending: "weakref.WeakSet" = weakref.WeakSet()
_state = {"switching": False, "old_text": None, "scheduled": False, "restyle": weakref.WeakSet()}
#: seconds of label rendering per step of the background catch-up, and the gap between steps
STEP_S = 0.02
GAP_S = 0.05


def begin(app) -> None:
    """A theme switch starts (before the App changes its ``theme`` and the palette)."""
    from kiosk.screens.palette import C

    _state["switching"] = True
    _state["old_text"] = list(C.text)


def defer(label) -> bool:
    """Whether ``label`` should put off rendering its text: it is on a screen that is not on
    the window while a switch is under way. It is then rendered before that screen is shown
    (:func:`before_show`) or in the background. Labels outside any screen (a list's spare
    rows, pooled rows) render at once: nothing would render them before they are shown."""
    if not _state["switching"]:
        return False
    w = label
    while w.parent is not None and w.parent is not w:
        w = w.parent
    if not isinstance(w, Screen):
        return False
    _pending.add(label)
    return True


def recolour_default_labels() -> None:
    """Give every label still in the old palette's text colour, which no rule chose, the
    new palette's (called after the palette switched)."""
    from kiosk.screens.palette import C

    old, new = _state["old_text"], list(C.text)
    if old is None or old == new:
        return
    for lbl in list(default_coloured):
        # a kv rule that binds the colour (C.header_text, ...) has set it already, and
        # may have set the old text colour's value for another name: leave those alone
        if list(lbl.color) == old and "color" not in (_kv_bindings.get(lbl.uid) or {}):
            lbl.color = new


def end(app) -> None:
    """The App set the new theme: the screen on display restyles now, the others when shown;
    labels put off render in the background after the next frame."""
    cur = app.sm.current_screen if getattr(app, "sm", None) else None
    for scr in getattr(app.sm, "screens", []):
        if scr is cur:
            scr.restyle()
        else:
            _state["restyle"].add(scr)
    from kivy.core.window import Window

    # the switch lasts until the frame that shows it has been drawn: the texture updates it
    # triggers, and the ones their new sizes trigger in turn, all run before that frame
    Window.unbind(on_flip=_switched)
    Window.bind(on_flip=_switched)
    Window.canvas.ask_update()


def _switched(*_args) -> None:
    from kivy.core.window import Window

    Window.unbind(on_flip=_switched)
    _state["switching"] = False
    if not _state["scheduled"]:
        _state["scheduled"] = True
        Clock.schedule_once(_catch_up, GAP_S)


def before_show(screen) -> None:
    """Screen ``screen`` is about to be put up: render what it put off, restyle it."""
    if screen in _state["restyle"]:
        _state["restyle"].discard(screen)
        screen.restyle()
    for lbl in [lbl for lbl in list(_pending) if _inside(lbl, screen)]:
        _pending.discard(lbl)
        lbl.texture_update()


def _inside(w, root) -> bool:
    while w is not None:
        if w is root:
            return True
        p = w.parent
        if p is w:
            return False
        w = p
    return False


def _catch_up(_dt) -> None:
    if _state["switching"]:
        _state["scheduled"] = False
        return
    t0 = time.perf_counter()
    while _pending and time.perf_counter() - t0 < STEP_S:
        lbl = _pending.pop()
        lbl.texture_update()
    if _pending:
        Clock.schedule_once(_catch_up, GAP_S)
    else:
        _state["scheduled"] = False


def pending() -> int:
    """How many labels still wait to render their text (tests, the benchmark)."""
    return len(_pending)
