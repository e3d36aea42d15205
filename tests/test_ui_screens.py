"""Headless UI tests: tap through every screen of the imported demo village and check what
is shown against the source export; 返回/首页, the idle timer, the 尚无数据 screen, the
safe version switch, and a walk of every screen's widget tree for touch-target size,
text size and contrast.

All UI tests share one app (the ``ui`` fixture in conftest.py: Kivy keeps one window per
process) and each gets it reset to the demo village at 首页.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import UI_TODAY as TODAY
from layoutcheck import effective_bg
from uikit import plain, run_for, screen, show_data, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def source(demo_source):
    return {name: _jsonl(demo_source / f"{name}.jsonl")
            for name in ("finance", "projects", "assets", "services", "powers")} | {
        "village": json.loads((demo_source / "village.json").read_text(encoding="utf-8"))}


def visible_rows(lst):
    return sorted((w for w in lst.children[0].children), key=lambda w: -w.y)


# ---------------------------------------------------------------------------------------------
def test_nodata_then_switch_on_install(ui, ui_home):
    """Before any import: 尚无数据 with the configured contact, and no section opens; an
    installed version is picked up by the data service's check and shown (nobody is using
    the no-data screen)."""
    from kiosk.config import DEFAULTS

    show_data(ui, None)
    assert ui.sm.current == "nodata" and ui.state == "nodata"
    ids = screen(ui).ids
    assert ids.headline.text == "尚无数据"
    assert plain(ids.contact.text) == DEFAULTS["contact_when_empty"]
    assert ui.footer_text == ""
    ui.go("finance")  # nothing to open without data
    assert ui.sm.current == "nodata"

    ui.test_data.point(ui_home)
    ui.data.check()  # as the service's poll does every few seconds
    until(ui, lambda: ui.sm.current == "home")
    assert ui.state == "ready" and ui.footer_text.startswith("数据更新至 ")


def test_home_header_counts_footer(ui, source):
    scr = screen(ui)
    title = scr.children[0].ids.title.text
    assert title.startswith("洪泉村")
    assert ui.place_text == "涟源市·白马镇"
    for key in ("finance", "projects", "services", "assets", "powers"):
        text = plain(scr.ids[key].text)
        assert f"共 {len(source[key]):,} 条" in text, (key, text)
    assert ui.footer_text.startswith(f"数据更新至 {source['village']['data_as_of']} · 第1版 · 指纹 ")
    assert len(ui.footer_text.rsplit(" ", 1)[1]) == 8
    assert not ui.footer_stale  # 30 days old, threshold 35


def test_finance_month_totals_match_source(ui, source):
    from kiosk.formatting import money

    tap(ui, screen(ui).ids.finance)
    assert ui.sm.current == "finance"
    scr = screen(ui)
    years = sorted({int(r["date"][:4]) for r in source["finance"]}, reverse=True)
    assert [c.value for c in reversed(scr.ids.years.children)] == years
    # pick the second year and its third month by tapping the chips
    year = years[1]
    tap(ui, next(c for c in scr.ids.years.children if c.value == year))
    months = sorted({int(r["date"][5:7]) for r in source["finance"] if r["date"].startswith(str(year))})
    assert [c.value for c in reversed(scr.ids.months.children)] == [0] + months
    month = months[2]
    tap(ui, next(c for c in scr.ids.months.children if c.value == month))
    assert (scr.year, scr.month) == (year, month)
    prefix = f"{year}-{month:02d}-"
    lines = [r for r in source["finance"] if r["date"].startswith(prefix)]
    inc = sum((Decimal(r["amount"]) for r in lines if r["direction"] == "income"), Decimal(0))
    exp = sum((Decimal(r["amount"]) for r in lines if r["direction"] == "expense"), Decimal(0))
    assert plain(scr.ids.income.text) == f"收入 {money(inc)}"
    assert plain(scr.ids.expense.text) == f"支出 {money(exp)}"
    assert plain(scr.ids.balance.text) == f"结余 {money(inc - exp)}"
    assert f"共 {len(lines)} 笔" in plain(scr.totals_text)
    # rows: newest first, only that month
    data = scr.ids.list.data
    assert data and all(d["rec_id"] in {r["id"] for r in lines} for d in data)
    newest = max(lines, key=lambda r: r["date"])["date"]
    first = next(r for r in lines if r["id"] == data[0]["rec_id"])
    assert first["date"] == newest


def test_finance_summary_count_fully_shown(ui):
    """For every year and month chip the summary reads "<period> 共 N 笔" with N from
    Mirror.finance_totals, and its text fits its label (the tester saw "72 笔" for 472 and
    only "笔" on a month, cut by the three totals beside it); the totals fit their row."""
    tap(ui, screen(ui).ids.finance)
    scr = screen(ui)
    years = [c.value for c in reversed(scr.ids.years.children)]
    box = {}
    ui.data.submit(lambda m: {(y, mo): m.finance_totals(y, mo or None).count
                         for y in years for mo in [0] + list(m.finance_months(y))},
              lambda res: box.setdefault("n", res))
    pump(ui)
    counts = box["n"]
    seen = set()
    for y in years:
        tap(ui, next(c for c in scr.ids.years.children if c.value == y))
        for mo in [c.value for c in reversed(scr.ids.months.children)]:
            tap(ui, next(c for c in scr.ids.months.children if c.value == mo))
            assert (scr.year, scr.month) == (y, mo)
            label = scr.ids.period
            n = counts[(y, mo)]
            period = f"{y}年" + (f"{mo}月" if mo else "全年")
            assert plain(label.text) == f"{period} 共 {n} 笔"
            assert n > 0
            assert _text_width(label) <= label.width, (period, _text_width(label), label.width)
            assert label.texture_size[0] <= label.width and label.texture_size[1] <= label.height
            assert label.x >= label.parent.x and label.right <= label.parent.right
            row = scr.ids.balance.parent
            assert scr.ids.income.x >= row.x and scr.ids.balance.right <= scr.ids.print_btn.x, period
            seen.add((y, mo))
    assert seen == set(counts)
    assert counts[(max(years), 0)] > 100


def test_finance_print_button_only_for_a_month(ui):
    """With 全年 there is no button to print (it read 选月份后打印 and did nothing when
    tapped: an instruction drawn as a button); a month shows 打印本月, which prints."""
    from kivy.uix.behaviors import ButtonBehavior

    tap(ui, screen(ui).ids.finance)
    scr = screen(ui)
    months = [c for c in reversed(scr.ids.months.children)]
    tap(ui, months[0])
    assert scr.month == 0 and months[0].text == "全年"

    def buttons():
        return [w for w in walk(scr) if isinstance(w, ButtonBehavior) and _shown(w, scr) and not w.disabled]

    texts = [plain(getattr(b, "text", "")) for b in buttons()]
    assert "选月份后打印" not in texts and not [t for t in texts if "打印" in t], texts
    btn = scr.ids.print_btn
    assert not _shown(btn, scr) and btn.disabled and btn.build is None
    tap(ui, months[1])
    assert scr.month == months[1].value > 0
    assert btn in buttons() and plain(btn.text) == "打印本月" and btn.build is not None
    assert btn.width >= ui.theme.target and btn.x >= scr.ids.balance.right


def test_finance_pages_load_on_scroll_and_detail(ui, source):
    tap(ui, screen(ui).ids.finance)
    scr = screen(ui)
    lst = scr.ids.list
    year = max(int(r["date"][:4]) for r in source["finance"])
    n_year = sum(r["date"].startswith(str(year)) for r in source["finance"])
    assert n_year > 60
    assert len(lst.data) == 30  # one page: the list never loads a whole table
    for _ in range(3):
        lst.scroll_y = 0
        pump(ui)
    assert 60 <= len(lst.data) < n_year or len(lst.data) == n_year
    ids = [d["rec_id"] for d in lst.data]
    assert len(ids) == len(set(ids))
    # tap the first row → its detail (2 taps from home)
    lst.scroll_y = 1
    pump(ui)
    row = visible_rows(lst)[0]
    rec = next(r for r in source["finance"] if r["id"] == row.rec_id)
    tap(ui, row)
    assert ui.sm.current == "finance_detail"
    shown = " ".join(plain(w.text) for w in walk(screen(ui)) if hasattr(w, "text") and isinstance(w.text, str))
    assert rec["voucher_no"] in shown and rec["summary"] in shown and rec["handler"] in shown
    # 返回 → the list as it was; 首页 → home
    frame = screen(ui).children[0]
    tap(ui, frame.ids.back)
    assert ui.sm.current == "finance"
    assert [d["rec_id"] for d in lst.data][:5] == ids[:5]
    tap(ui, screen(ui).children[0].ids.home)
    assert ui.sm.current == "home"


def test_project_stages(ui, source):
    from kiosk.screens.project_detail import STAGES

    tap(ui, screen(ui).ids.projects)
    row = visible_rows(screen(ui).ids.list)[0]
    tap(ui, row)
    assert ui.sm.current == "project_detail"
    src = next(p for p in source["projects"] if p["id"] == row.rec_id)
    rows = list(reversed(screen(ui).ids.stages.children))
    assert [r.stage for r in rows] == list(STAGES)
    done = {s["stage"] for s in src["stages"]}
    last = max(STAGES.index(s) for s in done)
    running = STAGES[last] != "公示"
    for i, r in enumerate(rows):
        if r.stage in done:
            want = "current" if i == last and running else "done"
        else:
            want = "skipped" if i < last else "pending"
        assert r.state == want, (r.stage, r.state)


def _open_project(ui, pid):
    ui.go("projects")
    pump(ui)
    ui.go("project_detail", id=pid)
    pump(ui, 3)
    assert ui.sm.current == "project_detail"
    return list(reversed(screen(ui).ids.stages.children))


def _text_width(label) -> float:
    """Width in px the label's own text needs at its font (not the text_size box)."""
    return label._label.get_extents(plain(label.text))[0]


