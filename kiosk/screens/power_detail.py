"""权力清单 · an item: its procedure drawn as boxes and arrows from its graph (layout:
kiosk.screens.flowlayout), with basis, executor, supervisor, 材料 and 时限."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.graphics import Color, Line, Mesh, Rectangle, RoundedRectangle, Triangle
from kivy.lang import Builder
from kivy.properties import BooleanProperty
from kivy.uix.widget import Widget

from kiosk.screens.attention import Flagged
from kiosk.screens.flowlayout import layout
from kiosk.screens.theme import COLORS
from kiosk.screens.widgets import DetailScreen, KLabel, kv_rows, rich, warm_pool

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


class FlowChart(Widget):
    """The procedure as boxes and arrows: start/end rounded, decisions as hexagons on a
    yellow ground, branch labels next to their edges, back-edges up a right-hand channel."""

    def show(self, steps: list[dict], edges: list[dict]) -> None:
        th = App.get_running_app().theme
        self.clear_widgets()
        self.canvas.clear()
        f = th.fonts["body"]
        lay = layout(steps, edges, box_w=th.mm(96), box_h=th.mm(30), gap_x=th.mm(16),
                     gap_y=th.mm(22), channel=th.mm(7), char_w=f)
        self.size = (lay.width, lay.height)
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
                self._box(b, top)
        for b in lay.boxes.values():
            lbl = KLabel(text=rich(b.label), bold=b.kind != "step", halign="center", valign="middle",
                         size=(b.w - th.mm(6), b.h - th.mm(2)),
                         pos=(b.x + th.mm(3), top(b.y + b.h) + th.mm(1)))
            lbl.text_size = lbl.size
            # the box shape itself paints the background (see _box)
            lbl.contrast_bg = COLORS["decision_bg"] if b.kind == "decision" else COLORS["row_bg"]
            self.add_widget(lbl)
        for r in lay.routes:
            if r.label and r.label_at:
                x, y = r.label_at
                lbl = KLabel(text=rich(r.label), bold=True, color=COLORS["expense"] if any(w in r.label for w in NEGATIVE) else COLORS["income"],
                             size_hint=(None, None))
                lbl.texture_update()
                lbl.size = lbl.texture_size
                lbl.bg_color = COLORS["bg"]
                lbl.pos = (x, top(y) - lbl.height / 2)
                self.add_widget(lbl)

    def _arrow(self, x, y, dx, dy, s):
        import math

        n = math.hypot(dx, dy) or 1
        ux, uy = dx / n, dy / n
        bx, by = x - ux * s * 1.6, y - uy * s * 1.6
        Triangle(points=[x, y, bx - uy * s * 0.7, by + ux * s * 0.7, bx + uy * s * 0.7, by - ux * s * 0.7])

    def _box(self, b, top):
        x, y, w, h = b.x, top(b.y + b.h), b.w, b.h
        bg = COLORS["decision_bg"] if b.kind == "decision" else COLORS["row_bg"]
        Color(*bg)
        if b.kind == "decision":
            k = h / 2.6
            pts = [x, y + h / 2, x + k, y + h, x + w - k, y + h, x + w, y + h / 2, x + w - k, y, x + k, y]
            Mesh(vertices=sum(([pts[i], pts[i + 1], 0, 0] for i in range(0, 12, 2)), []),
                 indices=list(range(6)), mode="triangle_fan")
            Color(*COLORS["line"])
            Line(points=pts, close=True, width=3)
        elif b.kind in ("start", "end"):
            RoundedRectangle(pos=(x, y), size=(w, h), radius=[h / 2.2])
            Color(*COLORS["line"])
            Line(rounded_rectangle=(x, y, w, h, h / 2.2), width=3.5)
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
        self.ids.chart.canvas.clear()  # the flowchart's boxes and arrows are drawn, not widgets

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
