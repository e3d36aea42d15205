"""The test receipt for ``kiosk print-test``: Chinese text with punctuation, rare name
characters (䶮 Ext-A, 𠈌 Ext-B), a table, an amount in capitals and a QR code. Synthetic data."""
from __future__ import annotations

import datetime as _dt
from decimal import Decimal

from .receipt import Receipt

#: A made-up bundle fingerprint in the product's form (first 8 hex of SHA-256 of manifest.json).
FINGERPRINT = "3f9a1c07"
QR_PAYLOAD = f"https://example.invalid/kiosk/verify?seq=12&fp={FINGERPRINT}"
RARE = ("䶮", "𠈌")


def sample_receipt(now: _dt.datetime | None = None) -> Receipt:
    return (
        Receipt("打印测试 · 财务公开", village="石坝村（测试）")
        .text("中文标点：，。、；：？！“引号”《书名》（括号）——")
        .row("罕见字姓名", "刘䶮、王𠈌")
        .table(["摘要", "收入", "支出"], [
            ["村道维修（水泥、沙石）", "", "1,200.00"],
            ["上级转移支付", "30,000.00", ""],
            ["办公用品", "", "30.05"],
        ], totals=["合计", "30,000.00", "1,230.05"])
        .amount("支出合计", Decimal("1230.05"))
        .amount("测试金额", Decimal("30.05"))
        .qr(QR_PAYLOAD, "扫码核对本小票")
        .footer(seq=12, fingerprint=FINGERPRINT, data_as_of="2024-03-31",
                printed_at=now)
    )