def test_project_timeline_running_and_finished(ui, source):
    """A running project's latest reached stage reads 进行中 and later ones 未开始 (the
    tester saw 村主干道太阳能路灯安装工程 at 施工 shown 已完成); a project that reached 公示
    shows every reached stage 已完成; 审计结算 fits its column."""
    from kiosk.screens.project_detail import STAGES

    def last_stage(p):
        return max(STAGES.index(s["stage"]) for s in p["stages"])

    running = [p for p in source["projects"] if last_stage(p) < STAGES.index("公示")]
    # the one the tester saw when the demo has it, else the running one furthest along
    lamp = next((p for p in running if p["name"] == "村主干道太阳能路灯安装工程"),
                max(running, key=last_stage))
    k = last_stage(lamp)
    assert 0 < k < 7
    rows = _open_project(ui, lamp["id"])
    shown = [(r.stage, plain(r.ids.badge.text)) for r in rows]
    reached = {s["stage"] for s in lamp["stages"]}
    want = [(n, "已完成" if n in reached else "跳过") for n in STAGES[:k]]
    assert shown == want + [(STAGES[k], "进行中")] + [(n, "未开始") for n in STAGES[k + 1:]]
    fin = next(p for p in source["projects"] if STAGES[last_stage(p)] == "公示" and
               any(s["stage"] == "审计结算" for s in p["stages"]))
    rows = _open_project(ui, fin["id"])
    badges = [plain(r.ids.badge.text) for r in rows]
    assert "进行中" not in badges and "未开始" not in badges
    assert badges[-1] == "已完成" and badges.count("已完成") == len({s["stage"] for s in fin["stages"]})
    audit = next(r for r in rows if r.stage == "审计结算").ids.name
    assert plain(audit.text) == "审计结算"
    assert 0 < _text_width(audit) <= audit.width, (_text_width(audit), audit.width)
    for r in rows:  # the badge text fits its box as well
        assert _text_width(r.ids.badge) <= r.ids.badge.width, plain(r.ids.badge.text)


