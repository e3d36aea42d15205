"""Each service without Kivy, with simulated or fake devices: what it publishes, in order.

The services (kiosk.services) report through events on one bus; here the bus delivers in the
publishing thread and a Recorder keeps every event, so each flow is checked as a sequence of
events plus the state left behind.
"""
from __future__ import annotations

import threading
from pathlib import Path

import pytest
from conftest import build_bundle, run_cli, tree_digest
from recorder import Recorder

from kiosk.cache import install as I
from kiosk.cache.stickimport import StickRemoved as StickGone
from kiosk.navigation import Navigator
from kiosk.receipts import ViewerLink
from kiosk.services import events as E
from kiosk.services.card import CardService
from kiosk.services.data import DataService
from kiosk.services.integrity import IntegrityService
from kiosk.services.pin import PinService
from kiosk.services.printer import PrinterService
from kiosk.services.updates import UpdateService


# ---------------------------------------------------------------- ID-card reader

@pytest.fixture()
def card_service():
    rec = Recorder()
    svc = CardService(rec.bus, {"idcard": {"device": "sim"}, "timeouts": {"card_poll_interval": 0.01}},
                      backoff=(0.01, 0.05))
    svc.start()
    yield svc, rec
    svc.stop()


def test_card_presented_removed_and_the_reader_unplugged_and_replugged(card_service):
    from kiosk.devices.idcard.text import parse_text

    svc, rec = card_service
    sim = svc.simulator
    rec.wait_for(E.ReaderFound)
    placed = parse_text(sim.place(0).text)
    got = rec.wait_for(E.CardPresented)
    assert (got.card.id_number, got.card.name) == (placed.id_number, placed.name)
    sim.remove()
    rec.wait_for(E.CardRemoved)
    second = parse_text(sim.place(1).text)
    assert rec.wait_for(E.CardPresented, count=2).card.id_number == second.id_number
    sim.unplug()  # the card goes with the reader: removed first, then the reader is lost
    rec.wait_for(E.ReaderLost)
    names = rec.names()
    after = names[len(names) - names[::-1].index("CardPresented"):]
    assert after[:2] == ["CardRemoved", "ReaderLost"], names
    assert svc.available is False
    found = len(rec.of(E.ReaderFound))
    sim.plug()
    rec.wait_for(E.ReaderFound, count=found + 1)
    assert svc.available is True
    shown = "".join(map(repr, rec.events))
    assert placed.id_number not in shown and second.id_number not in shown  # no ID number in any repr


def test_a_refused_card_type_is_reported_once(card_service):
    from kiosk.devices.idcard.simulator import foreign_card

    svc, rec = card_service
    rec.wait_for(E.ReaderFound)
    svc.simulator.place(foreign_card())
    refused = rec.wait_for(E.CardRefused)
    assert "居民身份证" in refused.message_zh
    svc.simulator.remove()
    svc.simulator.place(0)
    rec.wait_for(E.CardPresented)
    assert len(rec.of(E.CardRefused)) == 1


# ---------------------------------------------------------------- printer

@pytest.fixture()
def printer(tmp_path):
    rec = Recorder()
    svc = PrinterService(rec.bus, tmp_path, {"printer": {"device": "sim", "profile": "pos58"}})
    yield svc, rec
    svc.stop()


def _receipt():
    from kiosk.devices.printer.testpage import sample_receipt

    return sample_receipt()


def test_print_done_keeps_the_simulated_receipt(printer, tmp_path):
    svc, rec = printer
    job = svc.print(_receipt())
    done = rec.wait_for(E.PrintDone)
    assert done.job == job and done.message_zh == "打印完成，请取走小票"
    assert svc.last_png is not None and svc.last_png.parent == tmp_path / "receipts" and svc.last_png.exists()
    assert any("打印测试" in line for line in svc.last_lines)


