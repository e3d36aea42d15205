"""权力清单: the items by class; an item's procedure is kiosk.screens.power_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens.widgets import Chip, KioskScreen, rich

CLASSES = ("重大决策", "日常管理", "便民服务")


def power_row(r: dict) -> dict:
    sample = " · 示例" if r.get("sample") else ""
    return {"title": rich(f"{r['no']}. {r['name']}"), "sub": rich(f"{r['class']} · 执行：{r['executor']}{sample}"),
            "side": "", "target": "power_detail", "rec_id": r["id"]}


class PowersScreen(KioskScreen):
    warm_on_idle = True
    klass = StringProperty("")

    def open(self, **params):
        box = self.ids.classes
        if not box.children:
            for label, value in (("全部", ""),) + tuple((c, c) for c in CLASSES):
                box.add_widget(Chip(text=label, value=value, on_release=lambda c: self.select(c.value)))
        self.select("")

    def select(self, klass: str) -> None:
        self.klass = klass
        for c in self.ids.classes.children:
            c.selected = c.value == klass
        self.ids.list.data = []
        # the power list is short (tens of items): one call, still off the main thread
        self.load(lambda m: m.powers(klass or None), self._got)

    def _got(self, rows):
        self.ids.list.data = [dict(power_row(r), index=i) for i, r in enumerate(rows)]
        self.ids.list.scroll_y = 1


Builder.load_file(os.path.join(os.path.dirname(__file__), "powers.kv"))
