"""查找 and 选择村 screens, tapped through in a child process (Kivy keeps one window per
process and the session's app belongs to test_ui_screens); staff mode of 查找 behind the
technician PIN, and the grid buttons reused between visits."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.ui

SCRIPT = r'''
import json, os, sys, tempfile
os.environ.pop("DISPLAY", None)
from kiosk.app import configure_kivy
configure_kivy(windowed=True, size=(1280, 800))
from kivy.core.window import Window
from kiosk.app import KioskApp, pump, start_headless
app = KioskApp(sys.argv[1])
start_headless(app)
pump(app)
out = {"first": app.sm.current}
if out["first"] == "villages":
    scr = app.sm.get_screen("villages")
    out["village_buttons"] = len(scr.ids.grid.children)
    scr.choose(scr.villages[-1]["code"]); pump(app)
    out["after_choose"] = [app.sm.current, app.village_name]
    app.back(); pump(app)
    out["back_from_home"] = app.sm.current
    scr.choose(scr.villages[-1]["code"]); pump(app)
app.go("search"); pump(app)
s = app.sm.get_screen("search")
out["surname_buttons"] = [b.text.split(" ")[0] for b in reversed(s.ids.grid.children)][:3]
s.pick("word", "租金"); pump(app)
data = s.ids.results.data
out["rows"] = [(r["target"], r["rec_id"]) for r in data]
out["headers"] = [r["title"] for r in data if not r["target"]]
s.show_tab("pinyin"); pump(app)
out["pad_keys"] = len(s.ids.grid.children)
first = next(r for r in data if r["target"])
app.go(first["target"], id=first["rec_id"]); pump(app)
out["opened"] = app.sm.current
out["png"] = Window.screenshot(name=os.path.join(sys.argv[2], "shot.png"))
print("RESULT " + json.dumps(out, ensure_ascii=False))
app.stop()
'''


def _run(home, tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-search-test-"), KIOSK_HOME=str(home))
    p = subprocess.run([sys.executable, "-c", SCRIPT, str(home), str(tmp_path)], capture_output=True, text=True,
                       env=env, timeout=300)
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, p.stderr[-2000:]
    return json.loads(line[7:])


def test_search_screen_groups_and_opens(demo_home, tmp_path):
    from kiosk.cache.mirror import open_current

    m = open_current(demo_home)
    want = m.search("租金")
    surnames = [t for t, _ in m.search_facets()["surname"]][:3]
    m.close()
    got = _run(demo_home, tmp_path)
    assert got["first"] == "home"
    assert got["surname_buttons"] == surnames
    hits = [(h.kind, h.record_id) for g in want.groups.values() for h in g]
    detail = {"finance": "finance_detail", "assets": "asset_detail", "projects": "project_detail",
              "services": "service_detail", "powers": "power_detail"}
    assert [r for r in map(tuple, got["rows"]) if r[0]] == [(detail[k], rid) for k, rid in hits]
    assert len(got["headers"]) == sum(1 for g in want.groups.values() if g) >= 1
    assert got["pad_keys"] == 24  # 23 letters + 退格
    assert got["opened"] == got["rows"][1][0]
    assert os.path.getsize(got["png"]) > 10_000


def test_township_kiosk_opens_on_village_buttons(tmp_path, test_key, monkeypatch):
    from conftest import build_bundle, run_cli
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
    got = _run(home, tmp_path)
    assert got["first"] == "villages" and got["village_buttons"] == 2
    assert got["after_choose"] == ["home", "洪泉村"]
    assert got["back_from_home"] == "villages"
    assert [tuple(r) for r in got["rows"]] == [("", ""), ("finance_detail", "431382111249/F5")]


STAFF_PIN = "135790"

STAFF_SCRIPT = r"""
import json, os, sys
os.environ.pop("DISPLAY", None)
from kiosk.app import configure_kivy
configure_kivy(windowed=True, size=(1280, 800))
from kivy.core.window import Window
from kivy.tests.common import UnitTestTouch
from kivy.uix.textinput import TextInput
from kiosk.app import KioskApp, pump, start_headless
from kiosk.screens.update import show

home, outdir, pin, queries = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
app = KioskApp(home)
start_headless(app)
pump(app)

def walk(w):
    yield w
    for c in w.children:
        yield from walk(c)

def inputs():  # TextInputs anywhere in the built screens
    return sum(isinstance(w, TextInput) for s in app.sm.screens for w in walk(s))

def tap(w):
    x, y = w.to_window(*w.center)
    t = UnitTestTouch(x, y)
    t.touch_down(); pump(app, 1); t.touch_up(); pump(app, 3)

def wait(cond, n=2000):
    from kivy.base import EventLoop
    import time
    for _ in range(n):
        if cond():
            return pump(app)
        EventLoop.idle(); time.sleep(0.005)
    raise TimeoutError

def rows(s):
    return [[r["target"], r["rec_id"]] for r in s.ids.results.data]

