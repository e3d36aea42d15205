"""Lists people can trust: a finger dragging through every list of the demo village sees
every record, in order, with no row skipped when the next page loads; 回到顶部, 跳到日期,
the filters of 办事结果 and 工程项目; every detail screen and 我的查询 open at their top; and
every public record is within three taps of 首页 (plus scrolling).

All through the shared app (conftest ``ui``), with real touches.
"""
from __future__ import annotations

import pytest
from uikit import drag, plain, screen, shown, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


# ---------------------------------------------------------------------------------------------
# helpers

def on_screen(lst) -> list[tuple[int, str]]:
    """(index, record id) of the rows wholly inside the list's view, top to bottom, from the
    row widgets the RecycleView has placed (what a person sees)."""
    _x0, y0 = lst.to_window(lst.x, lst.y)
    top = y0 + lst.height
    rows = []
    for w in lst.children[0].children:
        _wx, wy = w.to_window(w.x, w.y)
        if wy >= y0 - 0.5 and wy + w.height <= top + 0.5 and getattr(w, "rec_id", ""):
            rows.append((-wy, int(w.index), w.rec_id))
    return [(i, rid) for _, i, rid in sorted(rows)]


def in_view(lst) -> list[tuple[int, str]]:
    """(index, record id) of the rows at least partly inside the list's view, top to bottom."""
    _x0, y0 = lst.to_window(lst.x, lst.y)
    top = y0 + lst.height
    rows = []
    for w in lst.children[0].children:
        _wx, wy = w.to_window(w.x, w.y)
        if wy < top - 0.5 and wy + w.height > y0 + 0.5 and getattr(w, "rec_id", ""):
            rows.append((-wy, int(w.index), w.rec_id))
    return [(i, rid) for _, i, rid in sorted(rows)]


