"""One event bus for every service.

Services call :meth:`EventBus.publish` from their own threads. The bus hands each event to
the subscribed handlers through ``deliver``: the App passes a function that runs the
delivery on the Kivy main thread (``Clock.schedule_once``), so handlers may touch widgets;
tests and the command line leave the default, which runs handlers at once in the
publishing thread.

Why our own and not a library: what is needed is twenty lines (type-based subscription and
a pluggable hand-off to the UI thread); the pub/sub packages on PyPI (blinker, pypubsub)
dispatch by name or signal object, not by event type, and add nothing for the hand-off.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable, TypeVar

from kiosk.services.events import Event

log = logging.getLogger("kiosk.services.bus")

E = TypeVar("E", bound=Event)
Deliver = Callable[[Callable[[], None]], None]


def deliver_now(fn: Callable[[], None]) -> None:
    """The default hand-off: run the handlers in the publishing thread."""
    fn()


class EventBus:
    """Type-based publish/subscribe.

    A handler subscribed to a class receives events of that class and of its subclasses
    (subscribe to :class:`~kiosk.services.events.Event` to see everything). Handlers of one
    event run in subscription order; an exception in one is logged and the others still run.
    Events are delivered in the order they were published.

    Args:
        deliver: ``deliver(fn)`` arranges for ``fn()`` to run where handlers must run (the
            App: its main thread). Default :func:`deliver_now`.
    """

    def __init__(self, deliver: Deliver | None = None):
        self._deliver: Deliver = deliver or deliver_now
        self._subs: list[tuple[type, Callable]] = []
        self._lock = threading.Lock()

    def set_delivery(self, deliver: Deliver) -> None:
        """Change the hand-off (the App sets its main-thread delivery once Kivy is up)."""
        self._deliver = deliver

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler(event)`` for every event of ``event_type``. Returns a function that
        unsubscribes it (an event already on its way is then not delivered to it)."""
        entry = (event_type, handler)
        with self._lock:
            self._subs = [*self._subs, entry]

        def unsubscribe() -> None:
            with self._lock:
                self._subs = [s for s in self._subs if s is not entry]
        return unsubscribe

    def call(self, fn: Callable[[], None]) -> None:
        """Run ``fn()`` where handlers run, after the events published before it: how a
        service hands a query's answer to the one who asked (e.g. the data service)."""
        self._deliver(fn)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to its subscribers (thread-safe; returns before they run when
        ``deliver`` defers them)."""
        if not isinstance(event, Event):
            raise TypeError(f"not an event: {event!r}")
        self._deliver(lambda: self._dispatch(event))

    def _dispatch(self, event: Event) -> None:
        with self._lock:
            subs = self._subs  # replaced, never mutated: safe to iterate outside the lock
        for event_type, handler in subs:
            if isinstance(event, event_type):
                try:
                    handler(event)
                except Exception:  # noqa: BLE001 - one faulty handler must not silence the rest
                    log.exception("handler for %s failed", type(event).__name__)
