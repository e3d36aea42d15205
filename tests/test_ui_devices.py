"""ID-card reader and printer in the running app (simulated devices): a card placed on any
screen opens 我的查询 with exactly that demo person's payments and totals; removal, 退出 and
the idle timer clear them; a refused card type and an unplugged reader give their Chinese
line; 打印 prints a decodable receipt; paper out gives the staff message and 重试 prints."""
from __future__ import annotations

import json
import os
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from recorder import Recorder
from uikit import plain, shown, tap, texts, until

from kiosk.screens.headless import pump
from kiosk.services import events as ev

pytestmark = pytest.mark.ui


@pytest.fixture()
def dev(ui):
    """The shared app, its simulated reader and printer, 我的查询, and the app's events."""
    rec = Recorder(ui.bus)
    until(ui, lambda: ui.services.background_started)
    yield ui, ui.services.card.simulator, ui.services.printer, ui.sm.get_screen("mine"), rec
    rec.close()


def _person(i):
    from kiosk.demo_data import demo_persons

    return demo_persons("431382111249", seed=1)[i]


def _payments_of(demo_source, person) -> list[dict]:
    rows = [json.loads(x) for x in (demo_source / "payments.jsonl").read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["holder_id_number"] == person.id_number]


def _money_texts(rows):
    from kiosk.formatting import money

    return {money(Decimal(r["amount"])) for r in rows}