def test_paper_out_then_retry_prints_the_same_job(printer):
    svc, rec = printer
    svc.sim.paper_out = True
    job = svc.print(_receipt())
    failed = rec.wait_for(E.PrintFailed)
    assert failed.job == job and failed.retryable and "纸" in failed.message_zh
    svc.sim.paper_out = False
    assert svc.retry(job) is True
    done = rec.wait_for(E.PrintDone)
    assert done.job == job
    assert svc.retry(job) is False  # printed: nothing to retry


def test_printer_unplugged_is_a_failure_with_its_line(printer):
    svc, rec = printer
    svc.sim.unplugged = True
    job = svc.print(_receipt())
    failed = rec.wait_for(E.PrintFailed)
    assert failed.job == job and "打印机" in failed.message_zh
    svc.sim.replug()
    svc.retry(job)
    assert rec.wait_for(E.PrintDone).job == job


def test_an_unprintable_receipt_fails_without_killing_the_service(printer):
    svc, rec = printer
    job = svc.print(object())  # not a receipt: composing it fails
    assert rec.wait_for(E.PrintFailed).job == job
    job2 = svc.print(_receipt())
    assert rec.wait_for(E.PrintDone).job == job2


# ---------------------------------------------------------------- PIN

def test_pin_answers_say_why(home):
    from kiosk.cache import pin

    rec = Recorder()
    svc = PinService(rec.bus, home)
    assert svc.is_set() is False
    r0 = svc.check("technician", "123456")
    assert rec.wait_for(E.PinChecked).request == r0 and "尚未设置" in rec.events[-1].message_zh
    pin.set_pin("technician", "246810", home=home)
    r1 = svc.check("technician", "111111")
    wrong = rec.wait_for(E.PinChecked, count=2)
    assert (wrong.request, wrong.ok, wrong.tries_left) == (r1, False, pin.MAX_TRIES - 1)
    assert wrong.message_zh == f"密码错误，还可尝试{pin.MAX_TRIES - 1}次"
    r2 = svc.check("technician", "246810")
    right = rec.wait_for(E.PinChecked, count=3)
    assert (right.request, right.ok) == (r2, True)
    for i in range(pin.MAX_TRIES):
        svc.check("technician", "000000")
    locked = rec.wait_for(E.PinChecked, count=3 + pin.MAX_TRIES)
    assert locked.tries_left == 0 and not locked.ok
    svc.check("technician", "246810")
    still = rec.wait_for(E.PinChecked, count=4 + pin.MAX_TRIES)
    assert not still.ok and still.locked_seconds > 0 and "锁定" in still.message_zh
    svc.stop()


# ---------------------------------------------------------------- data and navigation

class Screens:
    """What the App would show: a fake ``show``/``reveal`` for the Navigator."""

    def __init__(self):
        self.shown: list[str] = []

    def show(self, name, params):
        self.shown.append(name)

    def reveal(self, name):
        self.shown.append(name)


@pytest.fixture()
def kiosk(home, small_bundle):
    """The data service and the Navigator wired as the App wires them, on ``home`` with the
    small village's version 1 shown at 首页; ``kiosk.t[0]`` is the idle clock."""
    assert run_cli("import", small_bundle) == 0
    rec = Recorder()
    data = DataService(rec.bus, home, poll_s=0)
    screens = Screens()
    t = [0.0]
    nav = Navigator(screens.show, screens.reveal, data.switch, data.choose_village,
                    {"public_idle_to_home": 90, "personal_idle_to_home": 30}, now=lambda: t[0])
    rec.bus.subscribe(E.DataShown, lambda e: nav.data_shown(e.info))
    rec.bus.subscribe(E.DataVersionChanged, lambda e: nav.version_waiting())
    data.start()
    assert rec.wait_for(E.DataShown).info.seq == 1 and screens.shown == ["home"]
    yield type("Kiosk", (), {"rec": rec, "data": data, "nav": nav, "screens": screens, "t": t})
    data.stop()


