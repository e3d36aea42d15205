"""办事结果: the paged list of decided applications (applicants masked), narrowed by year and
by item (the 权力清单 item applied for); one result's progress steps are
kiosk.screens.service_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty

from kiosk.formatting import date_cn
from kiosk.screens import listtools
from kiosk.screens.listtools import select_chip, set_chips
from kiosk.screens.widgets import KioskScreen, rich, row_spoken


def service_row(r: dict) -> dict:
    sub = f"{r['applicant']} · {r['group_name']} · {date_cn(r['decided_on'])}"
    return {"title": rich(r["power_name"]), "sub": rich(sub), "side": rich(r["result"]),
            "target": "service_detail", "rec_id": r["id"], "date": r["decided_on"]}


class ServicesScreen(KioskScreen):
    warm_on_idle = True
    year = NumericProperty(0)      # 0 = every year
    power_id = StringProperty("")  # "" = every item

    def __init__(self, **kw):
        super().__init__(**kw)
        self.facets = {"years": [], "items": []}

    def open(self, **params):
        self.year, self.power_id = 0, ""
        self.load(lambda m: m.services_facets(), self._got_facets)
        self._start()

    def _got_facets(self, facets) -> None:
        self.facets = facets
        set_chips(self.ids.year_chips, [("全部年份", 0)] + [(f"{y}年", y) for y, _n in facets["years"]],
                  lambda y: self.select(year=y))
        set_chips(self.ids.item_chips, [("全部事项", "")] + [(name, pid) for pid, name, _n in facets["items"]],
                  lambda pid: self.select(power_id=pid))
        select_chip(self.ids.year_chips, self.year)
        select_chip(self.ids.item_chips, self.power_id)

    def select(self, year: int | None = None, power_id: str | None = None) -> None:
        """Narrow to ``year`` (0 = all) and/or the item ``power_id`` ("" = all); the other
        filter stays as it is."""
        if year is not None:
            self.year = year
        if power_id is not None:
            self.power_id = power_id
        self._start()

    def _start(self) -> None:
        year, pid = self.year, self.power_id
        select_chip(self.ids.year_chips, year)
        select_chip(self.ids.item_chips, pid)
        self.ids.list.start(lambda m, after: m.services_page(after=after, power_id=pid or None, year=year or None),
                            service_row)

    def spoken(self) -> list[tuple[str, str]]:
        """Title, what the list is narrowed to (with the count where known), the rows shown."""
        years = dict(self.facets["years"])
        items = {pid: (name, n) for pid, name, n in self.facets["items"]}
        name, n_item = items.get(self.power_id, ("", 0))
        if self.year and name:
            which, n = f"{self.year}年的{name}", None
        elif self.year:
            which, n = f"{self.year}年的全部事项", years.get(self.year, 0)
        elif name:
            which, n = f"各年的{name}", n_item
        else:
            which, n = "全部办事结果", sum(years.values())
        out = [("", self.frame_title()), ("", which + (f"，共 {n} 件" if n is not None else ""))]
        for row in self.ids.list.shown_rows():
            out += row_spoken(row)
        return out


assert listtools  # kv: ToolRow, ChipBar, ToTopButton
Builder.load_file(os.path.join(os.path.dirname(__file__), "services.kv"))