def test_service_steps(ui, source):
    tap(ui, screen(ui).ids.services)
    row = visible_rows(screen(ui).ids.list)[0]
    src = next(s for s in source["services"] if s["id"] == row.rec_id)
    tap(ui, row)
    assert ui.sm.current == "service_detail"
    steps = list(reversed(screen(ui).ids.steps.children))
    assert [plain(s.step) for s in steps] == [s["step"] for s in src["steps"]]
    shown = " ".join(plain(w.text) for w in walk(screen(ui)) if isinstance(getattr(w, "text", None), str))
    assert src["applicant"] not in shown or len(src["applicant"]) == 1  # masked on public screens
    assert src["result"] in shown


def test_asset_contract(ui, source):
    from kiosk.formatting import money

    tap(ui, screen(ui).ids.assets)
    scr = screen(ui)
    tap(ui, next(c for c in scr.ids.kinds.children if c.value == "资源"))
    assert all("资源" in plain(d["sub"]) for d in scr.ids.list.data)
    assert len(scr.ids.list.data) == min(30, sum(a["kind"] == "资源" for a in source["assets"]))
    srcs = {a["id"]: a for a in source["assets"]}
    row = next(r for r in visible_rows(scr.ids.list) if srcs[r.rec_id].get("reserve_price"))
    tap(ui, row)
    assert ui.sm.current == "asset_detail"
    a = srcs[row.rec_id]
    assert plain(screen(ui).ids.reserve.text) == f"底价\n{money(Decimal(a['reserve_price']))}"