def drag_through(ui, lst, max_drags: int = 2000) -> list[str]:
    """Drag from the top of ``lst`` to its end with slow drags; return the record ids in
    the order they first appeared on screen. Fails when rows on screen are not
    consecutive, or when a row is first seen below one never seen (a skipped row)."""
    seen: list[str] = []
    state = {"last": -1}

    def sample():
        rows = on_screen(lst)
        idx = [i for i, _ in rows]
        assert idx == list(range(idx[0], idx[0] + len(idx))) if idx else True, idx
        if idx and idx[0] > state["last"] + 1:
            raise AssertionError(f"rows {state['last'] + 1}–{idx[0] - 1} never appeared (drag reached row {idx[0]})")
        for i, rid in rows:
            if i > state["last"]:
                seen.append(rid)
                state["last"] = i

    from kivy.core.window import Window

    pump(ui)
    sample()
    x, y = lst.to_window(lst.center_x, lst.y + 10)
    dy = Window.height - y - 40  # from the list's foot towards the top of the screen
    for _ in range(max_drags):
        if lst.exhausted and state["last"] == len(lst.data) - 1:
            break
        drag(ui, lst, dy, steps=max(2, int(dy // 30)), start=(x, y), on_step=sample)
        until(ui, lambda: not ui.busy, frames=1)
        sample()
    else:
        raise AssertionError("the end of the list was not reached")
    return seen


def mirror(ui):
    return ui.test_data(None)


def all_ids(page_fn) -> list[str]:
    """Every record id of a keyset-paged query, in order."""
    out, after = [], None
    while True:
        page = page_fn(after)
        out += [r["id"] for r in page.rows]
        if page.next is None:
            return out
        after = page.next


def open_section(ui, name):
    tap(ui, screen(ui).ids[name])
    until(ui, lambda: ui.sm.current == name and not ui.busy)
    return screen(ui)


# ---------------------------------------------------------------------------------------------
# dragging never skips a row

def test_drag_through_finance_every_year(ui):
    m = mirror(ui)
    scr = open_section(ui, "finance")
    years = m.finance_years()
    assert len(years) >= 3
    for y in years:
        chip = next(c for c in scr.ids.years.children if c.value == y)
        tap(ui, chip)
        until(ui, lambda: scr.year == y and not ui.busy)
        want = all_ids(lambda after: m.finance_page(y, None, after=after))
        assert len(want) > 60  # several pages
        assert drag_through(ui, scr.ids.list) == want, y


def test_drag_through_finance_every_month(ui):
    m = mirror(ui)
    scr = open_section(ui, "finance")
    n = 0
    for y in m.finance_years():
        tap(ui, next(c for c in scr.ids.years.children if c.value == y))
        until(ui, lambda: scr.year == y and not ui.busy)
        for mo in m.finance_months(y):
            tap(ui, next(c for c in scr.ids.months.children if c.value == mo))
            until(ui, lambda: (scr.year, scr.month) == (y, mo) and not ui.busy)
            want = all_ids(lambda after: m.finance_page(y, mo, after=after))
            assert drag_through(ui, scr.ids.list) == want, (y, mo)
            n += len(want)
    assert n == ui.info.counts["finance"]


@pytest.mark.parametrize("section", ["projects", "services", "assets", "powers"])
def test_drag_through_other_lists(ui, section):
    m = mirror(ui)
    scr = open_section(ui, section)
    if section == "powers":
        want = [r["id"] for r in m.powers()]
    else:
        want = all_ids(lambda after: getattr(m, f"{section}_page")(after=after))
    assert len(want) == ui.info.counts[section]
    assert drag_through(ui, scr.ids.list) == want


def test_slow_drag_in_a_short_month_shows_every_voucher(ui):
    """2025年3月: vouchers 012 to 020 never appeared when the second page loaded."""
    m = mirror(ui)
    scr = open_section(ui, "finance")
    tap(ui, next(c for c in scr.ids.years.children if c.value == 2025))
    until(ui, lambda: scr.year == 2025 and not ui.busy)
    tap(ui, next(c for c in scr.ids.months.children if c.value == 3))
    until(ui, lambda: scr.month == 3 and not ui.busy)
    want = all_ids(lambda after: m.finance_page(2025, 3, after=after))
    assert len(want) > 30  # more than one page
    rows = {r["id"]: r for r in (m.finance_get(i) for i in want)}
    seen = drag_through(ui, scr.ids.list)
    vouchers = [rows[i]["voucher_no"] for i in seen]
    assert [v for v in vouchers if v.endswith(("-012", "-015", "-020"))], vouchers
    assert seen == want


# ---------------------------------------------------------------------------------------------
# 回到顶部, 跳到日期

def test_to_top_button_appears_in_place_and_goes_back_to_the_first_row(ui):
    scr = open_section(ui, "services")
    lst, top = scr.ids.list, scr.ids.top
    first = on_screen(lst)[0]
    where = tuple(top.to_window(*top.pos)), tuple(top.size)
    assert top.opacity == 0 and top.disabled  # at the top: nothing to go back to
    drag(ui, lst, 700, steps=25)
    drag(ui, lst, 700, steps=25)
    until(ui, lambda: not ui.busy)
    assert on_screen(lst)[0][0] > 5
    assert top.opacity == 1 and not top.disabled
    assert (tuple(top.to_window(*top.pos)), tuple(top.size)) == where  # it took no room from anything
    tap(ui, top)
    until(ui, lambda: on_screen(lst) and on_screen(lst)[0] == first)
    assert lst.scroll_y == 1 and top.opacity == 0


def test_jump_by_date_in_a_year_keeps_the_rows_before(ui):
    m = mirror(ui)
    scr = open_section(ui, "finance")
    tap(ui, next(c for c in scr.ids.years.children if c.value == 2025))
    until(ui, lambda: scr.year == 2025 and not ui.busy)
    tap(ui, scr.ids.jump)
    dlg = scr.jump_dialog
    until(ui, lambda: dlg is not None and dlg.parent is not None)
    labels = [plain(b.text) for b in reversed(dlg.ids.grid.children)]
    assert labels == [f"{mo}月" for mo in sorted(m.finance_months(2025), reverse=True)]
    tap(ui, next(b for b in dlg.ids.grid.children if plain(b.text) == "3月"))
    until(ui, lambda: dlg.parent is None and not ui.busy)
    lst = scr.ids.list
    want = all_ids(lambda after: m.finance_page(2025, None, after=after))
    march = [i for i in want if m.finance_get(i)["date"].startswith("2025-03")]
    until(ui, lambda: on_screen(lst) and on_screen(lst)[0][1] == march[0])
    first = on_screen(lst)[0][0]
    assert [d["rec_id"] for d in lst.data[:first]] == want[:first]  # every later line is above it
    # dragging back up shows the line just before, April's last
    drag(ui, lst, -300, steps=12)
    assert any(rid == want[first - 1] for _, rid in on_screen(lst))


def test_jump_within_a_month_by_thirds(ui):
    m = mirror(ui)
    scr = open_section(ui, "finance")
    tap(ui, next(c for c in scr.ids.years.children if c.value == 2025))
    until(ui, lambda: scr.year == 2025 and not ui.busy)
    tap(ui, next(c for c in scr.ids.months.children if c.value == 3))
    until(ui, lambda: scr.month == 3 and not ui.busy)
    tap(ui, scr.ids.jump)
    until(ui, lambda: scr.jump_dialog is not None and scr.jump_dialog.parent is not None)
    dlg = scr.jump_dialog
    b = next(b for b in dlg.ids.grid.children if plain(b.text).startswith("上旬"))
    days = m.finance_days(2025, 3)
    assert b.disabled == (not any(d <= 10 for d in days))
    tap(ui, b)
    until(ui, lambda: dlg.parent is None and not ui.busy)
    want = [r for r in (m.finance_get(i) for i in all_ids(lambda a: m.finance_page(2025, 3, after=a)))]
    target = next(r for r in want if r["date"] <= "2025-03-10")
    lst = scr.ids.list
    until(ui, lambda: on_screen(lst) and (on_screen(lst)[0][1] == target["id"] or lst.scroll_y <= 0))
    assert target["id"] in [rid for _, rid in on_screen(lst)]


# ---------------------------------------------------------------------------------------------
# filters

def test_services_filters_by_year_and_item(ui):
    m = mirror(ui)
    scr = open_section(ui, "services")
    facets = m.services_facets()
    year, n_year = facets["years"][1]
    tap(ui, next(c for c in scr.ids.year_chips.children if c.value == year))
    until(ui, lambda: scr.year == year and not ui.busy)
    ids = drag_through(ui, scr.ids.list)
    assert len(ids) == n_year
    assert all(m.service_get(i)["decided_on"].startswith(str(year)) for i in ids)
    pid, name, _n = facets["items"][0]
    tap(ui, next(c for c in scr.ids.item_chips.children if c.value == pid))
    until(ui, lambda: scr.power_id == pid and not ui.busy)
    ids = drag_through(ui, scr.ids.list)
    recs = [m.service_get(i) for i in ids]
    src = [r for r in (m.service_get(i) for i in all_ids(lambda a: m.services_page(after=a)))
           if r["power_id"] == pid and r["decided_on"].startswith(str(year))]
    assert [r["id"] for r in recs] == [r["id"] for r in src] and src
    assert all(plain(d["title"]) == name for d in scr.ids.list.data)
    # 全部年份 keeps the item
    tap(ui, next(c for c in scr.ids.year_chips.children if c.value == 0))
    until(ui, lambda: scr.year == 0 and not ui.busy)
    assert len(drag_through(ui, scr.ids.list)) == next(n for p, _nm, n in facets["items"] if p == pid)


def test_projects_filter_by_stage(ui):
    m = mirror(ui)
    scr = open_section(ui, "projects")
    counts = m.project_stage_counts()
    labels = [plain(c.text) for c in reversed(scr.ids.stages.children)]
    from kiosk.screens.project_detail import STAGES

    want_labels = ["全部"] + [f"{s}（{counts[s]}个）" for s in STAGES if counts.get(s)]
    assert labels == want_labels
    for stage, n in counts.items():
        tap(ui, next(c for c in scr.ids.stages.children if c.value == stage))
        until(ui, lambda: scr.stage == stage and not ui.busy)
        ids = drag_through(ui, scr.ids.list)
        assert len(ids) == n
        assert all(m.project_get(i)["stage"] == stage for i in ids)


# ---------------------------------------------------------------------------------------------
# detail screens and 我的查询 open at their top

def _scrolls(scr):
    from kivy.uix.scrollview import ScrollView

    return [w for w in walk(scr) if isinstance(w, ScrollView) and w.do_scroll_y and shown(w)]


@pytest.mark.parametrize("section", ["finance", "projects", "services", "assets", "powers"])
def test_detail_opens_at_its_top(ui, section):
    scr = open_section(ui, section)
    rows = [r for r in scr.record_rows()][:2]
    assert len(rows) == 2
    tap(ui, next(w for w in scr.ids.list.children[0].children if w.rec_id == rows[0]["rec_id"]))
    until(ui, lambda: ui.sm.current == rows[0]["target"] and not ui.busy)
    det = screen(ui)
    for sv in _scrolls(det):  # the last visitor scrolled every part down
        sv.scroll_y = 0
        if sv.do_scroll_x:
            sv.scroll_x = 1
    pump(ui)
    ui.back()
    until(ui, lambda: ui.sm.current == section)
    tap(ui, next(w for w in scr.ids.list.children[0].children if w.rec_id == rows[1]["rec_id"]))
    until(ui, lambda: ui.sm.current == rows[1]["target"] and not ui.busy)
    assert det.record["id"] == rows[1]["rec_id"]
    assert [(sv.scroll_y, sv.scroll_x) for sv in _scrolls(det)] == [(1, 0)] * len(_scrolls(det))


def test_mine_opens_at_the_top_for_each_holder(ui):
    tap(ui, screen(ui).ids.mine)
    mine = screen(ui)
    sim = ui.services.card.simulator
    sim.place(0)
    until(ui, lambda: mine.phase == "shown" and not ui.busy)
    for sv in _scrolls(mine):
        sv.scroll_y = 0
    pump(ui)
    sim.remove()
    until(ui, lambda: mine.phase == "prompt")
    sim.place(1)
    until(ui, lambda: mine.phase == "shown" and not ui.busy)
    views = _scrolls(mine)
    assert views and [sv.scroll_y for sv in views] == [1] * len(views)


def test_taller_rows_keep_the_same_row_at_the_top(ui):
    """特大字 makes every row taller: the row at the top stays the row at the top."""
    scr = open_section(ui, "services")
    lst = scr.ids.list
    for _ in range(3):
        drag(ui, lst, 600, steps=20)
    until(ui, lambda: not ui.busy)
    top_before = on_screen(lst)[0]
    assert top_before[0] >= 8
    h = max(r.height for r in lst.children[0].children)
    try:
        ui.set_display(text_scale=1.5)
        until(ui, lambda: max(r.height for r in lst.children[0].children) > h * 1.3)
        pump(ui, 2)
        # rows may now be taller than the view: the row at the top is the one across its top
        # edge, or the first below it
        assert top_before in in_view(lst)[:2]
    finally:
        ui.set_display(text_scale=1.0)
        pump(ui, 3)