def test_a_new_version_waits_while_someone_reads_a_record(kiosk, small_src, test_key, tmp_path):
    rec, data, nav = kiosk.rec, kiosk.data, kiosk.nav
    nav.go("finance")
    nav.go("finance_detail", id="F0001")
    assert run_cli("import", build_bundle(small_src, test_key, 2, tmp_path / "b2")) == 0
    data.check()
    assert rec.wait_for(E.DataVersionChanged).seq == 2
    assert nav.update_waiting and nav.current == "finance_detail"
    assert len(rec.of(E.DataShown)) == 1  # nothing switched under the reader's finger
    nav.back()
    assert nav.current == "finance" and len(rec.of(E.DataShown)) == 1
    nav.back()  # 返回 reaches 首页: the safe moment
    assert rec.wait_for(E.DataShown, count=2).info.seq == 2
    assert kiosk.screens.shown[-1] == "home" and not nav.update_waiting and nav.history == []


def test_a_new_version_is_switched_in_by_the_idle_timer(kiosk, small_src, test_key, tmp_path):
    rec, data, nav, t = kiosk.rec, kiosk.data, kiosk.nav, kiosk.t
    nav.go("projects")
    assert run_cli("import", build_bundle(small_src, test_key, 2, tmp_path / "b2")) == 0
    data.check()
    rec.wait_for(E.DataVersionChanged)
    t[0] = 89.0
    assert nav.tick() is False and len(rec.of(E.DataShown)) == 1
    t[0] = 90.0
    assert nav.tick() is True
    assert rec.wait_for(E.DataShown, count=2).info.seq == 2 and nav.current == "home"


def test_navigation_rules_without_data_and_idle_times():
    screens = Screens()
    t = [0.0]
    switched = []
    nav = Navigator(screens.show, screens.reveal, lambda: switched.append(1), lambda code: None,
                    {"public_idle_to_home": 90, "personal_idle_to_home": 30}, now=lambda: t[0])
    assert nav.go("finance") is False  # starting: no data yet
    assert nav.go("technician") is True and nav.history == []  # allowed without data
    nav.data_shown(None)
    assert nav.current == "nodata" and nav.state == "nodata"
    nav.version_waiting()  # 尚无数据 is safe: switch at once
    assert switched == [1]

    class Info:
        village_code = "431382111249"

    nav.data_shown(Info())
    nav.go("mine")
    t[0] = 29.0
    assert nav.idle_seconds_left() == 1.0 and not nav.tick()
    t[0] = 30.0
    assert nav.tick() and nav.current == "home"
    nav.go("powers")
    nav.activity()
    t[0] = 119.0
    assert not nav.tick()
    t[0] = 120.0
    assert nav.tick() and nav.current == "home"


def test_viewer_link_once_per_version_shown(home, small_src, test_key, small_bundle, tmp_path):
    """The receipts' viewer link belongs to the version shown: read on the worker, it names the
    key that signed that version and follows a switch; without viewer.base_url there is none."""
    from kiosk.cache.keys import key_id, load_public

    assert run_cli("import", small_bundle) == 0
    base = "https://jiandu.example.org/cunwu"
    rec = Recorder()
    data = DataService(rec.bus, home, poll_s=0, cfg={"viewer": {"base_url": base}})
    data.start()
    assert rec.wait_for(E.DataShown).info.seq == 1
    got = []
    data.submit(lambda m: (m.info.seq, data.viewer_link), got.append)
    assert run_cli("import", build_bundle(small_src, test_key, 2, tmp_path / "b2")) == 0
    data.check()
    rec.wait_for(E.DataVersionChanged)
    data.switch()
    assert rec.wait_for(E.DataShown, count=2).info.seq == 2
    data.submit(lambda m: (m.info.seq, data.viewer_link), got.append)
    data.close()
    rec.wait_for(E.DataShown, count=3)
    data.submit(lambda m: data.viewer_link, got.append)
    done = threading.Event()
    while (data.busy or len(got) < 3) and not done.wait(0.01):
        pass
    kid = key_id(load_public(test_key / "signing.pub"))
    assert got[0] == (1, ViewerLink(base, kid)) and got[1] == (2, ViewerLink(base, kid)) and got[2] is None
    data.stop()

    plain = DataService(Recorder().bus, home, poll_s=0, cfg={"viewer": {"base_url": ""}})
    plain.start()
    seen = []
    plain.submit(lambda m: (m.info.seq, plain.viewer_link), seen.append)
    while not seen and not done.wait(0.01):
        pass
    assert seen == [(2, None)]
    plain.stop()


