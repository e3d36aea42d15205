"""查找 and 选择村 screens in the shared app: search by tapping, the township kiosk's village
buttons, staff mode of 查找 behind the technician PIN, and the grid buttons reused between
visits."""
from __future__ import annotations

import os
import shutil

import pytest
from conftest import UI_PIN, build_bundle, run_cli
from uikit import show_data, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

DETAIL = {"finance": "finance_detail", "assets": "asset_detail", "projects": "project_detail",
          "services": "service_detail", "powers": "power_detail"}


def rows(s):
    return [(r["target"], r["rec_id"]) for r in s.ids.results.data]


def inputs(app) -> int:
    """TextInputs anywhere in the built screens."""
    from kivy.uix.textinput import TextInput

    return sum(isinstance(w, TextInput) for s in app.sm.screens for w in walk(s))


def _mirror(app):
    from kiosk.cache.mirror import open_current

    return open_current(app.home)


def test_search_screen_groups_and_opens(ui, tmp_path):
    m = _mirror(ui)
    want = m.search("租金")
    surnames = [t for t, _ in m.search_facets()["surname"]][:3]
    m.close()
    ui.go("search")
    pump(ui)
    s = ui.sm.get_screen("search")
    assert [b.text.split(" ")[0] for b in reversed(s.ids.grid.children)][:3] == surnames
    s.pick("word", "租金")
    pump(ui)
    data = s.ids.results.data
    hits = [(h.kind, h.record_id) for g in want.groups.values() for h in g]
    assert [r for r in rows(s) if r[0]] == [(DETAIL[k], rid) for k, rid in hits]
    assert len([r for r in data if not r["target"]]) == sum(1 for g in want.groups.values() if g) >= 1
    s.show_tab("pinyin")
    pump(ui)
    assert len(s.ids.grid.children) == 24  # 23 letters + 退格
    first = next(r for r in data if r["target"])
    ui.go(first["target"], id=first["rec_id"])
    pump(ui)
    assert ui.sm.current == rows(s)[1][0] == first["target"]


def test_township_kiosk_opens_on_village_buttons(ui, tmp_path, test_key, monkeypatch):
    from sourcekit import small_source, write_source

    root = tmp_path / "src"
    write_source(root / "431382111249")
    data = small_source()
    data["village"]["code"] = "431382111202"
    write_source(root / "431382111202", data)
    b = build_bundle(root, test_key, 1, tmp_path / "b")
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(home))
    assert run_cli("trust", test_key / "signing.pub") == 0 and run_cli("import", b) == 0
    show_data(ui, home)
    assert ui.sm.current == "villages" and ui.multi_village
    scr = ui.sm.get_screen("villages")
    until(ui, lambda: len(scr.ids.grid.children) == 2)
    scr.choose(scr.villages[-1]["code"])
    until(ui, lambda: ui.sm.current == "home")
    assert ui.village_name == "洪泉村" and ui.history == ["villages"]
    ui.back()
    pump(ui)
    assert ui.sm.current == "villages"
    scr.choose(scr.villages[-1]["code"])
    until(ui, lambda: ui.sm.current == "home")
    ui.go("search")
    pump(ui)
    s = ui.sm.get_screen("search")
    s.pick("word", "租金")
    pump(ui)
    assert rows(s) == [("", ""), ("finance_detail", "431382111249/F5")]