def test_power_flowchart_and_sample(ui, source):
    tap(ui, screen(ui).ids.powers)
    scr = screen(ui)
    assert len(scr.ids.list.data) == len(source["powers"])
    tap(ui, next(c for c in scr.ids.classes.children if c.value == "便民服务"))
    assert len(scr.ids.list.data) == sum(p["class"] == "便民服务" for p in source["powers"])
    tap(ui, next(c for c in scr.ids.classes.children if c.value == ""))
    row = visible_rows(scr.ids.list)[0]
    src = next(p for p in source["powers"] if p["id"] == row.rec_id)
    tap(ui, row)
    assert ui.sm.current == "power_detail"
    det = screen(ui)
    lay = det.ids.chart._lay
    assert set(lay.boxes) == {s["id"] for s in src["steps"]}
    assert {b.kind for b in lay.boxes.values()} >= {"start", "end"}
    labels = {plain(w.text) for w in det.ids.chart.children}
    assert {s["label"] for s in src["steps"]} <= labels
    for e in src["edges"]:
        if e["label"]:
            assert e["label"] in labels
    backs = [r for r in lay.routes if r.kind == "back"]
    assert [(r.src, r.dst) for r in backs] == [(e["from"], e["to"]) for e in src["edges"] if "不通过" in e["label"]]
    assert det.sample == any(p["sample"] for p in source["powers"])
    assert ("示例" in det.ids.sample.text) == det.sample


def test_mine_and_complaints(ui, source):
    tap(ui, screen(ui).ids.mine)
    assert ui.sm.current == "mine"
    assert screen(ui).ids.prompt.text == "请把身份证放在读卡器上"
    tap(ui, screen(ui).children[0].ids.home)
    tap(ui, screen(ui).ids.complaints)
    assert ui.sm.current == "complaints"
    shown = " ".join(plain(w.text) for w in walk(screen(ui)) if isinstance(getattr(w, "text", None), str))
    v = source["village"]
    assert v["discipline_office"]["name"] in shown and v["discipline_office"]["phone"] in shown
    for p in v["supervision_committee"]:
        assert p["name"] in shown and p["phone"] in shown
    c = v["complaints"]
    if "received" in c:
        assert f"收到投诉：{c['received']} 件" in shown
    assert c["platform_url"] in [w.data for w in walk(screen(ui)) if type(w).__name__ == "QRImage"]  # as a QR code


def test_idle_returns_home(ui):
    tap(ui, screen(ui).ids.projects)
    assert ui.sm.current == "projects"
    ui.test_clock.t += ui.timeouts["public_idle_to_home"] - 5
    assert ui.nav.tick() is False and ui.sm.current == "projects"  # not yet
    ui.test_clock.t += 6
    until(ui, lambda: ui.sm.current == "home", timeout=5)  # the app's own once-a-second timer


def test_new_version_waits_for_home(ui, ui_home):
    """A newly installed version never replaces the screen under a user's finger: it is
    switched in on the way back to 首页; its banner then shows on every screen."""
    tap(ui, screen(ui).ids.finance)

    def newer(m):
        m.info = dataclasses.replace(m.info, seq=2, fingerprint="0badf00d", banner="测试：已回退到上一版")

    ui.test_data.point(ui_home, newer)
    ui.data.check()
    until(ui, lambda: ui.nav.update_waiting)
    assert ui.sm.current == "finance" and "第1版" in ui.footer_text
    tap(ui, screen(ui).children[0].ids.home)
    until(ui, lambda: "第2版" in ui.footer_text)
    assert ui.sm.current == "home" and "0badf00d" in ui.footer_text
    assert screen(ui).children[0].ids.banner.text == "测试：已回退到上一版"
    assert screen(ui).children[0].ids.banner.height > 0


def test_stale_footer_is_amber(ui):
    from kiosk.screens.theme import COLORS
    from kiosk.services.events import DataShown

    footer = screen(ui).children[0].ids.footer
    assert list(footer.bg_color) != list(COLORS["stale_bg"])
    ui.today = lambda: dt.date(2026, 12, 6)  # 36 days after data_as_of
    ui.bus.publish(DataShown(ui.info))  # the footer is computed when data is shown
    pump(ui)
    assert ui.footer_stale
    assert list(footer.bg_color) == list(COLORS["stale_bg"])
    assert footer.text.endswith("已超过35天未更新")


