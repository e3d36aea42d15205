"""CardWatcher: card-present / card-removed events, refused cards, forget(), and the unplug
and replug cycle. Events are awaited with threading.Event (no timed assertions)."""
from __future__ import annotations

import queue
import threading

import pytest

from kiosk.devices.idcard import CardWatcher, ReaderUnavailable, open_reader
from kiosk.devices.idcard.simulator import SimulatedReader, synthetic_cards

WAIT = 5.0  # generous guard; the simulated reader answers in microseconds


def _wait_for_requests(sim, count):
    """Block until the watcher has sent ``count`` requests in all (it polls continuously)."""
    done = threading.Event()
    while len(sim.requests) < count:
        done.wait(0.005)


class Rig:
    def __init__(self, kind="sim:serial"):
        self.sim = SimulatedReader(synthetic_cards())
        self.events: queue.Queue = queue.Queue()
        self.opens = 0
        self.kind = kind
        self.watcher = CardWatcher(self.factory, on_present=lambda c: self.events.put(("present", c)),
                                   on_removed=lambda: self.events.put(("removed", None)),
                                   on_error=lambda e: self.events.put(("error", e)),
                                   on_status=lambda s: self.events.put(("status", s)),
                                   poll_interval=0.005, backoff=(0.005, 0.02))

    def factory(self):
        if not self.sim.plugged:
            raise ReaderUnavailable("simulated reader is unplugged")
        self.opens += 1
        return open_reader(self.kind, simulator=self.sim, timeout=0.2)

    def next(self, *kinds):
        """Next event of one of ``kinds`` (other kinds are skipped)."""
        while True:
            kind, value = self.events.get(timeout=WAIT)
            if kind in kinds:
                return kind, value


@pytest.fixture(params=["sim:serial", "sim:usb-native", "sim:usb-chunked"])
def rig(request):
    r = Rig(request.param)
    r.watcher.start()
    yield r
    r.watcher.stop()


def test_present_then_removed(rig):
    assert rig.next("status") == ("status", "ready")
    rig.sim.place(2)
    kind, card = rig.next("present", "removed")
    assert kind == "present" and card.id_number.endswith("X")
    rig.sim.remove()
    assert rig.next("present", "removed") == ("removed", None)
    rig.sim.place(3)
    kind, card = rig.next("present", "removed")
    assert (kind, card.name) == ("present", "赵长期")


def test_a_card_left_on_the_reader_is_reported_once(rig):
    rig.sim.place(0)
    assert rig.next("present")[1].name == "李示例"
    n = len(rig.sim.requests)
    # let it poll a while: the watcher probes with 30 03 and never re-reads the card
    _wait_for_requests(rig.sim, n + 20)
    assert rig.events.empty() or all(k == "status" for k, _ in list(rig.events.queue))
    assert bytes.fromhex("AAAAAA9669 0003 3003 30") in rig.sim.requests[n:]


def test_refused_card_type_reports_an_error_not_a_card(rig):
    rig.sim.place(4)
    kind, err = rig.next("present", "error")
    assert kind == "error" and err.flag == "I"


def test_unplug_and_replug_cycle(rig):
    rig.sim.place(1)
    assert rig.next("present")[0] == "present"
    rig.sim.unplug()
    # the card's data goes with the reader, and the watcher says the reader is gone
    assert rig.next("present", "removed") == ("removed", None)
    assert rig.next("status") == ("status", "unavailable")
    opens = rig.opens
    rig.sim.plug()
    assert rig.next("status") == ("status", "ready")
    assert rig.opens == opens + 1
    # the same card, still lying there, is found again by the fresh reader
    kind, card = rig.next("present", "removed")
    assert (kind, card.name) == ("present", "阿依古丽·买买提艾则孜示例")


def test_forget_after_idle_does_not_reread_a_card_left_lying(rig):
    rig.sim.place(0)
    assert rig.next("present")[0] == "present"
    rig.watcher.forget()
    n = len(rig.sim.requests)
    _wait_for_requests(rig.sim, n + 20)
    assert not any(k in ("present", "removed") for k, _ in list(rig.events.queue))
    rig.sim.remove()
    rig.sim.place(3)
    assert rig.next("present")[1].name == "赵长期"


def test_reader_that_cannot_tell_removal_keeps_the_card_until_forget():
    r = Rig()
    orig = r.sim._command

    def no_30_03(cmd):
        if cmd == (0x30, 0x03):
            from kiosk.devices.idcard.simulator import status_reply
            return status_reply(0x21)  # command error: this reader has no such command
        return orig(cmd)

    r.sim._command = no_30_03
    r.watcher.start()
    try:
        r.sim.place(0)
        assert r.next("present")[0] == "present"
        r.sim.remove()
        n = len(r.sim.requests)
        _wait_for_requests(r.sim, n + 10)
        assert r.watcher.removal_detectable is False
        assert not any(k == "removed" for k, _ in list(r.events.queue))
    finally:
        r.watcher.stop()


def test_reader_refusing_an_unknown_card_reports_it_once():
    r = Rig()
    orig = r.sim._command

    def unknown_card(cmd):
        from kiosk.devices.idcard.simulator import status_reply
        if cmd == (0x30, 0x01):
            r.sim.state = "idle"  # this reader finds the card again on every poll
            return status_reply(0x40)
        return orig(cmd)

    r.sim._command = unknown_card
    r.watcher.start()
    try:
        r.sim.place(0)
        kind, err = r.next("present", "error")
        assert kind == "error" and "unknown card type" in err.message
        n = len(r.sim.requests)
        _wait_for_requests(r.sim, n + 30)
        assert not any(k == "error" for k, _ in list(r.events.queue))
    finally:
        r.watcher.stop()


def test_demo_persons_become_cards(monkeypatch):
    """With kiosk.demo_data present, the simulator serves its persons (same ID numbers as
    the demo payments); 长期 for people 46 or older at issue."""
    import datetime as dt
    import sys
    import types

    from kiosk import idnumber
    from kiosk.demo.people import DemoPerson
    from kiosk.devices.idcard.simulator import demo_cards
    from kiosk.devices.idcard.text import parse_text

    people = [DemoPerson("刘演示", "1", "01", dt.date(1950, 5, 6), idnumber.make("431382", dt.date(1950, 5, 6), 11),
                         "湖南省涟源市桥头河镇演示村一组", "一组"),
              DemoPerson("陈样例", "2", "15", dt.date(2001, 9, 30), idnumber.make("431382", dt.date(2001, 9, 30), 22),
                         "湖南省涟源市桥头河镇演示村二组", "二组")]
    fake = types.ModuleType("kiosk.demo_data")
    fake.demo_persons = lambda village_code, seed=1: people if (village_code, seed) == ("431382111249", 1) else []
    monkeypatch.setitem(sys.modules, "kiosk.demo_data", fake)
    cards = [parse_text(c.text) for c in demo_cards()]
    assert [c.id_number for c in cards] == [p.id_number for p in people]
    assert cards[0].long_term and not cards[1].long_term
    assert cards[1].nation == "土家族"
