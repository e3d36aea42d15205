"""监督提示 on the screens, in the shared headless app: each planted demo case in a 请关注 box
on its record's screen with its figures; the count on 首页 and the village's own flag; every
entry of the 监督提示 section opens its record; 本县规则 lists every rule; a revision-1 bundle
says it has no flags; the question slip printed and decoded; the receipts' QR codes with and
without ``viewer.base_url``; 监督投诉's QR codes decoded from the screen; 朗读 reads the boxes."""
from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest
from conftest import DEMO_VILLAGE
from uikit import plain, screen, show_data, tap, texts, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

BASE = "https://jiandu.example.org/cunwu"
SCREEN_OF = {"finance": "finance_detail", "projects": "project_detail", "assets": "asset_detail",
             "services": "service_detail"}


def flat(s: str) -> str:
    """What a person reads, without the line breaks and spaces a layout adds."""
    return plain(s).replace("\n", "").replace(" ", "")


def shown_text(root) -> str:
    return flat("".join(texts(root)))


def ask(app, fn):
    """``fn(mirror)`` on the data worker; its answer."""
    box = {}
    app.data.submit(fn, lambda r: box.setdefault("r", r))
    until(app, lambda: "r" in box)
    return box["r"]


def all_flags(m) -> list[dict]:
    out, after = [], None
    while True:
        page = m.flags_page(after=after, limit=100)
        out += page.rows
        if page.next is None:
            return out
        after = page.next