# ---------------------------------------------------------------------------------------------
def _shown(w, root) -> bool:
    while w is not None and w is not root:
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def test_sizes_and_contrast_on_every_screen(ui):
    """Every touchable ≥ 20 mm both ways; every label's font_size ≥ 8 mm of px (the em
    height, which a Chinese character fills) with line height ≥ 1.3; text vs effective
    background ≥ 7:1 (WCAG relative luminance)."""
    from kivy.uix.behaviors import ButtonBehavior
    from kivy.uix.label import Label

    from kiosk.screens.theme import MIN_CONTRAST, contrast_ratio
    from kiosk.tools.screenshots import SCREENSHOT_NAMES, show

    th = ui.theme
    assert th.target == 81 and th.min_font == 33  # 21.5" 1920×1080: 4.1 px/mm
    problems = []
    checked = {"buttons": 0, "labels": 0}
    for name in SCREENSHOT_NAMES:
        show(ui, name)
        pump(ui, 3)
        assert ui.sm.current == name
        for w in walk(screen(ui)):
            if not _shown(w, screen(ui)):
                continue
            if isinstance(w, ButtonBehavior):
                checked["buttons"] += 1
                if w.width < th.target or w.height < th.target:
                    problems.append(f"{name}: button {getattr(w, 'text', '')[:20]!r} {w.size}")
            if isinstance(w, Label) and w.text.strip():
                checked["labels"] += 1
                if w.font_size < th.min_font:
                    problems.append(f"{name}: font {w.font_size} < {th.min_font}: {w.text[:20]!r}")
                if w.line_height < 1.3:
                    problems.append(f"{name}: line height {w.line_height}: {w.text[:20]!r}")
                ratio = contrast_ratio(w.color, effective_bg(w))
                if ratio < MIN_CONTRAST:
                    problems.append(f"{name}: contrast {ratio:.1f} for {w.text[:20]!r}")
    show(ui, "home")
    pump(ui)
    assert not problems, "\n".join(problems)
    assert checked["buttons"] > 60 and checked["labels"] > 200, checked


def test_no_typing_on_public_screens(ui):
    from kivy.uix.textinput import TextInput

    assert not [s.name for s in ui.sm.screens for w in walk(s) if isinstance(w, TextInput)]


def test_rich_text_escapes_markup_and_falls_back_per_run(ui):
    """Data text never injects markup; a name character Noto lacks gets its own font run;
    ASCII spaces become U+00A0 (Kivy breaks Chinese lines only at ASCII spaces)."""
    from kivy.core.text import LabelBase

    from kiosk.screens.widgets import KLabel, rich

    s = rich("王𪚥 [b]付款[/b]")
    assert s == "王[font=KioskFallback0]𪚥[/font]\u00a0&bl;b&br;付款&bl;/b&br;"
    assert LabelBase._fonts["KioskFallback0"][0].endswith("HanaMinA.ttf")
    lbl = KLabel(text=s)
    lbl.texture_update()
    assert lbl.texture_size[0] > 0
    drawn = "".join(w.text for line in lbl._label._cached_lines for w in line.words)
    assert drawn == "王𪚥\u00a0[b]付款[/b]"  # the brackets are shown as text, not bold
    assert rich(None) == ""


def test_kiosk_mode_config(ui):
    """Exactly one input provider (a tap is one tap), Esc does not quit, F1 opens nothing."""
    from kivy.config import Config

    from kiosk.screens.kivyconfig import configure_kivy

    assert dict(Config.items("input")) == {"mouse": "mouse,disable_multitouch"}
    assert Config.get("kivy", "exit_on_escape") == "0"
    assert ui.open_settings() is False and ui.use_kivy_settings is False
    configure_kivy(windowed=False)  # settings only (the window exists already)
    try:
        assert Config.get("graphics", "fullscreen") == "auto"
        assert Config.get("graphics", "show_cursor") == "0"
    finally:
        configure_kivy(windowed=True)