def test_staff_search_behind_pin(ui, tmp_path):
    m = _mirror(ui)
    one = lambda sql: next(iter(dict(m.con.execute(sql).fetchone()).values()))  # noqa: E731
    summary = one("SELECT summary FROM finance ORDER BY date, id LIMIT 1")
    voucher, voucher_id = m.con.execute("SELECT voucher_no, id FROM finance ORDER BY date, id LIMIT 1").fetchone().values()
    ini = one("SELECT initials FROM search WHERE initials != '' LIMIT 1").split()[0]
    # typed text → the kiosk.search query it must run: letters only are pinyin initials
    asked = {summary[-3:]: {"text": summary[-3:]}, voucher: {"text": voucher}, ini.lower(): {"initials": ini.upper()},
             "没有这种词": {"text": "没有这种词"}}
    queries = list(asked)
    want = {q: [(DETAIL[k], h.record_id) for k, g in m.search(**a).groups.items() for h in g] for q, a in asked.items()}
    m.close()
    assert want[queries[0]] and want[queries[1]] and want[queries[2]]
    assert ("finance_detail", voucher_id) in want[queries[1]]  # 凭证号 is indexed

    # public: no text box; the grid's buttons are the same objects on the next visit
    ui.go("search")
    pump(ui)
    s = ui.sm.get_screen("search")
    grid = s.ids.grid
    assert inputs(ui) == 0
    first = [id(b) for b in grid.children]
    s.show_tab("word")
    pump(ui)
    words = [id(b) for b in grid.children]
    ui.go_home()
    pump(ui)
    ui.go("search", staff=True)  # not from the technician menu: public
    pump(ui)
    assert [s.staff, inputs(ui)] == [False, 0]
    assert [id(b) for b in grid.children] == first and len(first) >= 3
    s.show_tab("word")
    pump(ui)
    assert [id(b) for b in grid.children] == words and words

    ui.go("technician")
    pump(ui)
    tech = ui.sm.get_screen("technician")
    ui.go("search", staff=True)  # PIN not entered yet
    pump(ui)
    assert [tech.state, s.staff, inputs(ui)] == ["pin", False, 0]
    ui.go("technician")
    pump(ui)
    pad = tech.ids.pad
    pad.entered = UI_PIN
    pad.submit()
    until(ui, lambda: tech.state == "menu")
    tap(ui, tech.ids.staff_search)
    box = s._staff_box
    assert [ui.sm.current, s.staff, inputs(ui), box.focus] == ["search", True, 1, True]
    for q in queries:
        box.text = q
        box.dispatch("on_text_validate")
        pump(ui)
        assert [r for r in rows(s) if r[0]] == want[q], q
        if q == "没有这种词":
            assert rows(s) == [("", "")]  # the 没有找到 line
        elif q == ini.lower():
            assert s.summary == f"查找：首字母 {ini.upper()}"
        elif q == queries[0]:
            assert s.summary == f"查找：“{queries[0]}”"
    box.text = queries[0]
    tap(ui, s._staff_row.ids.go)
    assert [r for r in rows(s) if r[0]] == want[queries[0]]
    th = ui.theme
    from kivy.uix.textinput import TextInput

    small = [f"{getattr(w, 'text', '')!r} {list(w.size)}" for w in walk(s)
             if (hasattr(w, "on_release") or isinstance(w, TextInput)) and (w.width < th.target or w.height < th.target)]
    assert not small, small
    fonts = [w.font_size for w in walk(s) if isinstance(w, TextInput)]
    assert fonts and min(fonts) >= th.min_font
    from kivy.core.window import Window

    png = Window.screenshot(name=str(tmp_path / "staff.png"))
    assert os.path.getsize(png) > 10_000
    if os.environ.get("KIOSK_SHOTS"):
        shutil.copy(png, os.path.join(os.environ["KIOSK_SHOTS"], "search-staff.png"))

    # a record opened from the results comes back to staff mode; any other way out ends it
    hit = next(r for r in s.ids.results.data if r["target"])
    ui.go(hit["target"], id=hit["rec_id"])
    pump(ui)
    assert inputs(ui) == 0
    ui.back()
    pump(ui)
    assert [ui.sm.current, s.staff, inputs(ui)] == ["search", True, 1]
    ui.back()  # 返回 to the technician menu ends it
    pump(ui)
    assert [ui.sm.current, s.staff, inputs(ui)] == ["technician", False, 0]
    ui.go("search", staff=True)
    pump(ui)
    assert [s.staff, inputs(ui)] == [True, 1]  # the menu is still unlocked behind 返回
    ui.go_home()
    pump(ui)
    assert [ui.sm.current, s.staff, inputs(ui)] == ["home", False, 0]
    ui.go("technician", unlocked=True)
    pump(ui)
    ui.go("search", staff=True)
    pump(ui)
    assert s.staff
    ui.test_clock.t += 10_000
    ui.nav.tick()
    pump(ui)
    assert [ui.sm.current, s.staff, inputs(ui)] == ["home", False, 0]


def test_switching_tabs_starts_a_fresh_search(ui):
    """The tester tapped 常用词 › a word, then B T on the pad and got "补贴 · 首字母 BT" with
    nothing found: another tab now starts a fresh search, so the pad searches the letters only."""
    m = _mirror(ui)
    word = m.search_facets()["word"][0][0]
    ini = next(r["initials"].split()[0][:2].upper() for r in m.con.execute(
        "SELECT initials FROM search WHERE initials != ''") if len(r["initials"].split()[0]) >= 2)
    flat = lambda res: [(DETAIL[k], h.record_id) for k, g in res.groups.items() for h in g]  # noqa: E731
    want_word, want_ini = flat(m.search(word)), flat(m.search(initials=ini))
    both = flat(m.search(word, ini))
    m.close()
    assert want_ini and want_word and want_ini != both  # the combined search found other records
    ui.go("search")
    pump(ui)
    s = ui.sm.get_screen("search")
    chip = {c.text: c for c in s.ids.tabs.children}
    tap(ui, chip["常用词"])
    tap(ui, next(b for b in s.ids.grid.children if getattr(b, "term", None) == word))
    assert s.summary == f"查找：“{word}”" and [r for r in rows(s) if r[0]] == want_word
    tap(ui, chip["拼音首字母"])
    assert [s.summary, rows(s)] == ["请点左边的按钮", []]
    keys = {b.text: b for b in s.ids.grid.children}
    for ch in ini:
        tap(ui, keys[ch])
    assert s.summary == f"查找：首字母 {ini}" and [r for r in rows(s) if r[0]] == want_ini
    tap(ui, chip["拼音首字母"])  # the same tab again keeps the letters
    assert s.summary == f"查找：首字母 {ini}"
    tap(ui, chip["常用词"])
    assert [s.summary, rows(s)] == ["请点左边的按钮", []]
