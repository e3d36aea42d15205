"""Switching the text size or the palette without re-rendering every screen at once.

A new theme (大字, 特大字, 高对比; ``KioskApp.set_display``) changes properties that kv rules
of every built screen are bound to (``app.theme``): every rule of every screen would be
evaluated again, every layout redone and every label rendered again before the next frame,
about a second on a software renderer, where only the screen on display has to change now.
So:

- the kv rules of screens off the window stop listening to ``app.theme`` while it changes
  (:func:`hold_offscreen_rules`); they catch up before their screen is put up
  (:func:`before_show`, called by the App) or a screen at a time while nobody taps;
- from :func:`begin` until the frame after :func:`end`, a label that is not on the window
  puts off rendering (``KLabel.texture_update`` asks :func:`defer`: the palette, and rules
  that do not read the theme, still reach it); the labels put off render a few at a time
  while nobody taps, and a screen's before it is put up.

Colours a kv rule binds to (``C.text``) follow the palette by themselves; a label that was
given no colour at all takes the palette's text colour (:func:`recolour_default_labels`),
and a screen that draws with Python code redraws in its ``restyle()``.
"""
from __future__ import annotations

import time
import weakref

from kivy.clock import Clock
from kivy.lang.builder import call_fn, delayed_call_fn, update_intermediates
from kivy.lang.parser import _handlers as _kv_bindings  # the kv bindings per widget uid and property
from kivy.uix.recyclelayout import RecycleLayout
from kivy.uix.screenmanager import Screen

#: labels created without a colour (KLabel.__init__): unless a kv rule binds their colour,
#: they take the palette's text colour
default_coloured: "weakref.WeakSet" = weakref.WeakSet()
_pending: "weakref.WeakSet" = weakref.WeakSet()
_state = {"switching": False, "old_text": None, "scheduled": False, "restyle": weakref.WeakSet()}
#: kv bindings to app.theme held back, by screen: [(callback, largs, kwargs, old uid, widget)]
_held: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_KV_CALLBACKS = (update_intermediates, call_fn, delayed_call_fn)
#: seconds of label rendering per step of the background catch-up, and the gap between steps
STEP_S = 0.02
GAP_S = 0.05


def begin(app) -> None:
    """A theme switch starts (before the App changes its ``theme`` and the palette)."""
    from kiosk.screens.palette import C

    _state["switching"] = True
    _state["old_text"] = list(C.text)


def _offscreen(w):
    """The screen ``w`` is on when that screen is not on the window, else None; also None
    inside a list (RecycleView): Kivy keeps one cache of spare rows for all lists, so a row
    may move to another screen before its own is shown again."""
    while w.parent is not None and w.parent is not w:
        w = w.parent
        if isinstance(w, RecycleLayout):
            return None
    return w if isinstance(w, Screen) else None


def _rule_widget(cb, largs):
    """The widget a kv binding to ``app.theme`` belongs to (its rule's ``self``)."""
    try:
        args = largs[5] if cb is update_intermediates else largs[0]
        w = args[4].get("self")
        return w.__self__ if w is not None else None
    except (IndexError, TypeError, AttributeError, ReferenceError):
        return None


def hold_offscreen_rules(app) -> None:
    """Before ``app.theme`` changes: unbind it from the kv rules of widgets on screens off the
    window (they are rebound and brought up to date by :func:`release`)."""
    for cb, largs, kwargs, _is_ref, uid in app.get_property_observers("theme", args=True):
        if cb not in _KV_CALLBACKS:
            continue
        w = _rule_widget(cb, largs)
        scr = _offscreen(w) if w is not None else None
        if scr is None:
            continue
        app.unbind_uid("theme", uid)
        _held.setdefault(scr, []).append((cb, largs, kwargs, uid, w))


def release(app, screen) -> None:
    """Bind ``screen``'s held kv rules to ``app.theme`` again and evaluate them for the
    theme now in force (its layout and text follow at the next frame)."""
    held = _held.pop(screen, None)
    if not held:
        return
    for cb, largs, kwargs, old_uid, w in held:
        new_uid = app.fbind("theme", cb, *largs, **kwargs)
        # the rule's record of its bindings (Builder.unbind_widget unbinds by uid)
        for bound in _kv_bindings.get(w.uid, {}).values():
            for entries in bound:
                for e in entries:
                    if len(e) == 4 and e[3] == old_uid and e[1] == "theme":
                        e[3] = new_uid
        try:
            cb(*largs, app, app.theme)
        except ReferenceError:
            pass


def held() -> int:
    """How many kv bindings wait for their screen (tests, the benchmark)."""
    return sum(len(v) for v in _held.values())


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
    """Screen ``screen`` is about to be put up: bring its rules up to date, render what it
    put off, restyle it."""
    from kivy.app import App

    release(App.get_running_app(), screen)
    if screen in _state["restyle"]:
        _state["restyle"].discard(screen)
        screen.restyle()
    for lbl in [lbl for lbl in list(_pending) if _inside(lbl, screen)]:
        _pending.discard(lbl)
        lbl.texture_update()


def render_within(widget) -> None:
    """Render now the labels put off inside ``widget`` (a list row put back into a list:
    Kivy's spare rows move between lists, RowsLayout.add_widget)."""
    if not _pending:
        return
    todo = [widget]
    while todo:  # a row is a few widgets: walk it rather than the labels put off
        w = todo.pop()
        todo.extend(w.children)
        if w in _pending:
            _pending.discard(w)
            w.texture_update()


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
    if _held:  # one screen's rules a step, then its layout and text at the next frame
        from kivy.app import App

        release(App.get_running_app(), next(iter(_held)))
        Clock.schedule_once(_catch_up, GAP_S)
        return
    while _pending and time.perf_counter() - t0 < STEP_S:
        lbl = _pending.pop()
        lbl.texture_update()
    if _pending or _held:
        Clock.schedule_once(_catch_up, GAP_S)
    else:
        _state["scheduled"] = False


def pending() -> int:
    """How many labels still wait to render their text (tests, the benchmark)."""
    return len(_pending)
