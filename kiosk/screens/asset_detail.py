"""资产资源 · an asset's contract: 底价 and its review, deal price, term, rent and deposit."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import counterparty_label, date_cn, money
from kiosk import receipts
from kiosk.screens.assets import area_text  # shared with the list
from kiosk.screens.attention import Flagged
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import DetailScreen, kv_rows, rich, warm_pool


def asset_pairs(r: dict) -> list[tuple[str, str | None]]:
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    term = None
    if r.get("term_start") or r.get("term_end"):
        term = f"{date_cn(r['term_start']) if r.get('term_start') else '—'} 至 {date_cn(r['term_end']) if r.get('term_end') else '—'}"
    return [
        ("类别", f"{r['kind']} · {r['category']}"),
        ("面积", area_text(r)),
        ("状态", r["status"]),
        (counterparty_label(r.get("status")), r.get("counterparty")),
        ("处置方式", r.get("disposal_method")),
        ("底价", opt(r.get("reserve_price"))),
        ("底价评审", r.get("reserve_review")),
        ("成交价", opt(r.get("deal_price"))),
        ("期限", term),
        ("年租金", opt(r.get("annual_rent"))),
        ("保证金", opt(r.get("deposit"))),
    ]


class AssetDetailScreen(Flagged, DetailScreen):
    flag_kind = "assets"
    heading = "资产资源"

    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 8)

    def fetch(self, m, id):
        return m.asset_get(id)

    def receipt(self, r, info, link=None):
        return receipts.asset(r, info, link)

    def pairs(self, r):
        return asset_pairs(r)

    def show(self, r):
        self.title = r["name"]
        opt = lambda v: money(v) if v is not None else "—"  # noqa: E731
        self.ids.reserve.text = rich(f"底价\n{opt(r.get('reserve_price'))}")
        self.ids.deal.text = rich(f"成交价\n{opt(r.get('deal_price'))}")
        self.ids.rent.text = rich(f"年租金\n{opt(r.get('annual_rent'))}")
        shown = {"底价", "成交价", "年租金"}  # already in the price boxes above
        kv_rows(self.ids.rows, [(k, v) for k, v in asset_pairs(r) if k not in shown])


Builder.load_file(os.path.join(os.path.dirname(__file__), "asset_detail.kv"))
