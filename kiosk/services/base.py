"""The shape every service has: ``start()``, ``stop()``, its own threads, events on the bus."""
from __future__ import annotations

import logging
import threading
from typing import Callable

from kiosk.services.bus import EventBus
from kiosk.services.events import Event

log = logging.getLogger("kiosk.services")


class Service:
    """Base of every service.

    A service does its slow or blocking work (I/O, USB, hashing, printing, speech) on
    threads it starts with :meth:`spawn` and reports through :meth:`publish`; it never
    calls back into the UI. ``stop()`` asks those threads to end (:attr:`stopping` is set)
    and waits for them.

    Args:
        bus: the event bus the service publishes on.
    """

    #: short name, used in thread names and logs
    name = "service"

    def __init__(self, bus: EventBus):
        self.bus = bus
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._threads_lock = threading.Lock()
        self.started = False

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start the service's background work. Idempotent. Subclasses extend it."""
        self.stopping.clear()
        self.started = True

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the service's threads to end and wait up to ``timeout`` seconds in all.
        Idempotent. Subclasses release devices after calling this."""
        self.stopping.set()
        self.started = False
        with self._threads_lock:
            threads, self._threads = self._threads, []
        for t in threads:
            if t is not threading.current_thread():
                t.join(timeout)
                if t.is_alive():
                    log.warning("%s: thread %s did not stop within %.1f s", self.name, t.name, timeout)

    # ---- helpers --------------------------------------------------------------------------
    def spawn(self, target: Callable[[], None], what: str = "") -> threading.Thread:
        """Run ``target()`` on a new daemon thread owned by this service. An exception that
        escapes ``target`` is logged (the thread ends; the service stays usable)."""

        def run() -> None:
            try:
                target()
            except Exception:  # noqa: BLE001 - logged; never kills the process
                log.exception("%s: %s failed", self.name, what or "work")

        t = threading.Thread(target=run, name=f"kiosk-{self.name}{'-' + what if what else ''}", daemon=True)
        with self._threads_lock:
            self._threads = [x for x in self._threads if x.is_alive()] + [t]
        t.start()
        return t

    def publish(self, event: Event) -> None:
        self.bus.publish(event)