@pytest.fixture(scope="module")
def planted(demo_source) -> list[tuple[str, str, str]]:
    """(kind, record id, rule id) of every case the demo data plants in a record."""
    out = []
    for kind in SCREEN_OF:
        for line in (demo_source / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            if rec.get("demo_planted"):
                out.append((kind, rec["id"], rec["demo_planted"]))
    return out


def open_record(app, kind: str, rid: str):
    app.go(SCREEN_OF[kind], id=rid)
    pump(app)
    until(app, lambda: screen(app).askable)
    return screen(app)


@pytest.fixture()
def printer(ui):
    until(ui, lambda: ui.services.background_started)
    return ui.services.printer


def printed(app, printer, button):
    """Tap ``button``, wait for the print dialog's result, close it; the receipt's lines and
    the texts of its QR codes."""
    from PIL import Image
    from pyzbar.pyzbar import decode

    before = printer.last_png
    tap(app, button)
    dlg = app.print_dialog
    until(app, lambda: dlg.state != "printing")
    assert dlg.state == "ok", dlg.message
    assert printer.last_png != before
    tap(app, dlg.ids.close)
    until(app, lambda: dlg.parent is None)
    return "".join(printer.last_lines), sorted(d.data.decode() for d in decode(Image.open(printer.last_png)))


@pytest.fixture()
def viewer(ui, ui_home, test_key):
    """``viewer.base_url`` set, and the version shown announced again (the data service
    computes the link once per version shown); taken away afterwards the same way."""
    from kiosk.cache.keys import key_id, load_public
    from kiosk.receipts import ViewerLink

    ui.cfg["viewer"] = {"base_url": BASE}
    show_data(ui, ui_home)
    yield ViewerLink(BASE, key_id(load_public(test_key / "signing.pub")))
    ui.cfg["viewer"] = {"base_url": ""}
    show_data(ui, ui_home)


# ---------------------------------------------------------------------------------------------
def test_each_planted_case_shows_on_its_records_screen_with_its_figures(ui, planted):
    """Every planted record opens with a box for its rule: 请关注 (red) / 提示 (amber), the
    rule's title, what the record shows, the rule, its basis, whom to ask, the county's 说明
    where it gave one, and the line that says it is not a verdict."""
    from kiosk.rules.words import NOT_A_VERDICT, SEVERITY_WORD

    assert len(planted) == 21 and {r for _k, _i, r in planted} >= {
        "approval_level", "cash_payment", "procurement", "splitting", "stage_order", "early_final_payment",
        "lease_term", "land_term", "below_reserve", "publicity_short", "rent_arrears", "lease_ending"}
    noted = 0
    for kind, rid, rule in planted:
        flags = ask(ui, lambda m: m.flags_for(kind, rid))
        flag = next(f for f in flags if f["rule_id"] == rule)
        scr = open_record(ui, kind, rid)
        panel = scr.ids.attention
        assert [s.rule_id for s in panel.shown] == [f["rule_id"] for f in flags], (kind, rid)
        view = next(v for v in panel.children if v.flag.rule_id == rule)
        text = shown_text(view)
        assert flat(view.ids.badge.text) == SEVERITY_WORD[flag["severity"]]
        for part in (flag["rule"]["title"], flag["detail"], flag["rule"]["text"], flag["rule"]["basis"],
                     NOT_A_VERDICT):
            assert flat(part) in text, (kind, rid, part)
        assert "可以问" in text and "村务监督委员会" in text
        if flag["note"]:
            noted += 1
            assert flat(flag["note"]) in text and "县里的说明" in text
        assert scr.ids.slip_btn.opacity == 1 and not scr.ids.slip_btn.disabled
        assert view.ids.slip.width >= ui.theme.target and view.ids.slip.height >= ui.theme.target
    assert noted == 1  # the demo's one 说明 (an approval given by the township)


def test_a_clean_record_has_no_box_but_its_slip(ui):
    rid = ask(ui, lambda m: next(r["id"] for r in m.finance_page(m.finance_years()[0], limit=50).rows
                                 if not m.flags_for("finance", r["id"])))
    scr = open_record(ui, "finance", rid)
    assert scr.ids.attention.shown == [] and scr.ids.attention.children == []
    assert scr.ids.slip_btn.opacity == 1 and "请关注" not in shown_text(scr)


def test_the_boxes_are_read_aloud_with_the_record(ui):
    scr = open_record(ui, "finance", "F202507019-1")  # the line the county explained
    said = scr.spoken()
    box = scr.ids.attention.shown[0].box
    assert ("", box.speech()) in said
    assert box.speech().startswith("请关注：审批程序与金额不符。本条记录：金额 86,000 元")
    assert "县里的说明：当年7月强降雨冲毁通组公路" in box.speech()


def test_home_counts_the_flags_and_shows_the_villages_own(ui):
    total, village = ask(ui, lambda m: (sum(m.flag_counts().values()), m.village_flags()))
    home = screen(ui)
    assert total == 22 and f"共 {total} 条" in plain(home.ids.flags.text)
    assert [f["rule_id"] for f in village] == ["disclosure_overdue"]
    assert flat(village[0]["detail"]) in flat(home.ids.notice_text.text)
    assert flat(home.ids.notice_badge.text) == "请关注"
    assert ("", f"请关注：{home.village_notice}") in home.spoken()
    tap(ui, home.ids.notice_open)
    assert ui.sm.current == "flag_detail"
    det = screen(ui)
    until(ui, lambda: det.found)
    assert [s.rule_id for s in det.ids.attention.shown] == ["disclosure_overdue"]
    assert flat(village[0]["detail"]) in shown_text(det)
    tap(ui, screen(ui).children[0].ids.home)
    tap(ui, screen(ui).ids.flags)
    assert ui.sm.current == "flags"


def test_every_entry_of_the_section_opens_its_record(ui, monkeypatch):
    """Headers per rule with its count, entries under them, several keyset pages; each entry,
    tapped where it is on screen, opens its record with that flag's box."""
    import kiosk.screens.flags as F

    monkeypatch.setattr(F, "PAGE", 5)
    counts, titles, flags = ask(ui, lambda m: (m.flag_counts(), {r["id"]: r["title"] for r in m.rules()}, all_flags(m)))
    tap(ui, screen(ui).ids.flags)
    scr = screen(ui)
    lst = scr.ids.list
    until(ui, lambda: scr.listed and lst.data)
    assert f"共有 {sum(counts.values())} 条提示" in scr.message
    for _ in range(20):
        if lst.exhausted:
            break
        lst.scroll_y = 0
        pump(ui)
    assert lst.exhausted
    headers = [d for d in lst.data if d["viewclass"] == "FlagHeader"]
    assert [h["rule_id"] for h in headers] == list(counts)  # one header per rule, in rule order
    assert [plain(h["text"]) for h in headers] == [f"{titles[r]}\u3000{n} 条".replace("\u00a0", " ")
                                                   for r, n in counts.items()]
    entries = [d for d in lst.data if d["viewclass"] == "ListRow"]
    assert [(d["target"], d["rec_id"]) for d in entries] == [
        ("flag_detail" if f["kind"] == "village" else SCREEN_OF[f["kind"]], f["record_id"]) for f in flags]

    todo = {i for i, d in enumerate(lst.data) if d["viewclass"] == "ListRow"}
    lst.scroll_y = 1
    pump(ui)
    while todo:
        i, view = next(((i, v) for i, v in sorted(lst.view_adapter.views.items()) if i in todo and _inside(v, lst)),
                       (None, None))
        if view is None:
            assert lst.scroll_y > 0, f"entries {sorted(todo)} never came into view"
            lst.scroll_y = max(0.0, lst.scroll_y - 0.5 * lst.height / max(1, lst.children[0].height - lst.height))
            pump(ui)
            continue
        d = lst.data[i]
        tap(ui, view)
        assert ui.sm.current == d["target"], d
        det = screen(ui)
        if d["target"] == "flag_detail":
            until(ui, lambda: det.found)
        else:
            until(ui, lambda: det.askable)
            assert det.record["id"] == d["rec_id"]
        assert any(s.record_id == d["rec_id"] or s.kind == "village" for s in det.ids.attention.shown)
        todo.discard(i)
        tap(ui, det.children[0].ids.back)
        assert ui.sm.current == "flags"


def _inside(view, lst) -> bool:
    _x, y = view.to_window(view.x, view.y)
    _lx, ly = lst.to_window(lst.x, lst.y)
    return y >= ly and y + view.height <= ly + lst.height


def test_the_rules_page_lists_every_rule(ui):
    from kiosk.rules.words import contacts

    rules, counts, profile = ask(ui, lambda m: (m.rules(), m.flag_counts(), m.info.profile))
    tap(ui, screen(ui).ids.flags)
    tap(ui, screen(ui).ids.rules_btn)
    assert ui.sm.current == "rules"
    page = screen(ui)
    until(ui, lambda: len(page.ids.rules.children) == len(rules))
    cards = list(reversed(page.ids.rules.children))
    assert len(rules) == 13
    for r, card in zip(rules, cards):
        text = shown_text(card)
        assert card.title == r["title"]
        for part in [r["text"], r["basis"]] + contacts(r["ask"], profile):
            assert flat(part) in text, (r["id"], part)
        n = counts.get(r["id"], 0)
        assert (f"本村{n}条提示" if n else "本村没有提示") in text
        assert "检查情况" not in text  # the demo data lets every rule check everything
    assert "涟源市（演示规则）的 13 项规则" in page.intro
    said = page.spoken()
    assert ("规定", rules[0]["text"]) in said


def test_a_rule_that_could_not_check_everything_says_so(ui, ui_home):
    def older(m):
        rows = m.rules()
        rows[1].update(checked=0, missing=1332, reason="这一版数据没有付款方式")
        rows[2].update(enabled=0)
        m.rules = lambda: rows
        m.info = dataclasses.replace(m.info, fingerprint="0c0ffee0")  # another version: the kiosk switches back after

    show_data(ui, ui_home, older)
    tap(ui, screen(ui).ids.flags)
    tap(ui, screen(ui).ids.rules_btn)
    page = screen(ui)
    until(ui, lambda: len(page.ids.rules.children) == 13)
    cards = list(reversed(page.ids.rules.children))
    assert "检查情况：这项检查暂时无法进行：这一版数据没有付款方式。" in flat(" ".join(
        f"{w.key}：{w.value}" for w in walk(cards[1]) if hasattr(w, "key") and hasattr(w, "value")))
    assert "本县没有启用这项检查。" in shown_text(cards[2]) and "未启用" in shown_text(cards[2])


def test_a_revision_1_bundle_has_no_flags_and_nothing_breaks(ui, ui_home, printer, planted):
    def revision_1(m):
        m.meta = {**m.meta, "schema_revision": "1"}
        m.info = dataclasses.replace(m.info, fingerprint="0000beef")  # another version: the kiosk switches back after

    show_data(ui, ui_home, revision_1)
    home = screen(ui)
    until(ui, lambda: not home.has_flags and home.flag_total == 0)
    assert "本版数据无提示" in plain(home.ids.flags.text) and home.village_notice == ""
    assert home.ids.notice.height == 0
    tap(ui, home.ids.flags)
    scr = screen(ui)
    until(ui, lambda: scr.message)
    assert "这一版数据没有监督提示" in scr.message and not scr.listed and scr.ids.list.data == []
    tap(ui, scr.ids.rules_btn)
    until(ui, lambda: screen(ui).intro)
    assert "这一版数据没有规则表" in screen(ui).intro and screen(ui).ids.rules.children == []
    kind, rid, _rule = planted[0]
    det = open_record(ui, kind, rid)
    assert det.ids.attention.shown == []
    lines, _qr = printed(ui, printer, det.ids.slip_btn)
    assert "问题反映单" in lines and "监督提示：" not in lines
    ui.go("flag_detail", id=DEMO_VILLAGE)
    pump(ui)
    assert not screen(ui).found and "没有村级的监督提示" in plain(screen(ui).ids.none.text)


# ---------------------------------------------------------------------------------------------
def test_question_slip_prints_and_decodes_without_a_viewer_link(ui, printer, planted):
    kind, rid, _rule = next(p for p in planted if p[2] == "approval_level" and p[1] == "F202507019-1")
    det = open_record(ui, kind, rid)
    profile = ui.info.profile
    lines, qr = printed(ui, printer, det.ids.slip_btn)
    assert "问题反映单" in lines and "监督提示：审批程序与金额不符" in lines and "县里的说明：" in lines
    assert qr == [profile["complaints"]["platform_url"]]  # no viewer.base_url: no record QR code
    assert "核对县平台" not in lines


def test_receipts_carry_the_viewer_link_of_the_version_shown(ui, printer, planted, viewer, demo_source):
    """With viewer.base_url every receipt's QR code opens that record at that version: a
    detail screen's 打印, the question slip (record and one flag), a finance month, the 监督投诉
    slip and, on 我的查询, a card holder's payments (the village's page)."""
    from kiosk.receipts import SLIP_VIEWER_KINDS, record_url

    info = ui.info
    platform = info.profile["complaints"]["platform_url"]
    for kind, rid, _rule in [p for p in planted if p[0] == "projects"][:1] + [p for p in planted if p[0] != "projects"][:3]:
        det = open_record(ui, kind, rid)
        url = record_url(viewer, info, f"/r/{SLIP_VIEWER_KINDS[kind]}/{rid}")
        lines, qr = printed(ui, printer, det.ids.print_btn)
        assert qr == [url] and "手机扫码" in lines
        lines, qr = printed(ui, printer, det.ids.slip_btn)
        assert qr == sorted([url, platform]) and "问题反映单" in lines
        box = det.ids.attention.children[0]
        lines, qr = printed(ui, printer, box.ids.slip)
        assert qr == sorted([url, platform]) and lines.count("监督提示：") == 1
        ui.go_home()
        pump(ui)

    tap(ui, screen(ui).ids.finance)
    fin = screen(ui)
    month = next(c for c in fin.ids.months.children if c.value)
    tap(ui, month)
    _lines, qr = printed(ui, printer, fin.ids.print_btn)
    assert qr == [record_url(viewer, info, f"/finance/{fin.year}/{fin.month}")]

    ui.go("complaints")
    pump(ui)
    until(ui, lambda: screen(ui).printable)
    _lines, qr = printed(ui, printer, screen(ui).ids.print_btn)
    assert info.profile["complaints"]["viewer_url"] in qr and platform in qr

    from kiosk.demo_data import demo_persons

    sim, mine = ui.services.card.simulator, ui.sm.get_screen("mine")
    sim.place(0)
    until(ui, lambda: ui.sm.current == "mine" and mine.phase == "shown")
    assert demo_persons(DEMO_VILLAGE, seed=1)[0].id_number not in "".join(texts(mine))
    _lines, qr = printed(ui, printer, mine.ids.print_btn)
    assert qr == [record_url(viewer, info, "/")]
    sim.remove()
    until(ui, lambda: mine.records is None)


def test_complaints_qr_codes_decode_to_the_configured_addresses(ui, tmp_path):
    from kivy.core.window import Window
    from PIL import Image
    from pyzbar.pyzbar import decode

    c = ui.info.profile["complaints"]

    def decoded():
        tap(ui, screen(ui).children[0].ids.home) if ui.sm.current != "home" else None
        tap(ui, screen(ui).ids.complaints)
        until(ui, lambda: screen(ui).printable)
        pump(ui, 3)
        png = Window.screenshot(name=str(tmp_path / "complaints.png"))
        return sorted(d.data.decode() for d in decode(Image.open(png)))

    # the group's own QR code expired on 11-07 (the kiosk's date is 11-30): its name and admin instead
    assert decoded() == sorted([c["platform_url"], c["wechat_official_account_url"], c["viewer_url"]])
    text = shown_text(screen(ui))
    g = c["village_group"]
    assert flat(g["name"]) in text and f"请联系群主{g['admin']}入群" in text
    assert "纪检监察举报电话：12388" in text or ("纪检监察举报电话" in text and "12388" in text)
    assert flat(ui.info.profile["discipline_office"]["name"]) in text and flat(c["county_discipline_office"]["phone"]) in text
    for q in (w for w in walk(screen(ui)) if type(w).__name__ == "QRImage"):
        assert q.module_px * len(q.matrix) >= ui.theme.mm(45)  # the code with its quiet zone, for a phone at arm's length

    ui.today = lambda: dt.date(2026, 11, 1)  # while the group's QR code is current
    assert decoded() == sorted([c["platform_url"], c["wechat_official_account_url"], c["viewer_url"], g["qr_url"]])
    assert "二维码11月7日前有效" in shown_text(screen(ui))
    said = screen(ui).spoken()
    assert ("村务监督微信群", f"扫码，{g['name']}，二维码11月7日前有效") in said


def test_a_power_list_item_prints_its_question_slip(ui, printer):
    """No rule concerns the power list, so its items have no box, but a question about one
    can still be printed and handed on."""
    pid, name = ask(ui, lambda m: (m.powers()[0]["id"], m.powers()[0]["name"]))
    ui.go("powers")
    pump(ui)
    ui.go("power_detail", id=pid)
    pump(ui)
    det = screen(ui)
    until(ui, lambda: det.askable)
    assert "attention" not in det.ids and det.ids.slip_btn.opacity == 1
    lines, qr = printed(ui, printer, det.ids.slip_btn)
    assert "反映的记录：权力清单" in lines and flat(name) in lines.replace(" ", "") and "监督提示：" not in lines
    assert qr == [ui.info.profile["complaints"]["platform_url"]]


def test_complaints_viewer_qr_falls_back_to_the_configured_base_url(ui, ui_home, viewer, tmp_path):
    """A bundle whose profile names no viewer address: 用手机查看本村公开 opens
    ``viewer.base_url`` + the village."""
    from kivy.core.window import Window
    from PIL import Image
    from pyzbar.pyzbar import decode

    def without_viewer_url(m):
        profile = json.loads(json.dumps(m.info.profile))
        del profile["complaints"]["viewer_url"]
        m.info = dataclasses.replace(m.info, profile=profile, fingerprint="0000cafe")  # switched back after

    show_data(ui, ui_home, without_viewer_url)
    tap(ui, screen(ui).ids.complaints)
    until(ui, lambda: screen(ui).printable)
    pump(ui, 3)
    png = Window.screenshot(name=str(tmp_path / "complaints.png"))
    found = {d.data.decode() for d in decode(Image.open(png))}
    assert f"{BASE}/{DEMO_VILLAGE}/" in found and len(found) == 3
