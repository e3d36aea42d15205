"""工程项目: the paged list of projects; a project's detail is kiosk.screens.project_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import money
from kiosk.screens.widgets import KioskScreen, rich


def project_row(r: dict) -> dict:
    sub = f"{r['category']} · {r['location']} · 预算 {money(r['budget'])}"
    return {"title": rich(r["name"]), "sub": rich(sub), "side": rich(f"当前：{r['stage']}"),
            "target": "project_detail", "rec_id": r["id"]}


class ProjectsScreen(KioskScreen):
    warm_on_idle = True

    def open(self, **params):
        self.ids.list.start(lambda m, after: m.projects_page(after=after), project_row)


Builder.load_file(os.path.join(os.path.dirname(__file__), "projects.kv"))