def test_data_job_failure_is_an_event_and_the_worker_goes_on(home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    rec = Recorder()
    data = DataService(rec.bus, home, poll_s=0)
    data.start()
    rec.wait_for(E.DataShown)
    answers = []
    data.submit(lambda m: 1 / 0, answers.append)
    data.submit(lambda m: m.info.seq, answers.append)
    rec.wait_for(E.DataJobFailed)
    deadline = threading.Event()
    while data.busy and not deadline.wait(0.01):
        pass
    assert answers == [1] and not data.busy
    data.stop()


# ---------------------------------------------------------------- USB stick

class FakeImporter:
    """Stands in for kiosk.cache.stickimport: each step waits until the test lets it go."""

    def __init__(self, monkeypatch):
        from kiosk.cache import stickimport as importer

        self.plan_go, self.run_go = threading.Event(), threading.Event()
        self.plan_started, self.run_started = threading.Event(), threading.Event()
        self.plan_error = self.run_error = None
        self.refuse_first = False
        monkeypatch.setattr(importer, "plan", self.plan)
        monkeypatch.setattr(importer, "run", self.run)

    def plan(self, where, home, scope=None):
        self.plan_started.set()
        assert self.plan_go.wait(10)
        if self.plan_error:
            raise self.plan_error
        return type("Plan", (), {"old": None, "new": None, "root": where})()

    def run(self, plan, home, scope=None, progress=None, on_refused=None):
        self.run_started.set()
        if self.refuse_first:  # the newest bundle on the stick is damaged: the next one is tried
            progress("copy", 80, 100)
            on_refused(Path("v000003"), StickGone("stand-in refusal"))
        progress("copy", 10, 100)
        assert self.run_go.wait(10)
        if self.run_error:
            raise self.run_error
        progress("verify", 100, 100)
        return "report"


@pytest.fixture()
def stick(monkeypatch, home, tmp_path):
    rec = Recorder()
    svc = UpdateService(rec.bus, home, cfg={"sync": {}, "scope": None}, watch_sticks=False, sync_every_s=0)
    return svc, rec, FakeImporter(monkeypatch), tmp_path


def test_stick_pulled_while_it_is_prepared_stays_removed(stick):
    """The race: a stick pulled during preparation used to show 'removed', then 'error', and
    the error screen came back (the worker set the state without the lock)."""
    svc, rec, imp, where = stick
    t = svc.stick_added(root=where)
    assert imp.plan_started.wait(10)
    svc.stick_removed(None)
    imp.plan_error = StickGone("read error after removal")
    imp.plan_go.set()
    t.join(10)
    assert rec.names() == ["StickFound", "StickRemoved"]
    assert svc.stick_state == "idle"
    assert svc.stick_install() is None  # nothing was offered


def test_stick_prepared_then_installed(stick):
    svc, rec, imp, where = stick
    imp.plan_go.set()
    svc.stick_added(root=where).join(10)
    assert rec.names() == ["StickFound", "ImportOffered"] and svc.stick_state == "need_pin"
    imp.run_go.set()
    svc.stick_install().join(10)
    assert rec.names() == ["StickFound", "ImportOffered", "ImportProgress", "ImportProgress", "ImportDone"]
    assert [(p.phase, p.percent) for p in rec.of(E.ImportProgress)] == [("copy", 5), ("verify", 100)]
    assert rec.last(E.ImportDone).report == "report" and svc.stick_state == "done"


def test_a_damaged_newer_bundle_restarts_the_progress_for_the_next_one(stick):
    svc, rec, imp, where = stick
    imp.plan_go.set()
    imp.run_go.set()
    imp.refuse_first = True
    svc.stick_added(root=where).join(10)
    svc.stick_install().join(10)
    assert [(p.phase, p.percent) for p in rec.of(E.ImportProgress)] == [("copy", 40), ("copy", 5), ("verify", 100)]
    assert isinstance(rec.events[-1], E.ImportDone)


@pytest.mark.parametrize("phase", ["copy", "verify"])
def test_stick_pulled_during_the_install_reports_the_refusal(stick, phase):
    """During copy or verify the install notices the pull itself (a read error): the removal is
    said, then why nothing was imported; the state ends 'failed', never half-installed."""
    svc, rec, imp, where = stick
    imp.plan_go.set()
    svc.stick_added(root=where).join(10)
    t = svc.stick_install()
    assert imp.run_started.wait(10)
    svc.stick_removed(None)
    imp.run_error = StickGone(f"pulled during {phase}")
    imp.run_go.set()
    t.join(10)
    assert rec.names()[-2:] == ["StickRemoved", "ImportRefused"]
    assert rec.last(E.ImportRefused).message_zh.startswith("U盘在复制过程中被拔出")
    assert svc.stick_state == "failed"


def test_a_second_stick_while_one_is_prepared_is_ignored(stick):
    svc, rec, imp, where = stick
    t = svc.stick_added(root=where)
    assert svc.stick_added(root=where) is None
    imp.plan_go.set()
    t.join(10)
    assert rec.names() == ["StickFound", "ImportOffered"]


# ---------------------------------------------------------------- integrity

def test_integrity_reports_each_check_and_a_fallback(home, small_src, test_key, small_bundle, tmp_path):
    assert run_cli("import", small_bundle) == 0
    assert run_cli("import", build_bundle(small_src, test_key, 2, tmp_path / "b2")) == 0
    rec = Recorder()
    svc = IntegrityService(rec.bus, home, interval=3600)
    svc.start()
    assert rec.wait_for(E.IntegrityChecked).result.status == "ok"
    st = I.read_state(home)
    db = I.mirror_dir(home) / "versions" / st["current"] / "data" / "village.sqlite"
    db.chmod(0o644)
    with open(db, "r+b") as f:
        f.seek(200)
        f.write(b"\xff")
    svc.check_now()
    problem = rec.wait_for(E.IntegrityProblem)
    assert problem.result.status == "fallback" and problem.result.seq == 1
    assert rec.of(E.IntegrityChecked)[-1].result.status == "fallback"
    svc.stop()


def test_idle_warning_in_the_last_seconds():
    screens = Screens()
    t = [0.0]
    nav = Navigator(screens.show, screens.reveal, lambda: None, lambda code: None,
                    {"public_idle_to_home": 90, "personal_idle_to_home": 30, "idle_warning": 15}, now=lambda: t[0])

    class Info:
        village_code = "431382111249"

    nav.data_shown(Info())
    assert nav.warning_seconds_left() is None  # 首页 never returns anywhere
    nav.go("finance")
    t[0] = 74.9
    assert nav.warning_seconds_left() is None
    t[0] = 75.0
    assert nav.warning_seconds_left() == 15.0
    t[0] = 89.5
    assert nav.warning_seconds_left() == 0.5 and not nav.tick()
    nav.activity()
    assert nav.warning_seconds_left() is None
    nav.go("mine")
    t[0] += 15.0
    assert nav.warning_seconds_left() == 15.0
    t[0] += 15.0
    assert nav.warning_seconds_left() is None and nav.tick() and nav.current == "home"
