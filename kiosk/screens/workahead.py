"""Work ahead of use: while nobody taps, build the screens not built yet and prepare each
section's first page, so a tap finds its screen ready.

On this hardware (software GL) creating a screen from its kv rules costs 30-100 ms, a
section's first page 50-250 ms, and rendering its text at its first frame as much again
(docs/performance.md). One step runs at a time, only after :data:`QUIET_S` without
navigation and never while a tap waits for its data, so it never delays a person.
"""
from __future__ import annotations

import gc
import time

from kivy.clock import Clock

from kiosk.screens.predraw import predraw, predraw_done

#: seconds between two steps, and the quiet time (no navigation) a step waits for
GAP_S = 0.05
QUIET_S = 0.5


class WorkAhead:
    """The App's work ahead of use.

    Args:
        app: the KioskApp (its screen manager ``sm``, navigator ``nav``, ``busy``,
            ``holding_back`` and ``last_nav``).
        screens: the App's screen table ``[(name, module, class), ...]``.
    """

    def __init__(self, app, screens):
        self.app = app
        self.screens = screens
        self.running = False
        self._steps = iter(())

    def key(self):
        """What a warmed section shows: this data version of one village (None while a
        township/county kiosk has no village chosen)."""
        nav, info = self.app.nav, self.app.info
        if nav.state != "ready" or info is None or len(info.village_code) != 12:
            return None
        return (info.fingerprint, info.seq, info.village_code)

    def restart(self) -> None:
        """New data or another village: start over (from the next quiet moment)."""
        self._steps = self._plan()
        if not self.running:
            self.running = True
            Clock.schedule_once(self._step, GAP_S)

    def _step(self, _dt=None) -> None:
        app = self.app
        if app.holding_back or app.busy or time.monotonic() - app.last_nav < QUIET_S:
            Clock.schedule_once(self._step, GAP_S)  # never in the way of a tap
            return
        try:
            next(self._steps)
        except StopIteration:
            # Python's full (generation 2) garbage collection walked every widget of the
            # built screens: pauses of up to 140 ms at random taps. Collect now, while idle,
            # and exempt what exists from later full collections (gc.freeze).
            predraw_done()
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self.running = False
            return
        Clock.schedule_once(self._step, GAP_S)

    def _free(self, name: str) -> bool:
        """Whether screen ``name`` may be opened behind the person's back: not on screen and
        not on 返回's path."""
        nav = self.app.nav
        return name != self.app.sm.current and name != nav.current and name not in nav.history

    def _plan(self):
        """One step per ``next()`` (a step's data loads finish before the next step runs):

        1. build every screen not built yet (and its row pools, ``prebuild``);
        2. for this data version and village, open each section that ``warm_on_idle`` and
           render its text; then open one record of its first page (the last one) in its
           detail screen and render that, so the detail screen's own widgets are ready too.
        """
        sm = self.app.sm
        for name, _module, _cls in self.screens:
            if (name == "villages" and not self.app.nav.multi_village) or sm.built(name):
                continue
            scr = sm.get_screen(name)
            yield
            scr.prebuild()
            yield
        key = self.key()
        if key is None:
            return
        for scr in [s for s in sm.screens if getattr(s, "warm_on_idle", False)]:
            if scr.warmed_for == key or not self._free(scr.name):
                continue
            scr.warmed_for = key
            scr.open()
            yield  # its data arrives; Kivy lays out its labels at the next frame
            yield
            predraw(scr)
            rows = scr.record_rows()
            if not rows or not self._free(rows[-1]["target"]):
                continue
            row = rows[-1]
            detail = sm.get_screen(row["target"])
            detail.open(id=row["rec_id"])
            yield
            yield
            predraw(detail)
            yield
