"""资产资源: paged list (filter 资产 / 资源) and an asset's contract: 底价 and its review, deal
price, term, rent and deposit."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.formatting import date_cn, money
from kiosk import receipts
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import Chip, KioskScreen, kv_rows, rich, warm_pool


def _area(r: dict) -> str | None:
    if r.get("area") is None:
        return None
    a = r["area"]
    s = f"{a:f}".rstrip("0").rstrip(".") if "." in f"{a:f}" else f"{a:f}"
    return f"{s} {r.get('area_unit') or ''}".strip()


def asset_row(r: dict) -> dict:
    parts = [r["kind"], r["category"], _area(r), r["status"]]
    right = f"年租金 {money(r['annual_rent'])}" if r.get("annual_rent") is not None else ""
    return {"title": rich(r["name"]), "sub": rich(" · ".join(p for p in parts if p)),
            "side": rich(right), "target": "asset_detail", "rec_id": r["id"]}


def asset_pairs(r: dict) -> list[tuple[str, str | None]]:
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    term = None
    if r.get("term_start") or r.get("term_end"):
        term = f"{date_cn(r['term_start']) if r.get('term_start') else '—'} 至 {date_cn(r['term_end']) if r.get('term_end') else '—'}"
    return [
        ("类别", f"{r['kind']} · {r['category']}"),
        ("面积", _area(r)),
        ("状态", r["status"]),
        ("承租方", r.get("counterparty")),
        ("处置方式", r.get("disposal_method")),
        ("底价", opt(r.get("reserve_price"))),
        ("底价评审", r.get("reserve_review")),
        ("成交价", opt(r.get("deal_price"))),
        ("期限", term),
        ("年租金", opt(r.get("annual_rent"))),
        ("保证金", opt(r.get("deposit"))),
    ]


class AssetsScreen(KioskScreen):
    kind = StringProperty("")

    def open(self, **params):
        box = self.ids.kinds
        if not box.children:
            for label, value in (("全部", ""), ("资产", "资产"), ("资源", "资源")):
                box.add_widget(Chip(text=label, value=value, on_release=lambda c: self.select(c.value)))
        self.select("")

    def select(self, kind: str) -> None:
        self.kind = kind
        for c in self.ids.kinds.children:
            c.selected = c.value == kind
        self.ids.list.start(lambda m, after: m.assets_page(kind=kind or None, after=after), asset_row)


class AssetDetailScreen(KioskScreen):
    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 8)

    printable = BooleanProperty(False)

    def open(self, id=None, **params):
        self.printable = False
        self.ids.rows.clear_widgets()
        self.title = "资产资源"
        self.load(lambda m: m.asset_get(id), self._got)

    def _got(self, r):
        self.record = r
        if r is None:
            kv_rows(self.ids.rows, [("", "没有这条记录")])
            return
        self.ids.print_btn.build = lambda m: receipts.asset(r, m.info)
        self.printable = True
        self.title = r["name"]
        opt = lambda v: money(v) if v is not None else "—"  # noqa: E731
        self.ids.reserve.text = rich(f"底价\n{opt(r.get('reserve_price'))}")
        self.ids.deal.text = rich(f"成交价\n{opt(r.get('deal_price'))}")
        self.ids.rent.text = rich(f"年租金\n{opt(r.get('annual_rent'))}")
        shown = {"底价", "成交价", "年租金"}  # already in the price boxes above
        kv_rows(self.ids.rows, [(k, v) for k, v in asset_pairs(r) if k not in shown])


Builder.load_file(os.path.join(os.path.dirname(__file__), "assets.kv"))
