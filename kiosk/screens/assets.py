"""资产资源: the paged list (filter 资产 / 资源); an asset's contract is kiosk.screens.asset_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.formatting import money
from kiosk.screens import listtools
from kiosk.screens.listtools import select_chip, set_chips
from kiosk.screens.widgets import KioskScreen, rich, row_spoken

KINDS = (("全部", ""), ("资产", "资产"), ("资源", "资源"))


def area_text(r: dict) -> str | None:
    """The area with its unit, trailing zeros dropped (``"3.5 亩"``); None without an area."""
    if r.get("area") is None:
        return None
    a = r["area"]
    s = f"{a:f}".rstrip("0").rstrip(".") if "." in f"{a:f}" else f"{a:f}"
    return f"{s} {r.get('area_unit') or ''}".strip()


def asset_row(r: dict) -> dict:
    parts = [r["kind"], r["category"], area_text(r), r["status"]]
    right = f"年租金 {money(r['annual_rent'])}" if r.get("annual_rent") is not None else ""
    return {"title": rich(r["name"]), "sub": rich(" · ".join(p for p in parts if p)),
            "side": rich(right), "target": "asset_detail", "rec_id": r["id"]}


class AssetsScreen(KioskScreen):
    warm_on_idle = True
    kind = StringProperty("")

    def open(self, **params):
        set_chips(self.ids.kinds, KINDS, self.select)
        self.select("")

    def select(self, kind: str) -> None:
        self.kind = kind
        select_chip(self.ids.kinds, kind)
        self.ids.list.start(lambda m, after: m.assets_page(kind=kind or None, after=after), asset_row)

    def spoken(self) -> list[tuple[str, str]]:
        out = [("", self.frame_title()), ("", f"正在看：{self.kind or '全部资产和资源'}")]
        for row in self.ids.list.shown_rows():
            out += row_spoken(row)
        return out


assert listtools  # kv: ToolRow, ToTopButton
Builder.load_file(os.path.join(os.path.dirname(__file__), "assets.kv"))
