"""查找 and 选择村 screens, tapped through in a child process (Kivy keeps one window per
process and the session's app belongs to test_ui_screens)."""
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
