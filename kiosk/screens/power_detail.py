"""权力清单 · an item: its procedure drawn as boxes and arrows from its graph (layout:
kiosk.screens.flowlayout), with basis, executor, supervisor, 材料 and 时限."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Line, Mesh, Rectangle, RoundedRectangle, Triangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.relativelayout import RelativeLayout

from kiosk.screens.attention import Flagged
from kiosk.screens.flowlayout import layout
from kiosk.screens.theme import COLORS, GLYPH_BOX
from kiosk.screens.widgets import DetailScreen, KLabel, kv_rows, rich, text_size_of, warm_pool

#: words that mark a branch going backwards or refused: drawn in red, others in green
NEGATIVE = ("不", "退回", "驳回", "否")


def power_pairs(p: dict) -> list[tuple[str, str | None]]:
    return [
        ("类别", f"{p['class']} 第{p['no']}项"),
        ("依据", p["basis"]),
        ("执行主体", p["executor"]),
        ("监督主体", p["supervisor"]),
        ("所需材料", p.get("materials")),
        ("办理时限", p.get("time_limit")),
    ]


class FlowChart(RelativeLayout):
    """The procedure as boxes and arrows: start/end rounded, decisions as hexagons on a
    yellow ground, branch labels next to their edges, back-edges up a right-hand channel.

    The chart fits the width it is given: boxes get narrower (down to :data:`BOX_MIN_MM`)
    and every label wraps inside its box (禁则), all boxes as tall as the longest label
    needs, so a box always shows its whole label. It is drawn again when its width, the
    text size or the palette changes.
    """

    #: box width (mm at the text scale): at most, and the least before the chart scrolls
    BOX_MAX_MM = 96
    BOX_MIN_MM = 34

    def __init__(self, **kw):
        super().__init__(**kw)
        self._graph = ([], [])
        self._drawn_for = None
        self._box_labels: list = []   # labels made so far, reused by every drawing
        self._edge_labels: list = []
        self._redraw = Clock.create_trigger(self._draw, -1)
        self.fbind("width", self._redraw)

    def show(self, steps: list[dict], edges: list[dict]) -> None:
        self._graph = (steps, edges)
        self._drawn_for = None
        self._draw()

    def clear(self) -> None:
        self._graph = ([], [])
        self._drawn_for = None
        self.clear_widgets()
        self.canvas.clear()
        self.height = 0

    def restyle(self) -> None:
        self._drawn_for = None
        self._redraw()  # once, at the next frame, whatever else changed meanwhile

    def sizes(self, steps, edges, th, width: float) -> dict:
        """Box size and gaps for a chart ``width`` px wide (see the class docstring)."""
        f = th.fonts["body"]
        channel, gap_x = th.mm(7), th.mm(16)
        glyph = f * GLYPH_BOX
        gap_y = max(th.mm(22), int(2.6 * glyph))  # a branch label fits between two layers
        probe = layout(steps, edges, box_w=100, box_h=100, gap_x=gap_x, gap_y=gap_y, channel=channel, char_w=f)
        widest = max(sum(1 for b in probe.boxes.values() if b.layer == n) for n in {b.layer for b in probe.boxes.values()})
        fixed = probe.width - widest * 100  # channels, gaps and the room for back-edge labels
        box_w = int(min(th.mm(self.BOX_MAX_MM), max(th.mm(self.BOX_MIN_MM), (width - fixed) / widest)))
        pad_x, pad_y, inset = th.mm(3), th.mm(2), th.mm(6)
        text_h = 0
        for s in steps:
            bold = s.get("kind", "step") != "step"
            lw = box_w - 2 * pad_x - (2 * inset if s.get("kind") == "decision" else 0)
            text_h = max(text_h, text_size_of(rich(s.get("label", "")), lw, f, bold)[1])
        box_h = max(th.mm(30), text_h + 2 * pad_y + th.mm(2))
        return {"box_w": box_w, "box_h": box_h, "gap_x": gap_x, "gap_y": gap_y, "channel": channel,
                "char_w": f, "pad_x": pad_x, "pad_y": pad_y, "inset": inset}

    def _draw(self, *_):
        steps, edges = self._graph
        th = App.get_running_app().theme
        key = (id(steps), int(self.width), th)
        if not steps or self.width <= 100 or key == self._drawn_for:
            return
        self._drawn_for = key
        self.clear_widgets()  # (the labels are reused: creating a Kivy label costs milliseconds)
        self.canvas.clear()
        boxes, edges_l = list(self._box_labels), list(self._edge_labels)
        #: step id → the label in its box (tests check each shows its whole label)
        self.box_labels = {}
        z = self.sizes(steps, edges, th, self.width)
        lay = layout(steps, edges, box_w=z["box_w"], box_h=z["box_h"], gap_x=z["gap_x"], gap_y=z["gap_y"],
                     channel=z["channel"], char_w=z["char_w"])
        self.height = lay.height
        self._lay = lay
        top = lambda y: self.height - y  # noqa: E731  layout y grows down, Kivy's up
        with self.canvas:
            Color(*COLORS["line"])
            for r in lay.routes:
                pts = []
                for x, y in r.points:
                    pts += [x, top(y)]
                Line(points=pts, width=2.5)
                (x1, y1), (x2, y2) = r.points[-2], r.points[-1]
                self._arrow(x2, top(y2), x2 - x1, -(y2 - y1), th.mm(4))
            for b in lay.boxes.values():
                self._box(b, top, z["inset"])
        for b in lay.boxes.values():
            inset = z["pad_x"] + (z["inset"] if b.kind == "decision" else 0)
            lbl = boxes.pop() if boxes else self._new_label(self._box_labels, halign="center", valign="middle")
            self.box_labels[b.id] = lbl
            lbl.text, lbl.bold = rich(b.label), b.kind != "step"
            lbl.size = (b.w - 2 * inset, b.h - 2 * z["pad_y"])
            lbl.text_size = lbl.size
            lbl.pos = (b.x + inset, top(b.y + b.h) + z["pad_y"])
            # the box shape itself paints the background (see _box)
            lbl.contrast_bg = COLORS["decision_bg"] if b.kind == "decision" else COLORS["row_bg"]
            self.add_widget(lbl)
        for r in lay.routes:
            if r.label and r.label_at:
                x, y = r.label_at
                lbl = edges_l.pop() if edges_l else self._new_label(self._edge_labels, bold=True)
                lbl.text = rich(r.label)
                lbl.color = COLORS["expense"] if any(w in r.label for w in NEGATIVE) else COLORS["income"]
                lbl.texture_update()
                lbl.size = lbl.texture_size
                lbl.bg_color = COLORS["bg"]
                lbl.pos = (x, top(y) - lbl.height / 2)
                self.add_widget(lbl)

    @staticmethod
    def _new_label(pool: list, **kw):
        lbl = KLabel(size_hint=(None, None), **kw)
        pool.append(lbl)
        return lbl

    def _arrow(self, x, y, dx, dy, s):
        import math

        n = math.hypot(dx, dy) or 1
        ux, uy = dx / n, dy / n
        bx, by = x - ux * s * 1.6, y - uy * s * 1.6
        Triangle(points=[x, y, bx - uy * s * 0.7, by + ux * s * 0.7, bx + uy * s * 0.7, by - ux * s * 0.7])

    def _box(self, b, top, inset):
        x, y, w, h = b.x, top(b.y + b.h), b.w, b.h
        bg = COLORS["decision_bg"] if b.kind == "decision" else COLORS["row_bg"]
        Color(*bg)
        if b.kind == "decision":
            k = inset
            pts = [x, y + h / 2, x + k, y + h, x + w - k, y + h, x + w, y + h / 2, x + w - k, y, x + k, y]
            Mesh(vertices=sum(([pts[i], pts[i + 1], 0, 0] for i in range(0, 12, 2)), []),
                 indices=list(range(6)), mode="triangle_fan")
            Color(*COLORS["line"])
            Line(points=pts, close=True, width=3)
        elif b.kind in ("start", "end"):
            r = min(h / 2.2, w / 4)
            RoundedRectangle(pos=(x, y), size=(w, h), radius=[r])
            Color(*COLORS["line"])
            Line(rounded_rectangle=(x, y, w, h, r), width=3.5)
        else:
            Rectangle(pos=(x, y), size=(w, h))
            Color(*COLORS["line"])
            Line(rectangle=(x, y, w, h), width=2.5)


class PowerDetailScreen(Flagged, DetailScreen):
    flag_kind = "powers"  # no rule concerns the power list: 打印问题反映单 only
    heading = "权力清单"
    cleared = ("rows", "chart")

    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 6)

    sample = BooleanProperty(False)

    def clear(self):
        super().clear()
        self.ids.chart.clear()  # the flowchart's boxes and arrows are drawn, not widgets

    def restyle(self):
        self.ids.chart.restyle()

    def fetch(self, m, id):
        return m.power_get(id)

    def pairs(self, p):
        """朗读: the item's fields, then its procedure's steps in order."""
        steps = "，".join(s["label"] for s in p.get("steps") or [] if s.get("label"))
        return power_pairs(p) + ([("办理流程", steps)] if steps else [])

    def show(self, p):
        self.title = p["name"]
        info = App.get_running_app().info
        self.sample = bool(p.get("sample")) or bool(info and info.power_list_sample)
        kv_rows(self.ids.rows, power_pairs(p))
        self.ids.chart.show(p.get("steps") or [], p.get("edges") or [])


Builder.load_file(os.path.join(os.path.dirname(__file__), "power_detail.kv"))
