"""财务收支: year and month chips with income/expense/balance totals and a paged list of voucher
lines (newest first); one line's detail is kiosk.screens.finance_detail.

跳到日期 jumps within the list shown: to a month of the year (全年), or to the 上旬, 中旬 or
下旬 of the month chosen; the rows before it stay loaded, so dragging back up shows them.
"""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk import receipts
from kiosk.formatting import date_cn, money
from kiosk.receipts import DIRECTION
from kiosk.screens import listtools
from kiosk.screens.listtools import JumpDialog, chip_values, chosen, select_chip
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import Chip, KioskScreen, rich, row_spoken

#: 跳到日期 within a month: (label, first day, last day)
THIRDS = (("下旬（21日以后）", 21, 31), ("中旬（11日—20日）", 11, 20), ("上旬（1日—10日）", 1, 10))


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
        "date": r["date"],
    }


class FinanceScreen(KioskScreen):
    warm_on_idle = True
    year = NumericProperty(0)
    month = NumericProperty(0)  # 0 = the whole year
    totals_text = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._names: dict = {}  # account code → plain name (used on the worker only)
        self.jump_dialog = None
        self.months: list[int] = []

    def open(self, **params):
        self.totals_text = ""
        self.load(lambda m: m.finance_years(), self._got_years)

    def on_leave(self, *args):
        if self.jump_dialog is not None:
            self.jump_dialog.dismiss(animation=False)

    def _got_years(self, years):
        box = self.ids.years
        if chip_values(box) != list(years):  # chips are kept while they stay the same
            box.clear_widgets()
            pick = chosen(lambda y: self.select(y, 0))
            for y in years:
                box.add_widget(Chip(text=f"{y}年", value=y, on_release=lambda c: pick(c.value)))
        if years:
            self.select(years[0], 0)
        else:
            self.ids.list.data = []

    def select(self, year: int, month: int) -> None:
        """Show ``year`` (and ``month``, 0 = whole year): chips, totals and the first page."""
        self.year, self.month = year, month
        select_chip(self.ids.years, year)
        mo = month or None
        self.load(lambda m: (m.finance_months(year), m.finance_totals(year, mo)), self._got_period)
        names = self._names
        self.ids.list.start(
            lambda m, after: _page_with_names(m, year, mo, after, names), finance_row)

    def _got_period(self, res):
        months, t = res
        self.months = list(months)
        if chip_values(self.ids.months) != [0] + list(months):
            box = self.ids.months
            box.clear_widgets()
            pick = chosen(lambda mth: self.select(self.year, mth))
            box.add_widget(Chip(text="全年", value=0, on_release=lambda c: pick(c.value)))
            for mth in months:
                box.add_widget(Chip(text=f"{mth}月", value=mth, on_release=lambda c: pick(c.value)))
        select_chip(self.ids.months, self.month)
        self.totals = t
        self.ids.income.text = rich(f"收入 {money(t.income)}")
        self.ids.expense.text = rich(f"支出 {money(t.expense)}")
        self.ids.balance.text = rich(f"结余 {money(t.balance)}")
        self.totals_text = rich(f"{self.period_text()} 共 {t.count} 笔")
        year, month = self.year, self.month
        self.ids.print_btn.build = (lambda m, link: receipts.finance_month_from(m, year, month, link)) if month else None

    def period_text(self) -> str:
        return f"{self.year}年" + (f"{self.month}月" if self.month else "全年")

    # ---- 跳到日期 ---------------------------------------------------------------------------
    def open_jump(self) -> None:
        """跳到日期: months of the year (全年) or the thirds of the month shown."""
        year, month = self.year, self.month
        if not year:
            return
        if not month:
            items = [(f"{m}月", ("month", m), True) for m in sorted(self.months, reverse=True)]
            self._open_jump_dialog(f"跳到{year}年的哪个月？", items)
            return

        def got(days):
            have = set(days)
            items = [(label, ("days", lo, hi), any(lo <= d <= hi for d in have)) for label, lo, hi in THIRDS]
            self._open_jump_dialog(f"跳到{year}年{month}月的哪一段？", items)

        self.load(lambda m: m.finance_days(year, month), got)

    def _open_jump_dialog(self, title: str, items) -> None:
        dlg = self.jump_dialog = JumpDialog(self.jump)
        dlg.title = title
        dlg.items = items
        dlg.open()

    def jump(self, where) -> None:
        """Jump within the list to ``("month", m)`` or ``("days", first, last)``: its newest
        line at the top (lines are newest first)."""
        prefix = f"{self.year:04d}-{self.month:02d}" if self.month else f"{self.year:04d}"
        if where[0] == "month":
            last = f"{self.year:04d}-{where[1]:02d}-31"
        else:
            last = f"{prefix}-{where[2]:02d}"
        self.ids.list.jump_to(lambda row: row.get("date", "") <= last)

    # ---- 朗读 -------------------------------------------------------------------------------
    def spoken(self) -> list[tuple[str, str]]:
        """Title, period and count, the three totals, then the lines shown on screen."""
        out = [("", self.frame_title())]
        t = getattr(self, "totals", None)
        if t is not None and self.year:
            out.append(("", f"{self.period_text()}，共 {t.count} 笔"))
            out += [("收入", money(t.income)), ("支出", money(t.expense)), ("结余", money(t.balance))]
        for row in self.ids.list.shown_rows():
            out += row_spoken(row)
        return out


def _page_with_names(m, year, month, after, names):
    page = m.finance_page(year, month, after=after)
    _with_plain_names(m, page.rows, names)
    return page


assert listtools  # the kv below uses ToTopButton and ChipBar
Builder.load_file(os.path.join(os.path.dirname(__file__), "finance.kv"))