out = {}
app.go("search"); pump(app)
s = app.sm.get_screen("search")
grid = s.ids.grid
out["public_inputs"] = inputs()
first = [id(b) for b in grid.children]
s.show_tab("word"); pump(app)
words = [id(b) for b in grid.children]
app.go_home(); pump(app)
app.go("search", staff=True); pump(app)  # not from the technician menu: public
out["home_staff_param"] = [s.staff, inputs()]
out["same_buttons"] = [id(b) for b in grid.children] == first and len(first) > 0
s.show_tab("word"); pump(app)
out["same_word_buttons"] = [id(b) for b in grid.children] == words and len(words) > 0
out["grid_buttons"] = len(first)

show(app, "technician"); pump(app)
tech = app.sm.get_screen("technician")
app.go("search", staff=True); pump(app)  # PIN not entered yet
out["pin_state_staff"] = [tech.state, s.staff, inputs()]
show(app, "technician"); pump(app)
pad = tech.ids.pad
pad.entered = pin
pad.submit()
wait(lambda: tech.state == "menu")
tap(tech.ids.staff_search)
box = s._staff_box
out["staff"] = [app.sm.current, s.staff, inputs(), box.focus]
got = {}
for q in queries:
    box.text = q
    box.dispatch("on_text_validate"); pump(app)
    got[q] = [rows(s), s.summary]
box.text = queries[0]
tap(s._staff_row.ids.go)
out["button_rows"] = rows(s)
out["typed"] = got
th = app.theme
small = [f"{getattr(w, 'text', '')!r} {list(w.size)}" for w in walk(s) if hasattr(w, "on_release") or isinstance(w, TextInput)
         if w.width < th.target or w.height < th.target]
fonts = [w.font_size for w in walk(s) if isinstance(w, TextInput)]
out["small"], out["input_font"], out["target"], out["min_font"] = small, fonts, th.target, th.min_font
out["png"] = Window.screenshot(name=os.path.join(outdir, "staff.png"))

hit = next(r for r in s.ids.results.data if r["target"])
app.go(hit["target"], id=hit["rec_id"]); pump(app)
out["detail"] = [app.sm.current, inputs()]
app.back(); pump(app)
out["back"] = [app.sm.current, s.staff, inputs()]
app.back(); pump(app)  # 返回 to the technician menu ends it
out["left"] = [app.sm.current, s.staff, inputs()]
app.go("search", staff=True); pump(app)
out["again"] = [s.staff, inputs()]
app.go_home(); pump(app)
out["home"] = [app.sm.current, s.staff, inputs()]

show(app, "technician", unlocked=True); pump(app)
app.go("search", staff=True); pump(app)
before = s.staff
t0 = app.now()
app.now = lambda: t0 + 10_000
app._check_idle(); pump(app)
out["idle"] = [before, app.sm.current, s.staff, inputs()]
print("RESULT " + json.dumps(out, ensure_ascii=False))
app.stop()
"""


@pytest.fixture(scope="module")
def staff_home(demo_home, tmp_path_factory):
    """A copy of the demo kiosk home with a technician PIN set (demo_home stays read-only)."""
    import shutil

    from kiosk.cache import pin

    h = tmp_path_factory.mktemp("staff") / "home"
    shutil.copytree(demo_home, h)
    pin.set_pin("technician", STAFF_PIN, home=h)
    return h


def test_staff_search_behind_pin(staff_home, tmp_path):
    from kiosk.cache.mirror import open_current

    m = open_current(staff_home)
    one = lambda sql: next(iter(dict(m.con.execute(sql).fetchone()).values()))  # noqa: E731
    summary = one("SELECT summary FROM finance ORDER BY date, id LIMIT 1")
    voucher, voucher_id = m.con.execute("SELECT voucher_no, id FROM finance ORDER BY date, id LIMIT 1").fetchone().values()
    ini = one("SELECT initials FROM search WHERE initials != '' LIMIT 1").split()[0]
    # typed text → the kiosk.search query it must run: letters only are pinyin initials
    asked = {summary[-3:]: {"text": summary[-3:]}, voucher: {"text": voucher}, ini.lower(): {"initials": ini.upper()},
             "没有这种词": {"text": "没有这种词"}}
    queries = list(asked)
    want = {q: [(k, h.record_id) for k, g in m.search(**a).groups.items() for h in g] for q, a in asked.items()}
    m.close()
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-staff-test-"), KIOSK_HOME=str(staff_home))
    p = subprocess.run([sys.executable, "-c", STAFF_SCRIPT, str(staff_home), str(tmp_path), STAFF_PIN,
                        json.dumps(queries, ensure_ascii=False)], capture_output=True, text=True, env=env, timeout=300)
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, p.stderr[-3000:]
    got = json.loads(line[7:])
    if os.environ.get("KIOSK_SHOTS"):
        import shutil

        shutil.copy(got["png"], os.path.join(os.environ["KIOSK_SHOTS"], "search-staff.png"))

    # public: no text box, the grid's buttons are the same objects on the next visit
    assert got["public_inputs"] == 0
    assert got["home_staff_param"] == [False, 0]
    assert got["same_buttons"] and got["same_word_buttons"] and got["grid_buttons"] >= 3
    assert got["pin_state_staff"] == ["pin", False, 0]
    # after the PIN: 员工查找 opens 查找 with one focused text box
    assert got["staff"] == ["search", True, 1, True]
    detail = {"finance": "finance_detail", "assets": "asset_detail", "projects": "project_detail",
              "services": "service_detail", "powers": "power_detail"}
    for q in queries:
        rows, summary_line = got["typed"][q]
        assert [tuple(r) for r in rows if r[0]] == [(detail[k], rid) for k, rid in want[q]], q
    # the summary substring, the voucher number (凭证号 is indexed) and the initials find records
    assert want[queries[0]] and want[queries[1]] and want[queries[2]]
    assert ("finance", voucher_id) in want[queries[1]]
    assert got["typed"][queries[2]][1] == f"查找：首字母 {ini.upper()}"
    assert got["typed"][queries[0]][1] == f"查找：“{queries[0]}”"
    assert got["typed"]["没有这种词"][0] == [["", ""]]  # the 没有找到 line
    assert [tuple(r) for r in got["button_rows"] if r[0]] == [(detail[k], rid) for k, rid in want[queries[0]]]
    assert not got["small"], got["small"]
    assert got["input_font"] and min(got["input_font"]) >= got["min_font"]
    # a record opened from the results comes back to staff mode; any other way out ends it
    assert got["detail"][1] == 0 and got["back"] == ["search", True, 1]
    assert got["left"] == ["technician", False, 0]
    assert got["again"] == [True, 1]  # the menu is still unlocked behind 返回
    assert got["home"] == ["home", False, 0]
    assert got["idle"] == [True, "home", False, 0]
    assert os.path.getsize(got["png"]) > 10_000


TABS_SCRIPT = r"""
import json, os, sys
os.environ.pop("DISPLAY", None)
from kiosk.app import configure_kivy
configure_kivy(windowed=True, size=(1280, 800))
from kivy.tests.common import UnitTestTouch
from kiosk.app import KioskApp, pump, start_headless

