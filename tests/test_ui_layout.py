"""Every screen on every panel the county buys, at every text size and in both palettes:
nothing cut, clipped or overlapping, targets ≥ 20 mm, text ≥ 8 mm, contrast ≥ 7:1
(tests/layoutcheck.py), all read from the widget tree of the shared app.

One test per panel and setting renders every view of ``kiosk screenshot`` (the screens and
their states: 查找, 选择村, 技术员维护, U盘导入, 我的查询 with a demo card). The app and its
screens are shared and reused; each test leaves the panel and the setting as it found them.
"""
from __future__ import annotations

import pytest
from conftest import UI_SIZE
from layoutcheck import problems
from uikit import until

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

PANELS = [(1920, 1080), (1366, 768), (1280, 800), (1280, 1024), (1080, 1920)]
SETTINGS = [(1.0, False), (1.25, False), (1.5, False), (1.0, True), (1.25, True), (1.5, True)]
#: a township kiosk's picker, shown with these villages (the demo data holds one village)
TOWNSHIP = [{"code": f"43138211{t}{v:03d}", "name": name, "township_code": f"43138211{t}",
             "township_name": tname}
            for t, tname in ((1, "白马镇"), (2, "桥头河镇"))
            for v, name in enumerate(("洪泉村", "石门村", "黄泥坳村", "双江口社区", "枫树湾村", "大塘村", "新屋场村"))]


@pytest.fixture()
def panel_reset(ui, monkeypatch):
    """Puts the shared app back on its panel at 标准 and the default palette. Meanwhile no
    work ahead of use: 尚无数据 and back announce the data anew each time, and preparing every
    section again in the background is not what is tested here."""
    monkeypatch.setattr(ui.work_ahead, "restart", lambda: None)
    yield ui
    from kivy.core.window import Window

    Window.size = UI_SIZE
    ui.set_display(1.0, False, ui.cfg["panel"])
    ui.go_home()
    pump(ui, 3)


def set_panel(app, size, scale, contrast):
    from kivy.core.window import Window

    from kiosk.tools.screenshots import panel_for

    Window.size = size
    app.set_display(scale, contrast, panel_for(size, app.cfg["panel"]))
    pump(app, 3)
    assert tuple(app.sm.size) == size


def _villages_township(app):
    """选择村 as a township kiosk shows it, then one township's villages."""
    scr = app.sm.get_screen("villages")
    app.go("villages")
    pump(app)
    scr._got(("431382111", TOWNSHIP))
    pump(app, 3)
    yield "villages (townships)"
    scr.township = "431382111"
    scr._got(("431382111", TOWNSHIP))
    pump(app, 3)
    yield "villages (villages)"


def views(app):
    """Put each view up in turn; yields its name once it is shown."""
    from kiosk.tools.screenshots import VIEWS, show

    for name in VIEWS:
        if name == "villages":
            yield from _villages_township(app)
            continue
        show(app, name)
        pump(app, 2)
        yield name


@pytest.mark.parametrize("size", PANELS, ids=[f"{w}x{h}" for w, h in PANELS])
def test_every_view_fits(panel_reset, size):
    """One panel, every setting: 标准, 大字, 特大字, each in both palettes."""
    app = panel_reset
    found = []
    for scale, contrast in SETTINGS:
        set_panel(app, size, scale, contrast)
        seen = []
        for name in views(app):
            seen.append(name)
            scr = app.sm.current_screen
            found += [f"×{scale:g}{' 高对比' if contrast else ''} {name}: {p}" for p in problems(scr, app.theme)]
        assert len(seen) >= 25, seen
    assert not found, f"{len(found)} problems on {size[0]}×{size[1]}:\n" + summary(found)


def summary(found: list[str]) -> str:
    """One line per view and kind of problem: how many, and the first of them."""
    groups: dict[tuple[str, str], list[str]] = {}
    for f in found:
        view, _, what = f.partition(": ")
        groups.setdefault((view, what.split(":")[0].split(" ")[0] + " " + what.split(" ")[1]), []).append(what)
    return "\n".join(f"{view}: {len(v)}× {v[0]}" for (view, _), v in groups.items())
