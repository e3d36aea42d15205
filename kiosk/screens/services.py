"""办事结果: the paged list of decided applications (applicants masked); one result's
progress steps are kiosk.screens.service_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import date_cn
from kiosk.screens.widgets import KioskScreen, rich


def service_row(r: dict) -> dict:
    sub = f"{r['applicant']} · {r['group_name']} · {date_cn(r['decided_on'])}"
    return {"title": rich(r["power_name"]), "sub": rich(sub), "side": rich(r["result"]),
            "target": "service_detail", "rec_id": r["id"]}


class ServicesScreen(KioskScreen):
    warm_on_idle = True

    def open(self, **params):
        self.ids.list.start(lambda m, after: m.services_page(after=after), service_row)


Builder.load_file(os.path.join(os.path.dirname(__file__), "services.kv"))
