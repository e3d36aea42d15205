"""财务收支: year and month chips with income/expense/balance totals and a paged list of voucher
lines (newest first); one line's detail is kiosk.screens.finance_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.formatting import date_cn, money
from kiosk import receipts
from kiosk.receipts import DIRECTION
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import Chip, KioskScreen, rich


def _with_plain_names(m, rows, cache: dict) -> list:
    """Add ``plain_name`` (accounts table, plain words for villagers) to finance rows."""
    for r in rows:
        code = r["account_code"]
        if code not in cache:
            cache[code] = m.account_plain_name(code)
        r["plain_name"] = cache[code]
    return rows


def finance_row(r: dict) -> dict:
    """ListRow data for one finance line."""
    plain = r.get("plain_name") or r["account_name"]
    sub = f"{date_cn(r['date'])} · {plain} · 凭证号 {r['voucher_no']}"
    return {
        "title": rich(r["summary"]),
        "sub": rich(sub),
        "side": rich(f"{DIRECTION[r['direction']]} {money(r['amount'])}"),
        "side_tone": "income" if r["direction"] == "income" else "expense",
        "target": "finance_detail",
        "rec_id": r["id"],
    }


class FinanceScreen(KioskScreen):
    warm_on_idle = True
    year = NumericProperty(0)
    month = NumericProperty(0)  # 0 = the whole year
    totals_text = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._names: dict = {}  # account code → plain name (used on the worker only)

    def open(self, **params):
        self.totals_text = ""
        self.load(lambda m: m.finance_years(), self._got_years)

    def _got_years(self, years):
        box = self.ids.years
        if _chip_values(box) != list(years):  # chips are kept while they stay the same
            box.clear_widgets()
            for y in years:
                box.add_widget(Chip(text=f"{y}年", value=y, on_release=lambda c: self.select(c.value, 0)))
        if years:
            self.select(years[0], 0)
        else:
            self.ids.list.data = []

    def select(self, year: int, month: int) -> None:
        """Show ``year`` (and ``month``, 0 = whole year): chips, totals and the first page."""
        self.year, self.month = year, month
        for c in self.ids.years.children:
            c.selected = c.value == year
        mo = month or None
        self.load(lambda m: (m.finance_months(year), m.finance_totals(year, mo)), self._got_period)
        names = self._names
        self.ids.list.start(
            lambda m, after: _page_with_names(m, year, mo, after, names), finance_row)

    def _got_period(self, res):
        months, t = res
        if _chip_values(self.ids.months) != [0] + list(months):
            box = self.ids.months
            box.clear_widgets()
            box.add_widget(Chip(text="全年", value=0, on_release=lambda c: self.select(self.year, 0)))
            for mth in months:
                box.add_widget(Chip(text=f"{mth}月", value=mth, on_release=lambda c: self.select(self.year, c.value)))
        for c in self.ids.months.children:
            c.selected = c.value == self.month
        period = f"{self.year}年" + (f"{self.month}月" if self.month else "全年")
        self.totals = t
        self.ids.income.text = rich(f"收入 {money(t.income)}")
        self.ids.expense.text = rich(f"支出 {money(t.expense)}")
        self.ids.balance.text = rich(f"结余 {money(t.balance)}")
        self.totals_text = rich(f"{period} 共 {t.count} 笔")
        year, month = self.year, self.month
        self.ids.print_btn.build = (lambda m, link: receipts.finance_month_from(m, year, month, link)) if month else None


def _chip_values(box) -> list:
    """The values of the chips in ``box``, left to right (Kivy keeps children in reverse)."""
    return [c.value for c in reversed(box.children)]


def _page_with_names(m, year, month, after, names):
    page = m.finance_page(year, month, after=after)
    _with_plain_names(m, page.rows, names)
    return page


Builder.load_file(os.path.join(os.path.dirname(__file__), "finance.kv"))
