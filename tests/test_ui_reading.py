"""朗读 in the shared app: what each screen of the demo village reads (its ``spoken()``),
and that reading stops on navigation, on a second tap, at idle and when a card is taken
away; a row tapped while reading is read, a second tap on it opens it.

Speech runs as in the kiosk (espeak-ng, SDL's dummy audio driver: real playback timing).
"""
from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from recorder import Recorder
from uikit import screen, tap, until

from kiosk.formatting import date_cn, money
from kiosk.services import events as ev
from kiosk.speech import synth

pytestmark = pytest.mark.ui
needs_espeak = pytest.mark.skipif(not synth.espeak_path(), reason="espeak-ng not installed")


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module")
def source(demo_source):
    return {name: _jsonl(demo_source / f"{name}.jsonl")
            for name in ("finance", "projects", "assets", "services", "powers", "payments")} | {
        "village": json.loads((demo_source / "village.json").read_text(encoding="utf-8"))}


def go(ui, name, **params):
    ui.go(name, **params)
    until(ui, lambda: ui.sm.current == name and not ui.busy)
    return screen(ui)


def said(scr) -> dict:
    """spoken() as {label: text} plus the unlabelled sentences under ""."""
    out: dict = {"": []}
    for k, v in scr.spoken():
        if k:
            out[k] = v
        else:
            out[""].append(v)
    return out


# ---------------------------------------------------------------------------------------------
# what each screen reads

def test_home_reads_the_village_and_its_sections(ui, source):
    pairs = screen(ui).spoken()
    assert pairs[0] == ("", "洪泉村村务公开")
    d = dict(pairs[1:])
    assert d["财务收支"] == f"共 {len(source['finance']):,} 条" and d["办事结果"] == f"共 {len(source['services']):,} 条"


def test_finance_reads_period_totals_and_the_rows_shown(ui, source):
    scr = go(ui, "finance")
    year = max(int(r["date"][:4]) for r in source["finance"])
    lines = [r for r in source["finance"] if r["date"].startswith(str(year))]
    inc = sum(Decimal(r["amount"]) for r in lines if r["direction"] == "income")
    exp = sum(Decimal(r["amount"]) for r in lines if r["direction"] == "expense")
    pairs = scr.spoken()
    assert pairs[:5] == [("", "财务收支"), ("", f"{year}年全年，共 {len(lines)} 笔"), ("收入", money(inc)),
                         ("支出", money(exp)), ("结余", money(inc - exp))]
    newest = max(lines, key=lambda r: (r["date"], r["voucher_no"], r["id"]))
    rest = [t for _k, t in pairs[5:]]
    assert rest[0] == newest["summary"]
    assert rest[1].startswith(f"{date_cn(newest['date'])}，") and rest[1].endswith(f"凭证号 {newest['voucher_no']}")
    assert len(rest) == 3 * len(scr.ids.list.shown_rows()) >= 9


def test_finance_detail_reads_every_field_in_order(ui, source):
    rec = next(r for r in source["finance"] if r["direction"] == "expense" and r["attachments"] > 1)
    scr = go(ui, "finance_detail", id=rec["id"])
    pairs = scr.spoken()
    assert pairs[0] == ("", "收支明细 · 支出")
    labels = [k for k, _ in pairs[1:]]
    assert labels[:12] == ["日期", "凭证号", "摘要", "收支", "金额", "科目", "科目代码", "经手人", "审核人", "审批人", "审批程序", "附件"]
    d = dict(pairs[1:])
    assert d["日期"] == date_cn(rec["date"]) and d["凭证号"] == rec["voucher_no"] and d["摘要"] == rec["summary"]
    assert d["金额"] == money(Decimal(rec["amount"]))  # once, not again in capitals
    assert d["经手人"] == rec["handler"] and d["附件"] == f"{rec['attachments']} 张"
    from kiosk.speech.normalise import normalise_fields

    text = normalise_fields(*[pairs[0][1]], pairs[1:])
    assert rec["account_code"] not in text  # account codes are not read
    assert "凭证号" in text and "元" in text


