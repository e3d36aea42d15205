"""权力清单: the items by class; an item's procedure is kiosk.screens.power_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.screens import listtools
from kiosk.screens.listtools import select_chip, set_chips
from kiosk.screens.widgets import KioskScreen, rich, row_spoken

CLASSES = ("重大决策", "日常管理", "便民服务")


def power_row(r: dict) -> dict:
    sample = " · 示例" if r.get("sample") else ""
    return {"title": rich(f"{r['no']}. {r['name']}"), "sub": rich(f"{r['class']} · 执行：{r['executor']}{sample}"),
            "side": "", "target": "power_detail", "rec_id": r["id"]}


class PowersScreen(KioskScreen):
    warm_on_idle = True
    klass = StringProperty("")

    def open(self, **params):
        set_chips(self.ids.classes, (("全部", ""),) + tuple((c, c) for c in CLASSES), self.select)
        self.select("")

    def select(self, klass: str) -> None:
        self.klass = klass
        select_chip(self.ids.classes, klass)
        self.ids.list.show_rows([])
        # the power list is short (tens of items): one call, still off the main thread
        self.load(lambda m: m.powers(klass or None), self._got)

    def _got(self, rows):
        self.ids.list.show_rows([power_row(r) for r in rows])

    def spoken(self) -> list[tuple[str, str]]:
        n = len(self.ids.list.data)
        out = [("", self.frame_title()), ("", f"{self.klass or '全部事项'}，共 {n} 项")]
        for row in self.ids.list.shown_rows():
            out += row_spoken(row)
        return out


assert listtools  # kv: ToolRow, ToTopButton
Builder.load_file(os.path.join(os.path.dirname(__file__), "powers.kv"))
