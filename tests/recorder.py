"""Recording service events in tests: every event published on a bus, in order, with a
wait that ends on a condition or a deadline (never a fixed sleep)."""
from __future__ import annotations

import threading

from kiosk.services.bus import EventBus
from kiosk.services.events import Event


class Recorder:
    """Subscribes to every event on ``bus`` (made if not given) and keeps them."""

    def __init__(self, bus: EventBus | None = None):
        self.bus = bus or EventBus()
        self.events: list[Event] = []
        self._cond = threading.Condition()
        self.close = self.bus.subscribe(Event, self._add)  # close(): stop recording

    def _add(self, e: Event) -> None:
        with self._cond:
            self.events.append(e)
            self._cond.notify_all()

    def of(self, *types) -> list[Event]:
        """The events of ``types`` so far, in order."""
        with self._cond:
            return [e for e in self.events if isinstance(e, types)]

    def names(self) -> list[str]:
        with self._cond:
            return [type(e).__name__ for e in self.events]

    def last(self, *types) -> Event | None:
        found = self.of(*types)
        return found[-1] if found else None

    def wait_for(self, *types, count: int = 1, timeout: float = 30.0) -> Event:
        """Block until ``count`` events of ``types`` arrived; return the last.

        Raises:
            TimeoutError: not within ``timeout`` seconds.
        """
        with self._cond:
            ok = self._cond.wait_for(lambda: len([e for e in self.events if isinstance(e, types)]) >= count, timeout)
            if not ok:
                raise TimeoutError(f"no {count}× {[t.__name__ for t in types]} within {timeout} s; got {self.names()}")
            return [e for e in self.events if isinstance(e, types)][count - 1]
