"""Screen blanking by the clock: never during office hours, after a while untouched at night.

Runs in its own small process (``kiosk display blanking``, cunwu-kiosk-blanking.service), so
it keeps working while the app restarts or 暂停服务 shows. It sets X's screen saver and
DPMS at each change of office hours (config ``display``), and again every
:data:`REAPPLY_S` seconds in case the X server was restarted meanwhile.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from kiosk.devices import display
from kiosk.services.base import Service
from kiosk.services.events import ScreenBlankingSet

log = logging.getLogger("kiosk.services.display")

#: re-apply the current state this often (an X server restarted meanwhile forgets it)
REAPPLY_S = 600


class BlankingService(Service):
    """Keeps X's blanking in step with the office hours.

    Args:
        bus: the event bus (publishes :class:`ScreenBlankingSet` on each change).
        cfg: the config (``display`` office hours, ``timeouts.night_blank_after``).
        now: the clock (tests pass their own).
        apply: ``apply(office_open, blank_after_s) -> bool`` (tests pass their own;
            default :func:`kiosk.devices.display.apply_blanking`).
    """

    name = "display"

    def __init__(self, bus, cfg: dict, now: Callable[[], dt.datetime] | None = None,
                 apply: Callable[[bool, int], bool] | None = None):
        super().__init__(bus)
        self.hours = display.OfficeHours.from_config(cfg)
        self.blank_after_s = int(cfg["timeouts"]["night_blank_after"])
        self.now = now or (lambda: dt.datetime.now().astimezone())
        self.apply = apply or display.apply_blanking
        self.state: bool | None = None

    def start(self) -> None:
        super().start()
        self.spawn(self._run, "blanking")

    def step(self) -> float:
        """Apply the state for now if it changed (or is due again); returns how many seconds
        to wait before the next step."""
        now = self.now()
        office_open = self.hours.is_open(now)
        ok = self.apply(office_open, self.blank_after_s)
        if office_open != self.state:
            log.info("office %s: screen blanking %s", "open" if office_open else "closed",
                     "off" if office_open else f"after {self.blank_after_s} s untouched")
            self.publish(ScreenBlankingSet(office_open=office_open, ok=ok))
        self.state = office_open
        wait = (self.hours.next_change(now) - now).total_seconds()
        return max(1.0, min(wait, REAPPLY_S))

    def _run(self) -> None:
        while not self.stopping.is_set():
            try:
                wait = self.step()
            except display.DisplayError as exc:
                log.warning("%s", exc)
                wait = 30.0
            self.stopping.wait(wait)
