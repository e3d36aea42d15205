"""办事结果 · one result: the application (applicant masked), its result, 公示期 and its
progress steps. The StepRow rule in service_detail.kv is also used by 我的查询 (mine)."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import date_cn
from kiosk import receipts
from kiosk.screens.attention import Flagged
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import DetailScreen, kv_rows, pooled, rich, warm_pool


def service_pairs(r: dict) -> list[tuple[str, str | None]]:
    notice = None
    if r.get("notice_from"):
        notice = f"{date_cn(r['notice_from'])} 至 {date_cn(r['notice_to'])}" if r.get("notice_to") else date_cn(r["notice_from"])
    return [
        ("事项", r["power_name"]),
        ("申请人", r["applicant"]),
        ("村民小组", r["group_name"]),
        ("结果", r["result"]),
        ("办结日期", date_cn(r["decided_on"])),
        ("公示期", notice),
    ]


class ServiceDetailScreen(Flagged, DetailScreen):
    flag_kind = "services"
    heading = "办事结果"
    cleared = ("rows", "steps")

    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 6)
        warm_pool(self.ids.steps, 'StepRow', 6)

    def fetch(self, m, id):
        return m.service_get(id)

    def receipt(self, r, info, link=None):
        return receipts.service(r, info, link)

    def pairs(self, r):
        """The application's fields, then each step in order."""
        steps = [(f"第{i + 1}步", "，".join(x for x in (s.get("step", ""), date_cn(s["date"]) if s.get("date") else "",
                                                         s.get("note") or "") if x))
                 for i, s in enumerate(r.get("steps") or [])]
        return service_pairs(r) + steps

    def show(self, r):
        self.title = f"{r['power_name']} · {r['result']}"
        kv_rows(self.ids.rows, service_pairs(r))
        steps = r.get("steps") or []
        for i, s in enumerate(steps):
            self.ids.steps.add_widget(pooled(self.ids.steps, 'StepRow',
                no=str(i + 1), step=rich(s.get("step", "")), when=rich(date_cn(s["date"]) if s.get("date") else ""),
                note=rich(s.get("note") or ""), first=i == 0, last=i == len(steps) - 1))


Builder.load_file(os.path.join(os.path.dirname(__file__), "service_detail.kv"))