home, word, letters = sys.argv[1], sys.argv[2], sys.argv[3]
app = KioskApp(home)
start_headless(app)
pump(app)

def tap(w):
    x, y = w.to_window(*w.center)
    t = UnitTestTouch(x, y)
    t.touch_down(); pump(app, 1); t.touch_up(); pump(app, 3)

def rows(s):
    return [[r["target"], r["rec_id"]] for r in s.ids.results.data]

app.go("search"); pump(app)
s = app.sm.get_screen("search")
chip = {c.text: c for c in s.ids.tabs.children}
out = {}
tap(chip["常用词"])
tap(next(b for b in s.ids.grid.children if getattr(b, "term", None) == word))
out["word"] = [s.summary, rows(s)]
tap(chip["拼音首字母"])
out["switched"] = [s.summary, rows(s)]
keys = {b.text: b for b in s.ids.grid.children}
for ch in letters:
    tap(keys[ch])
out["pad"] = [s.summary, rows(s)]
tap(chip["拼音首字母"])  # the same tab again keeps the letters
out["same_tab"] = s.summary
tap(chip["常用词"])
out["back_to_words"] = [s.summary, rows(s)]
print("RESULT " + json.dumps(out, ensure_ascii=False))
app.stop()
"""


def test_switching_tabs_starts_a_fresh_search(demo_home):
    """The tester tapped 常用词 › a word, then B T on the pad and got "补贴 · 首字母 BT" with
    nothing found: another tab now starts a fresh search, so the pad searches the letters only."""
    from kiosk.cache.mirror import open_current

    m = open_current(demo_home)
    word = m.search_facets()["word"][0][0]
    ini = next(r["initials"].split()[0][:2].upper() for r in m.con.execute(
        "SELECT initials FROM search WHERE initials != ''") if len(r["initials"].split()[0]) >= 2)
    detail = {"finance": "finance_detail", "assets": "asset_detail", "projects": "project_detail",
              "services": "service_detail", "powers": "power_detail"}
    flat = lambda res: [[detail[k], h.record_id] for k, g in res.groups.items() for h in g]  # noqa: E731
    want_word, want_ini = flat(m.search(word)), flat(m.search(initials=ini))
    both = flat(m.search(word, ini))
    m.close()
    assert want_ini and want_word and want_ini != both  # the combined search found other records
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-tabs-test-"), KIOSK_HOME=str(demo_home))
    p = subprocess.run([sys.executable, "-c", TABS_SCRIPT, str(demo_home), word, ini], capture_output=True,
                       text=True, env=env, timeout=300)
    line = next((x for x in p.stdout.splitlines() if x.startswith("RESULT ")), None)
    assert line, p.stdout[-2000:] + p.stderr[-3000:]
    got = json.loads(line[7:])
    summary, rows = got["word"]
    assert summary == f"查找：“{word}”" and [r for r in rows if r[0]] == want_word
    assert got["switched"] == ["请点左边的按钮", []]
    summary, rows = got["pad"]
    assert summary == f"查找：首字母 {ini}"
    assert [r for r in rows if r[0]] == want_ini
    assert got["same_tab"] == f"查找：首字母 {ini}"
    assert got["back_to_words"] == ["请点左边的按钮", []]
