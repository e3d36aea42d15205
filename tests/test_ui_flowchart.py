"""权力清单 flowcharts: every box of every procedure of the demo list shows its whole label,
inside the box, at every text size and at the widths the chart gets on a wide and on a
narrow panel (the tester saw only 议 of 村民代表会议民主评议 and 开 of 公开栏及查询终端公开)."""
from __future__ import annotations

import pytest
from layoutcheck import TOL, needed_size, plain, rect
from uikit import until

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


@pytest.fixture()
def powers(ui):
    box = {}
    ui.data.submit(lambda m: [m.power_get(p["id"]) for p in m.powers()], lambda res: box.setdefault("p", res))
    until(ui, lambda: "p" in box)
    return box["p"]


@pytest.fixture()
def scaled(ui):
    """The shared app at a text scale, put back to 标准 afterwards."""
    yield lambda s: (ui.set_display(text_scale=s), pump(ui, 2))
    ui.set_display(text_scale=1.0)
    pump(ui, 2)


def test_every_box_shows_its_whole_label(ui, powers, scaled):
    from kiosk.linebreak import strip_marks
    from kiosk.screens.power_detail import FlowChart

    labels = {s["label"] for p in powers for s in p["steps"]}
    assert {"村民代表会议民主评议", "公开栏及查询终端公开"} <= labels  # the tester's two boxes
    assert len(powers) == 28
    problems, checked = [], 0
    for scale in (1.0, 1.25, 1.5):
        scaled(scale)
        th = ui.theme
        # the chart's widths: beside the facts on a 1920 px panel, alone on a narrow one
        for width in (th.mm(150), th.mm(260)):
            chart = FlowChart(size_hint=(None, None), width=width)
            for p in powers:
                chart.show(p["steps"], p["edges"])
                for lbl in chart.children:
                    lbl.texture_update()
                lay = chart._lay
                for step in p["steps"]:
                    b = lay.boxes[step["id"] if "id" in step else step["step_id"]]
                    lbl = chart.box_labels[b.id]
                    checked += 1
                    where = f"×{scale:g} {width}px {p['name']} / {step['label']}"
                    if strip_marks(plain(lbl.text)) != step["label"]:
                        problems.append(f"{where}: shows {plain(lbl.text)!r}")
                    nw, nh = needed_size(lbl)
                    if nh > lbl.height + TOL or nw > lbl.width + TOL:
                        problems.append(f"{where}: needs {nw:.0f}×{nh:.0f}, has {lbl.width:.0f}×{lbl.height:.0f}")
                    x0, y0, x1, y1 = rect(lbl)
                    top = chart.height - b.y  # layout y grows down
                    bx0, by0 = chart.to_window(b.x, top - b.h)
                    if x0 < bx0 - TOL or x1 > bx0 + b.w + TOL or y0 < by0 - TOL or y1 > by0 + b.h + TOL:
                        problems.append(f"{where}: label outside its box")
                if lay.width > width + TOL:
                    problems.append(f"×{scale:g} {p['name']}: chart {lay.width:.0f}px wider than its {width}px")
    assert checked >= 28 * 4 * 6 and not problems, "\n".join(problems[:40])


def test_the_shown_chart_fits_its_pane_and_redraws_at_a_new_text_size(ui, powers, scaled):
    """On 权力清单 itself: the chart is as wide as its pane, and 特大字 draws it again with
    bigger boxes whose labels still fit."""
    p = next(p for p in powers if any(s["label"] == "村民代表会议民主评议" for s in p["steps"]))
    ui.go("powers")
    pump(ui)
    ui.go("power_detail", id=p["id"])
    pump(ui, 3)
    chart = ui.sm.current_screen.ids.chart
    box_h = chart._lay.boxes[next(iter(chart._lay.boxes))].h
    assert chart._lay.width <= chart.width + TOL
    scaled(1.5)
    pump(ui, 3)
    assert chart._lay.boxes[next(iter(chart._lay.boxes))].h > box_h and chart._lay.width <= chart.width + TOL
    lbl = next(lb for lb in chart.box_labels.values() if plain(lb.text) == "村民代表会议民主评议")
    nw, nh = needed_size(lbl)
    assert nh <= lbl.height + TOL and nw <= lbl.width + TOL
