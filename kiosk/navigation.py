"""Where the kiosk is, where a tap leads, and when it is safe to switch data (no Kivy).

The App hands every navigation to one :class:`Navigator` (返回, 首页, a section, a record,
a card placed, a stick plugged in, the idle timer, a new data version) and gives it two
functions: ``show(name, params)`` opens screen ``name`` with ``params`` (its data loads)
and puts it up; ``reveal(name)`` puts a screen back up as it was left (返回 does not
reload). History, the data state and the moment to switch versions are decided here, so
every rule is testable without a window.

Rules:

* Without data (尚无数据, or while starting) only the screens in :data:`WITHOUT_DATA` open:
  the technician menu and the stick import.
* A new data version is switched in only where nobody is in the middle of something: on
  首页 or 尚无数据, when 首页 is chosen or 返回 reaches it, or when the idle timer fires.
* A screen left alone returns to the kiosk's resting screen (首页; the village picker on a
  township or county kiosk) after ``public_idle_to_home`` seconds, a person's own records
  (:data:`PERSONAL`) after ``personal_idle_to_home``, counted from the last activity: a
  touch, a card placed or taken away, a person's records appearing, the end of 朗读.
  For the last ``idle_warning`` seconds the App shows 继续使用 with a countdown
  (:meth:`Navigator.warning_seconds_left`).
"""
from __future__ import annotations

import time
from typing import Any, Callable

#: screens that may open while no data is shown
WITHOUT_DATA = frozenset({"technician", "update"})
#: screens that show one person's records: they close sooner when left alone
PERSONAL = frozenset({"mine"})


class Navigator:
    """The kiosk's one navigation path.

    Args:
        show: ``show(name, params)``: open screen ``name`` with ``params`` and put it up.
        reveal: ``reveal(name)``: put screen ``name`` up again as it was left.
        switch_data: ask for the waiting data version (the data service's ``switch``;
            its answer comes back as :meth:`data_shown`).
        choose_village: ``choose_village(None)`` on a township/county kiosk: every village
            again (answer: :meth:`village_chosen`).
        timeouts: the config's timeout table (``public_idle_to_home``, ``personal_idle_to_home``,
            ``idle_warning``, seconds).
        now: monotonic clock in seconds (tests advance a fake one).

    Attributes:
        state: ``starting`` | ``nodata`` | ``ready``.
        current: the screen shown (or being put up).
        history: the screens 返回 leads back to, oldest first.
        update_waiting: a newer data version waits for a safe moment.
        multi_village: the data covers a township or county (the village picker is the
            resting screen).
    """

    def __init__(self, show: Callable[[str, dict], None], reveal: Callable[[str], None],
                 switch_data: Callable[[], None], choose_village: Callable[[str | None], None],
                 timeouts: dict[str, float], now: Callable[[], float] = time.monotonic):
        self._show, self._reveal = show, reveal
        self._switch_data, self._choose_village = switch_data, choose_village
        self.timeouts = timeouts
        self.now = now
        self.state = "starting"
        self.current = "nodata"
        self.history: list[str] = []
        self.update_waiting = False
        self.multi_village = False
        self.last_activity = now()

    # ---- data -----------------------------------------------------------------------------
    def data_shown(self, info: Any) -> None:
        """The data shown changed (first open, switch, nothing trusted left): start over at
        首页, the village picker, or 尚无数据 (``info`` None)."""
        self.update_waiting = False
        self.history.clear()
        if info is None:
            self.state = "nodata"
            self.multi_village = False
            self._display("nodata")
            return
        self.state = "ready"
        self.multi_village = len(info.village_code) != 12
        self._display("villages" if self.multi_village else "home")

    def village_chosen(self, info: Any) -> None:
        """A township/county kiosk chose a village (首页 of that village, 返回 leads back to
        the picker) or went back to its picker."""
        if len(info.village_code) == 12:
            self.history[:] = ["villages"]
            self._display("home")
        else:
            self.history.clear()
            self._display("villages")

    def version_waiting(self) -> None:
        """A newer data version is ready: switch now if nobody is using the kiosk's data
        (首页, 尚无数据), else at the next safe moment."""
        self.update_waiting = True
        if self.current in ("home", "nodata"):
            self._switch()

    # ---- taps -----------------------------------------------------------------------------
    def go(self, name: str, **params: Any) -> bool:
        """Open screen ``name`` (返回 comes back here). False when it may not open now."""
        if self.state != "ready" and name not in WITHOUT_DATA:
            return False
        if self.state == "ready":  # without data 返回 leads to 尚无数据 (首页's place)
            self.history.append(self.current)
        self._display(name, params)
        return True

    def back(self) -> None:
        """返回: the previous screen as it was, or 首页."""
        if not self.history:
            self.home()
            return
        prev = self.history.pop()
        self.current = prev
        self._reveal(prev)
        if prev == "home" and self.update_waiting:
            self._switch()

    def home(self) -> None:
        """首页 (or 尚无数据): also the moment to switch to a waiting data version."""
        self.history.clear()
        if self.update_waiting:
            self._switch()
            return
        self._display("home" if self.state == "ready" else "nodata")

    def villages(self) -> None:
        """换村 (township/county kiosk): back to the village picker over every village."""
        self.history.clear()
        if self.update_waiting:
            self._switch()  # the new version opens on the picker itself
            return
        self._choose_village(None)

    # ---- idle -----------------------------------------------------------------------------
    def activity(self) -> None:
        """A touch, a key, an import in progress: the person is still there."""
        self.last_activity = self.now()

    @property
    def resting(self) -> str:
        return "villages" if self.multi_village else "home"

    def idle_seconds_left(self) -> float | None:
        """Seconds until the idle timer returns to the resting screen (None: it will not)."""
        if self.state != "ready" or self.current == self.resting:
            return None
        key = "personal_idle_to_home" if self.current in PERSONAL else "public_idle_to_home"
        return float(self.timeouts[key]) - (self.now() - self.last_activity)

    def warning_seconds_left(self) -> float | None:
        """Seconds left while the 继续使用 countdown should show (the last ``idle_warning``
        seconds before the idle return), else None."""
        left = self.idle_seconds_left()
        warn = float(self.timeouts.get("idle_warning", 15))
        if left is None or left <= 0 or left > warn:
            return None
        return left

    def tick(self) -> bool:
        """Call about once a second: returns to the resting screen when the person has
        left. True when it did."""
        left = self.idle_seconds_left()
        if left is None or left > 0:
            return False
        self.last_activity = self.now()
        self.villages() if self.multi_village else self.home()
        return True

    # ---- helpers --------------------------------------------------------------------------
    def _switch(self) -> None:
        self.update_waiting = False
        self._switch_data()

    def _display(self, name: str, params: dict | None = None) -> None:
        self.current = name
        self._show(name, params or {})