@pytest.mark.parametrize("halign", ["left", "center", "right"])
def test_label_texture_is_text_wide_coverage_drawn_in_place(ui, halign):
    """Label textures hold coverage only (luminance-alpha, 2 bytes/px) and are as wide as the
    text, not the box (docs/performance.md); the drawn text keeps its colour and alignment."""
    from kivy.uix.floatlayout import FloatLayout

    from kiosk.screens.theme import COLORS
    from kiosk.screens.widgets import CROP_MARGIN_PX, KLabel

    box = FloatLayout(size=(1000, 120), size_hint=(None, None))
    lbl = KLabel(text="收入", color=COLORS["expense"], halign=halign, valign="middle",
                 size_hint=(None, None), size=(1000, 120), pos=(0, 0), bg_color=COLORS["row_bg"])
    lbl.text_size = lbl.size
    box.add_widget(lbl)
    lbl.texture_update()
    pump(ui, 1)  # Kivy evaluates canvas expressions of new widgets at the next frame
    tex = lbl.texture
    assert tex.colorfmt == "luminance_alpha"
    em = ui.theme.fonts["body"]
    assert 2 * em - 4 <= tex.width <= 2 * em + CROP_MARGIN_PX + 4  # two ideographs, not 1000 px
    assert tex.height == 120
    img = box.export_as_image()
    w, h = img.texture.size
    px = img.texture.pixels  # RGBA rows
    red = [x for y in range(h) for x in range(w)
           if px[4 * (y * w + x)] > 100 and px[4 * (y * w + x) + 1] < 60]
    assert red, "no text pixels in the label's colour"
    lo, hi = min(red), max(red)
    expect = {"left": (0, 2 * em + 4), "center": (500 - em - 4, 500 + em + 4), "right": (1000 - 2 * em - 4, 1000)}[halign]
    assert expect[0] <= lo and hi <= expect[1], (lo, hi)


def _settle(app, timeout=30.0):
    """Run the loop until the app's work ahead of use is done."""
    until(app, lambda: app.settled, timeout)


def test_work_ahead_prepares_sections_and_leaves_the_persons_path_alone(ui, source, monkeypatch):
    """While idle the kiosk builds every screen at the window's size, opens each section's
    first page and renders it (and one record of it), so a first tap costs what a repeat
    costs (docs/performance.md). A section the person has open or can 返回 to keeps its
    state, even when new data makes the kiosk prepare the sections again."""
    import gc

    import kiosk.screens.workahead as W

    monkeypatch.setattr(W, "QUIET_S", 0.0)
    # the person picks 2025 · 3月 and opens a line: 财务收支 is on 返回's path
    tap(ui, screen(ui).ids.finance)
    fin = screen(ui)
    tap(ui, next(c for c in fin.ids.years.children if c.value == 2025))
    tap(ui, next(c for c in fin.ids.months.children if c.value == 3))
    first = fin.ids.list.data[0]
    ui.go(first["target"], id=first["rec_id"])
    pump(ui)
    assert ui.history[-1] == "finance"
    ui.info = dataclasses.replace(ui.info, seq=ui.info.seq + 1)  # as if a new version came in
    ui.work_ahead.restart()
    _settle(ui)
    assert (fin.year, fin.month) == (2025, 3)  # not reset behind the person's back

    projects = ui.sm.get_screen("projects")
    assert projects.parent is None and tuple(projects.size) == tuple(ui.sm.size)  # not 100×100
    assert projects.warmed_for == ui.work_ahead.key()
    newest = sorted(source["projects"], key=lambda p: p["id"])
    assert {r["rec_id"] for r in projects.ids.list.data} <= {p["id"] for p in newest}
    assert len(projects.ids.list.data) == min(len(source["projects"]), len(projects.ids.list.data)) > 0
    detail = ui.sm.get_screen("project_detail")
    assert detail.record is not None and detail.record["id"] == projects.ids.list.data[-1]["rec_id"]
    labels = [w for w in walk(projects) if hasattr(w, "texture_update") and w.text]
    assert labels and all(w.texture is not None and w.texture.id for w in labels)  # rendered, uploaded
    assert gc.get_freeze_count() > 0  # later full collections skip what work ahead built
    ui.back()
    pump(ui)
    assert ui.sm.current == "finance" and (fin.year, fin.month) == (2025, 3)


@pytest.mark.parametrize("name", ["finance_detail", "project_detail", "service_detail", "asset_detail", "power_detail"])
def test_detail_of_a_missing_record_says_so_and_prints_nothing(ui, name):
    """A record id the data does not hold (a stale link) reads 没有这条记录, with no 打印."""
    ui.go(name, id="no-such-record")
    pump(ui)
    scr = screen(ui)
    assert ui.sm.current == name and scr.record is None and not scr.printable
    texts = [plain(w.text) for w in walk(scr.ids.rows) if getattr(w, "text", "")]
    assert "没有这条记录" in texts
    assert "print_btn" not in scr.ids or scr.ids.print_btn.disabled
    ui.go_home()
    pump(ui)
