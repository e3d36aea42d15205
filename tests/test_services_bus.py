"""The event bus and the service base: delivery by type, order, hand-off, failures, threads."""
from __future__ import annotations

import threading

import pytest

from kiosk.services import events as E
from kiosk.services.base import Service
from kiosk.services.bus import EventBus


def test_handlers_get_their_type_and_subclasses_in_publish_order():
    bus = EventBus()
    imports, everything = [], []
    bus.subscribe(E.ImportEvent, imports.append)
    bus.subscribe(E.Event, everything.append)
    bus.publish(E.StickFound("/dev/sdb1"))
    bus.publish(E.CardRemoved())
    bus.publish(E.StickRemoved("/dev/sdb1"))
    assert imports == [E.StickFound("/dev/sdb1"), E.StickRemoved("/dev/sdb1")]
    assert [type(e).__name__ for e in everything] == ["StickFound", "CardRemoved", "StickRemoved"]


def test_unsubscribe_and_a_failing_handler_does_not_silence_the_others():
    bus = EventBus()
    got = []

    def broken(_):
        raise RuntimeError("handler bug")

    bus.subscribe(E.CardRemoved, broken)
    off = bus.subscribe(E.CardRemoved, lambda e: got.append("second"))
    bus.publish(E.CardRemoved())
    off()
    bus.publish(E.CardRemoved())
    assert got == ["second"]


def test_deferred_delivery_runs_handlers_where_the_owner_says():
    queue = []
    bus = EventBus(deliver=queue.append)  # the App: Clock.schedule_once on its main thread
    got = []
    bus.subscribe(E.ReaderLost, got.append)
    t = threading.Thread(target=lambda: bus.publish(E.ReaderLost()))
    t.start()
    t.join()
    assert got == [] and len(queue) == 1
    queue.pop()()
    assert got == [E.ReaderLost()]


def test_only_events_are_published_and_the_card_number_never_shows_in_repr():
    bus = EventBus()
    with pytest.raises(TypeError):
        bus.publish("StickFound")  # type: ignore[arg-type]

    class Card:
        id_number = "431382195001010177"  # synthetic (kiosk.idnumber.make), valid check character

        def __repr__(self):
            return f"Card({self.id_number})"

    assert "431382195001010177" not in repr(E.CardPresented(Card()))


def test_service_threads_end_on_stop_and_a_crash_is_logged_not_raised(caplog):
    class Ticker(Service):
        name = "ticker"

        def start(self):
            super().start()
            self.spawn(self._loop, "loop")
            self.spawn(self._crash, "crash")

        def _loop(self):
            while not self.stopping.wait(0.01):
                pass

        def _crash(self):
            raise ValueError("boom")

    svc = Ticker(EventBus())
    svc.start()
    threads = list(svc._threads)
    svc.stop(timeout=2)
    assert all(not t.is_alive() for t in threads)
    assert any("crash failed" in r.getMessage() for r in caplog.records)