def test_project_detail_reads_stage_and_money(ui, source):
    p = source["projects"][0]
    scr = go(ui, "project_detail", id=p["id"])
    pairs = scr.spoken()
    assert pairs[0] == ("", p["name"])
    d = dict(pairs[1:])
    last = p["stages"][-1]
    assert d["当前阶段"].startswith(f"{last['stage']}，") and d["当前阶段"].endswith(date_cn(last["date"]))
    assert d["预算"] == money(Decimal(p["budget"])) and d["地点"] == p["location"]


def test_service_detail_reads_fields_then_steps(ui, source):
    s = next(x for x in source["services"] if len(x["steps"]) >= 3)
    scr = go(ui, "service_detail", id=s["id"])
    pairs = scr.spoken()
    labels = [k for k, _ in pairs]
    assert labels[1:5] == ["事项", "申请人", "村民小组", "结果"]
    d = dict(pairs[1:])
    assert d["结果"] == s["result"] and d["申请人"] != s["applicant"]  # masked, as shown
    assert d["第1步"].startswith(s["steps"][0]["step"])
    assert [k for k in labels if k.startswith("第")] == [f"第{i + 1}步" for i in range(len(s["steps"]))]


def test_asset_and_power_detail(ui, source):
    a = next(x for x in source["assets"] if x.get("reserve_price") and x.get("annual_rent"))
    d = dict(go(ui, "asset_detail", id=a["id"]).spoken()[1:])
    assert d["底价"] == money(Decimal(a["reserve_price"])) and d["年租金"] == money(Decimal(a["annual_rent"]))
    p = source["powers"][0]
    pairs = go(ui, "power_detail", id=p["id"]).spoken()
    assert pairs[0] == ("", p["name"])
    d = dict(pairs[1:])
    assert d["依据"] == p["basis"]
    assert d["办理流程"].split("，") == [s["label"] for s in p["steps"]]


@pytest.mark.parametrize("name,heading", [("projects", "全部项目，共 {projects} 个"),
                                          ("services", "全部办事结果，共 {services} 件"),
                                          ("assets", "正在看：全部资产和资源"),
                                          ("powers", "全部事项，共 {powers} 项")])
def test_list_screens_read_what_they_show(ui, source, name, heading):
    scr = go(ui, name)
    pairs = scr.spoken()
    n = {k: len(v) for k, v in source.items() if isinstance(v, list)}
    assert pairs[1] == ("", heading.format(**n))
    shown = scr.ids.list.shown_rows()
    assert shown and len(pairs) >= 2 + len(shown)
    from kiosk.screens.widgets import unrich

    assert pairs[2][1] == unrich(shown[0]["title"])


def test_mine_reads_the_holders_payments_not_the_name(ui, source):
    mine = go(ui, "mine")
    assert [t for _k, t in mine.spoken()][:2] == ["我的查询", "请把身份证放在读卡器上"]
    ui.services.card.simulator.place(0)
    until(ui, lambda: mine.phase == "shown" and not ui.busy)
    rec = mine.records
    pairs = mine.spoken()
    text = "。".join(t for _k, t in pairs)
    assert f"到户资金 共 {len(rec.payments)} 笔，合计 {money(rec.total)}" in text
    for y in rec.years:
        assert f"{y.year}年，共 {y.count} 笔，合计 {money(y.amount)}" in text
    name = rec.greeting.split("，")[0].removesuffix("您好")
    assert name and name not in text


# ---------------------------------------------------------------------------------------------
# reading starts and stops

def _start_reading(ui, rec):
    ui.toggle_reading()
    assert ui.reading
    until(ui, lambda: ui.speaker.speaking, timeout=30)
    assert rec.of(ev.SpeechChunkReady)


@needs_espeak
def test_reading_stops_on_navigation(ui):
    rec = Recorder(ui.bus)
    try:
        go(ui, "finance")
        _start_reading(ui, rec)
        chunks = rec.of(ev.SpeechChunkReady)
        assert chunks[0].spoken.startswith("财务收支")
        tap(ui, screen(ui).children[0].ids.home)
        assert ui.sm.current == "home"
        assert not ui.reading and not ui.speaker.speaking
        until(ui, lambda: rec.of(ev.SpeechStopped))
        assert rec.last(ev.SpeechStopped).utterance == chunks[0].utterance
    finally:
        rec.close()


