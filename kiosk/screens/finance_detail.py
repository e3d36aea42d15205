"""财务收支 · 收支明细: one voucher line with its account's plain name, amount in capitals,
handler, reviewer, approver, attachments and the red-ink line it reverses, if any."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import amount_in_capitals, date_cn, money
from kiosk import receipts
from kiosk.receipts import DIRECTION
from kiosk.screens.attention import Flagged
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import DetailScreen, kv_rows, warm_pool


def finance_detail_pairs(r: dict) -> list[tuple[str, str | None]]:
    """The detail's rows (plain text)."""
    plain = r.get("plain_name") or r["account_name"]
    account = plain if plain == r["account_name"] else f"{plain}（{r['account_name']}）"
    pairs = [
        ("日期", date_cn(r["date"])),
        ("凭证号", r["voucher_no"]),
        ("摘要", r["summary"]),
        ("收支", DIRECTION[r["direction"]]),
        ("金额", f"{money(r['amount'])}（{amount_in_capitals(r['amount'])}）"),
        # the name villagers read; the code labelled on its own line (to compare with the
        # books), never a bare number after the name
        ("科目", account),
        ("科目代码", r["account_code"]),
        ("经手人", r["handler"]),
        ("审核人", f"{r['reviewer']}（村务监督委员会）"),
        ("审批人", r["approver"]),
        ("审批程序", r["approval_level"]),
        ("附件", f"{r['attachments']} 张"),
    ]
    rev = r.get("reverses")
    if rev:
        pairs.append(("红字冲销", f"冲销 {date_cn(rev['date'])} 凭证号 {rev['voucher_no']} {rev['summary']} {money(rev['amount'])}"))
    return pairs


class FinanceDetailScreen(Flagged, DetailScreen):
    flag_kind = "finance"
    heading = "收支明细"

    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 12)

    def fetch(self, m, id):
        return m.finance_get(id)

    def show(self, r):
        self.title = f"收支明细 · {DIRECTION[r['direction']]}"
        kv_rows(self.ids.rows, finance_detail_pairs(r))

    def receipt(self, r, info, link=None):
        return receipts.finance_line(r, info, link)

    def pairs(self, r):
        """As shown, but the amount once (not again in capitals)."""
        return [("金额", f"{money(r['amount'])}") if k == "金额" else (k, v) for k, v in finance_detail_pairs(r)]


Builder.load_file(os.path.join(os.path.dirname(__file__), "finance_detail.kv"))
