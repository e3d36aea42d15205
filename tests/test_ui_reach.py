"""Every public record is within three taps of 首页, plus scrolling: a breadth-first walk
over the screen graph with real taps (each state reached again from 首页 by replaying its
taps), collecting the records each list offers once scrolled to its end.

Not followed: 返回/首页 and the frame's own controls, 打印 and 打印问题反映单, 回到顶部, the demo
card buttons and 查找 (another way in, not needed to reach a record)."""
from __future__ import annotations

from collections import deque

import pytest
from uikit import plain, screen, shown, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

MAX_TAPS = 3
NOT_FOLLOWED = {"search", "print_btn", "slip_btn", "top", "demo_place", "demo_remove", "quit"}


def _ids_of(scr) -> dict:
    """id(widget) → its kv id on ``scr`` (``ids`` holds weak proxies)."""
    out = {}
    for name, proxy in scr.ids.items():
        ref = getattr(proxy, "__ref__", None)
        w = ref() if ref is not None else proxy
        if w is not None:
            out[id(w)] = name
    return out


def _tappables(ui, scr):
    """(key, widget) of what can be tapped on ``scr`` (not list rows, not the frame)."""
    from kivy.core.window import Window
    from kivy.uix.behaviors import ButtonBehavior

    from kiosk.screens.widgets import ListRow, ScreenFrame

    frame = next((w for w in scr.children if isinstance(w, ScreenFrame)), None)
    skip = {id(w) for w in walk(frame.ids.header)} | {id(w) for w in walk(frame.ids.footer)} if frame else set()
    names = _ids_of(scr)
    out = []
    for w in walk(scr):
        if not isinstance(w, ButtonBehavior) or isinstance(w, ListRow) or id(w) in skip:
            continue
        if w.disabled or not shown(w):
            continue
        x, y = w.to_window(*w.center)
        if not (0 <= x < Window.width and 0 <= y < Window.height):
            continue
        name = names.get(id(w))
        if name in NOT_FOLLOWED or plain(getattr(w, "text", "")).startswith("打印"):
            continue  # (打印 and 打印问题反映单 print; they lead nowhere)
        key = ("id", name) if name else ("tap", type(w).__name__, repr(getattr(w, "value", None)), plain(w.text))
        out.append((key, w))
    return out


def _find(ui, key):
    found = [w for k, w in _tappables(ui, screen(ui)) if k == key]
    assert found, f"{key} not on {ui.sm.current}: {[k for k, _ in _tappables(ui, screen(ui))]}"
    return found[0]


def _replay(ui, path) -> None:
    ui.go_home()
    until(ui, lambda: ui.sm.current == "home" and not ui.busy)
    for key in path:
        w = _find(ui, key)
        tap(ui, w)
        until(ui, lambda: not ui.busy)
        pump(ui, 2)


def _all_rows(ui, lst) -> list[dict]:
    """Scroll the list to its end until every page is loaded; its rows' data."""
    for _ in range(500):
        until(ui, lambda: not ui.busy, frames=1)
        if lst.exhausted:
            return list(lst.data)
        lst.scroll_y = 0
        pump(ui, 2)
    raise AssertionError("the list did not end")


def test_every_public_record_within_three_taps(ui):
    m = ui.test_data(None)

    def ids(page_fn):
        out, after = [], None
        while True:
            p = page_fn(after)
            out += [r["id"] for r in p.rows]
            if p.next is None:
                return out
            after = p.next

    want = {("finance_detail", i) for y in m.finance_years() for i in ids(lambda a, y=y: m.finance_page(y, None, after=a))}
    want |= {("project_detail", i) for i in ids(lambda a: m.projects_page(after=a))}
    want |= {("service_detail", i) for i in ids(lambda a: m.services_page(after=a))}
    want |= {("asset_detail", i) for i in ids(lambda a: m.assets_page(after=a))}
    want |= {("power_detail", r["id"]) for r in m.powers()}
    assert len(want) == sum(ui.info.counts[k] for k in ("finance", "projects", "services", "assets", "powers"))

    reached: dict[tuple[str, str], int] = {}
    opened = set()  # list screens where a row was tapped and opened its record
    queue = deque([()])
    seen_states = set()
    while queue:
        path = queue.popleft()
        _replay(ui, path)
        scr = screen(ui)
        state = (ui.sm.current, tuple(sorted(
            (k, getattr(w, "selected", None)) for k, w in _tappables(ui, scr) if hasattr(w, "selected"))))
        if state in seen_states:
            continue
        seen_states.add(state)
        lst = scr.ids.get("list") if hasattr(scr, "ids") else None
        if lst is not None and ui.sm.current != "search" and len(path) < MAX_TAPS:
            rows = [r for r in _all_rows(ui, lst) if r.get("target") and r.get("rec_id")]
            for r in rows:
                reached.setdefault((r["target"], r["rec_id"]), len(path) + 1)
            if rows and ui.sm.current not in opened:  # the row is really a way in: tap one
                lst.scroll_y = 1
                pump(ui, 2)
                row = next(w for w in lst.children[0].children if getattr(w, "rec_id", None) == rows[0]["rec_id"])
                tap(ui, row)
                until(ui, lambda: ui.sm.current == rows[0]["target"] and not ui.busy)
                assert getattr(screen(ui), "record", None) is None or screen(ui).record["id"] == rows[0]["rec_id"]
                opened.add(state[0])
                _replay(ui, path)
                scr = screen(ui)
        if len(path) < MAX_TAPS - 1:
            for key, _w in _tappables(ui, scr):
                queue.append(path + (key,))
    missing = want - set(reached)
    assert not missing, f"{len(missing)} records not within {MAX_TAPS} taps, e.g. {sorted(missing)[:5]}"
    assert max(reached[k] for k in want) <= MAX_TAPS
    assert {"finance", "projects", "services", "assets", "powers"} <= opened