@needs_espeak
def test_reading_stops_on_second_tap_and_on_idle(ui):
    rec = Recorder(ui.bus)
    try:
        go(ui, "projects")
        _start_reading(ui, rec)
        ui.toggle_reading()  # the second tap
        assert not ui.reading and not ui.speaker.speaking
        until(ui, lambda: rec.of(ev.SpeechStopped))
        n = len(rec.of(ev.SpeechStopped))
        _start_reading(ui, rec)
        ui.test_clock.t += ui.timeouts["public_idle_to_home"] + 1
        until(ui, lambda: ui.sm.current == "home", timeout=5)
        assert not ui.reading and not ui.speaker.speaking
        until(ui, lambda: len(rec.of(ev.SpeechStopped)) > n)
    finally:
        rec.close()


@needs_espeak
def test_reading_stops_when_the_card_is_taken_away(ui):
    rec = Recorder(ui.bus)
    try:
        mine = go(ui, "mine")
        sim = ui.services.card.simulator
        sim.place(0)
        until(ui, lambda: mine.phase == "shown" and not ui.busy)
        _start_reading(ui, rec)
        assert "到户资金" in rec.of(ev.SpeechChunkReady)[0].spoken or "我的查询" in rec.of(ev.SpeechChunkReady)[0].spoken
        sim.remove()
        until(ui, lambda: mine.phase == "prompt")
        assert not ui.reading and not ui.speaker.speaking
    finally:
        rec.close()


@needs_espeak
def test_a_row_tapped_while_reading_is_read_and_a_second_tap_opens_it(ui):
    rec = Recorder(ui.bus)
    try:
        scr = go(ui, "services")
        _start_reading(ui, rec)
        first = rec.of(ev.SpeechChunkReady)[0].utterance
        row = sorted(scr.ids.list.children[0].children, key=lambda w: -w.y)[1]
        tap(ui, row)
        assert ui.sm.current == "services" and ui.reading  # read, not opened
        until(ui, lambda: any(c.utterance > first for c in rec.of(ev.SpeechChunkReady)), timeout=30)
        new = [c for c in rec.of(ev.SpeechChunkReady) if c.utterance > first]
        from kiosk.screens.widgets import unrich

        assert new[0].spoken.startswith(unrich(row.title)[:4])
        tap(ui, row)  # the row being read: open it
        until(ui, lambda: ui.sm.current == "service_detail" and not ui.busy)
        assert screen(ui).record["id"] == row.rec_id and not ui.reading
    finally:
        rec.close()


def test_quiet_hours_say_why_nothing_is_read(ui, monkeypatch):
    # the kiosk's own speech service at 23:00 (its clock; the default quiet hours 22:00–07:00)
    monkeypatch.setattr(ui.services.speech, "_now", lambda: __import__("datetime").datetime(2026, 11, 30, 23, 0))
    try:
        ui.toggle_reading()
        until(ui, lambda: ui.notice.shown)
        assert not ui.reading
        assert ui.notice.text == "现在是休息时间（22:00—07:00），不朗读"
    finally:
        ui.notice.hide()


@pytest.mark.parametrize("name", ["home", "finance", "projects", "services", "assets", "powers", "mine",
                                  "complaints", "search", "technician"])
def test_every_screen_says_its_title_first_in_plain_text(ui, name):
    import re

    scr = go(ui, name)
    pairs = scr.spoken()
    title = scr.frame_title()
    label, said_title = pairs[0]
    assert title and label == "" and said_title in (title, re.sub(r"[\s\u3000]", "", title))  # 首页 drops the gap
    assert len(pairs) >= 2  # and something of what the screen shows
    for label, text in pairs:
        assert isinstance(text, str) and text.strip()
        assert not re.search(r"\[/?(b|size|font|color)\b", text) and "\u00a0" not in text, (label, text)
    ui.go_home()


@needs_espeak
def test_a_filter_tapped_while_reading_stops_it(ui):
    rec = Recorder(ui.bus)
    try:
        scr = go(ui, "finance")
        _start_reading(ui, rec)
        chip = next(c for c in scr.ids.years.children if c.value != scr.year)
        tap(ui, chip)
        assert not ui.reading and not ui.speaker.speaking  # what it read is no longer shown
        until(ui, lambda: scr.year == chip.value and not ui.busy)
    finally:
        rec.close()
