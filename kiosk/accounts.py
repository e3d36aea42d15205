"""The 2023 village chart of accounts (财会〔2023〕14号) and plain words for villagers.

The chart itself is shipped in ``kiosk/data/village-collective-2023.csv``. Plain names are
our own wording, chosen so that someone who reads little understands where money went.
"""
from __future__ import annotations

from kiosk.records import chart_of_accounts

#: First-level code → plain words shown next to (or instead of) the account name.
PLAIN_NAMES: dict[str, str] = {
    "101": "现金", "102": "银行存款", "111": "短期投资", "112": "别人欠村里的钱", "113": "村组之间往来",
    "121": "库存物资", "131": "种养的牲畜作物", "132": "果树茶园等", "133": "果树茶园折旧",
    "134": "公益林等", "141": "对外投资", "151": "房屋设备等固定资产", "152": "固定资产折旧",
    "153": "在建工程", "154": "固定资产处置", "161": "土地经营权等无形资产", "162": "无形资产摊销",
    "171": "分几年摊的费用", "181": "待处理的损失",
    "201": "短期借款", "211": "村里欠别人的钱", "212": "应付工资", "213": "应付劳务费", "214": "应交税费",
    "221": "长期借款", "231": "一事一议资金", "241": "上级专项资金",
    "301": "集体资本", "311": "公积公益金", "321": "本年收益", "322": "收益分配",
    "401": "生产成本",
    "501": "出租经营收入", "502": "投资分红", "503": "上级补助", "504": "其他收入",
    "511": "经营开支", "512": "税费", "513": "办公和管理开支", "514": "公益事业开支", "515": "其他开支",
    "521": "所得税",
}


def plain_name(code: str) -> str:
    """Plain words for an account code or sub-account (uses its first-level code)."""
    return PLAIN_NAMES.get(code[:3], chart_of_accounts().get(code[:3], code))


def account_rows(codes: set[str], names: dict[str, str]) -> list[dict[str, str]]:
    """Rows for the bundle's ``accounts`` table: every first-level code of the chart plus the
    sub-accounts used in the books (``names`` gives their names as booked)."""
    chart = chart_of_accounts()
    rows = {c: {"code": c, "name": n, "plain_name": plain_name(c), "parent_code": c} for c, n in chart.items()}
    for c in sorted(codes):
        if c not in rows:
            rows[c] = {"code": c, "name": names.get(c, chart[c[:3]]), "plain_name": plain_name(c), "parent_code": c[:3]}
    return [rows[c] for c in sorted(rows)]