def _shot(name, tmp_path):
    from kivy.core.window import Window

    out = Path(Window.screenshot(name=str(tmp_path / f"{name}.png")))
    if os.environ.get("KIOSK_SHOTS"):
        Path(os.environ["KIOSK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(os.environ["KIOSK_SHOTS"]) / f"{name}.png")


def _place(app, sim, mine, rec, card) -> None:
    """Place ``card`` and wait until 我的查询 shows its holder's records (or says why not)."""
    n = len(rec.of(ev.CardPresented, ev.CardRefused))
    sim.place(card)
    until(app, lambda: len(rec.of(ev.CardPresented, ev.CardRefused)) > n)
    until(app, lambda: mine.phase in ("shown", "empty") or mine.message)


def _remove(app, sim, rec) -> None:
    """Take the card away and wait until the watcher has asked the empty reader a few times
    (a card it forgot or refused goes without an event)."""
    sim.remove()
    n = len(sim.requests)
    until(app, lambda: len(sim.requests) >= n + 4)


def test_card_opens_mine_with_exactly_that_persons_payments(dev, demo_source, tmp_path):
    from kiosk.formatting import mask_name, money

    app, sim, _printer, mine, rec = dev
    app.go("finance")
    pump(app)
    _place(app, sim, mine, rec, 0)
    assert app.sm.current == "mine" and mine.phase == "shown" and mine.demo is True
    p = _person(0)
    want = _payments_of(demo_source, p)
    assert sorted(x["id"] for x in mine.records.payments) == sorted(r["id"] for r in want)
    years: dict[int, Decimal] = {}
    for r in want:
        years[int(r["paid_on"][:4])] = years.get(int(r["paid_on"][:4]), Decimal(0)) + Decimal(r["amount"])
    assert [(y.year, y.amount) for y in mine.records.years] == sorted(years.items(), reverse=True)
    shown_text = " ".join(plain(t) for t in texts(mine))
    for y, total in years.items():
        assert f"{y}年\u3000共" in shown_text and f"合计 {money(total)}" in shown_text
    for m in _money_texts(want):
        assert m in shown_text
    assert plain(mine.greeting) == f"{mask_name(p.name)}，您好"
    assert p.name not in shown_text and p.id_number not in shown_text
    _shot("mine_card", tmp_path)


def test_removal_by_the_demo_button_quit_and_idle_clear_the_records(dev, demo_source):
    app, sim, _printer, mine, rec = dev
    amounts0 = _money_texts(_payments_of(demo_source, _person(0)))
    amounts1 = _money_texts(_payments_of(demo_source, _person(1)))

    def cleared(amounts):
        text = " ".join(plain(t) for t in texts(mine))
        return not [m for m in amounts if m in text] and "您好" not in text

    # 演示：模拟取走身份证 stays on screen beside the records, full size, and removes the card
    _place(app, sim, mine, rec, 0)
    b = mine.ids.demo_remove
    from kivy.core.window import Window

    bx, by = b.to_window(b.x, b.y)
    assert mine.records is not None and shown(b) and not b.disabled and plain(b.text) == "演示：模拟取走身份证"
    assert min(b.size) >= app.theme.target
    assert bx >= 0 and by >= 0 and bx + b.width <= Window.width and by + b.height <= Window.height
    tap(app, b)
    until(app, lambda: mine.records is None and mine.phase == "prompt")
    assert cleared(amounts0) and mine.message == "身份证已取走，您的信息已关闭"

    # 退出 clears, and the card left lying there does not open it again
    _place(app, sim, mine, rec, 0)
    tap(app, mine.ids.quit)
    assert app.sm.current == "home" and cleared(amounts0)
    polls = len(sim.requests)
    until(app, lambda: len(sim.requests) >= polls + 10)  # the reader was asked ten more times
    assert app.sm.current == "home" and len(rec.of(ev.CardPresented)) == 2

    # the idle timer (30 s for a person's own records) clears them
    _remove(app, sim, rec)
    _place(app, sim, mine, rec, 1)
    assert sorted(x["id"] for x in mine.records.payments) == sorted(
        r["id"] for r in _payments_of(demo_source, _person(1)))
    app.test_clock.t += app.timeouts["personal_idle_to_home"] + 1
    until(app, lambda: app.sm.current == "home", timeout=5)
    assert cleared(amounts1)


def test_refused_card_and_unplugged_reader_messages(dev):
    from kiosk.devices.idcard.simulator import foreign_card

    app, sim, _printer, mine, rec = dev
    _place(app, sim, mine, rec, foreign_card())
    assert app.sm.current == "mine"
    assert mine.message == "这是外国人永久居留身份证，本机只能读取居民身份证" == plain(mine.ids.error.text)
    mine.message = ""
    _remove(app, sim, rec)
    sim.unplug()
    until(app, lambda: mine.reader_missing)
    assert plain(mine.ids.error.text) == "身份证读卡器未连接或已断开，请联系工作人员"
    sim.plug()
    until(app, lambda: not mine.reader_missing)


def _qr(png):
    from PIL import Image
    from pyzbar.pyzbar import decode

    return [d.data.decode() for d in decode(Image.open(png))]


def _printed(app, dlg):
    until(app, lambda: dlg.state != "printing")
    return dlg


def _close(app, dlg):
    tap(app, dlg.ids.close)
    until(app, lambda: dlg.parent is None)  # ModalView fades out before it stops taking touches


def test_print_holder_payments(dev, demo_source):
    from kiosk.formatting import amount_in_capitals, mask_name

    app, sim, printer, mine, rec = dev
    _place(app, sim, mine, rec, 0)
    tap(app, mine.ids.print_btn)
    dlg = _printed(app, app.print_dialog)
    assert dlg.state == "ok" and " ".join(plain(t) for t in texts(dlg)).count("打印完成") == 1
    p = _person(0)
    want = _payments_of(demo_source, p)
    total = sum((Decimal(r["amount"]) for r in want), Decimal(0))
    flat = "".join(printer.last_lines)
    assert amount_in_capitals(total) in flat
    assert mask_name(p.name) in flat and p.id_number not in flat and p.name not in flat
    assert _qr(printer.last_png) == [] and "扫码" not in flat  # no viewer.base_url: no QR code, no claim
    _close(app, dlg)


def test_print_finance_line_paper_out_and_retry(dev, tmp_path):
    from kiosk.formatting import amount_in_capitals

    app, _sim, printer, _mine, _rec = dev
    box = {}
    app.data.submit(lambda m: (m.finance_page(m.finance_years()[0], limit=1).rows[0]["id"], m.info),
                    lambda res: box.setdefault("r", res))
    until(app, lambda: "r" in box)
    rid, info = box["r"]
    app.go("finance")
    pump(app)
    app.go("finance_detail", id=rid)
    pump(app)
    det = app.sm.current_screen
    rec = det.record
    tap(app, det.ids.print_btn)
    dlg = _printed(app, app.print_dialog)
    assert dlg.state == "ok" and dlg.message == "打印完成，请取走小票"
    assert " ".join(plain(t) for t in texts(dlg)).count("打印完成") == 1
    flat = "".join(printer.last_lines)
    assert rec["summary"] in flat and amount_in_capitals(rec["amount"]) in flat
    # no viewer.base_url: no QR code and no claim of one; the version is printed in words
    assert _qr(printer.last_png) == [] and "扫码" not in flat and info.fingerprint in flat
    _close(app, dlg)

    # paper out → the staff message and 重试; a new roll, 重试 prints the same job
    printer.sim.paper_out = True
    tap(app, det.ids.print_btn)
    dlg = _printed(app, app.print_dialog)
    assert dlg.state == "failed" and dlg.can_retry and "纸" in dlg.message
    _shot("paper_out", tmp_path)
    printer.sim.paper_out = False
    job = dlg.job
    tap(app, dlg.ids.retry)
    _printed(app, dlg)
    assert dlg.state == "ok" and dlg.job == job and printer.last_lines and printer.last_png.exists()
    assert " ".join(plain(t) for t in texts(dlg)).count("打印完成") == 1
    _close(app, dlg)
