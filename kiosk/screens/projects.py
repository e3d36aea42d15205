"""工程项目: the paged list of projects, narrowed by the stage they have reached (立项 …
公示); a project's detail is kiosk.screens.project_detail."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.formatting import money
from kiosk.screens import listtools
from kiosk.screens.listtools import select_chip, set_chips
from kiosk.screens.project_detail import STAGES
from kiosk.screens.widgets import KioskScreen, rich, row_spoken


def project_row(r: dict) -> dict:
    sub = f"{r['category']} · {r['location']} · 预算 {money(r['budget'])}"
    return {"title": rich(r["name"]), "sub": rich(sub), "side": rich(f"当前：{r['stage']}"),
            "target": "project_detail", "rec_id": r["id"], "date": r.get("started_on") or ""}


def stage_chips(counts: dict[str, int]) -> list[tuple[str, str]]:
    """全部 and each stage some project has reached last, in the canonical order, with how
    many projects are there (``[("全部", ""), ("施工（3个）", "施工"), …]``)."""
    known = [s for s in STAGES if counts.get(s)] + sorted(s for s in counts if s not in STAGES and counts[s])
    return [("全部", "")] + [(f"{s}（{counts[s]}个）", s) for s in known]


class ProjectsScreen(KioskScreen):
    warm_on_idle = True
    stage = StringProperty("")

    def open(self, **params):
        self.load(lambda m: m.project_stage_counts(), self._got_stages)
        self.select("")

    def _got_stages(self, counts) -> None:
        self.counts = counts
        set_chips(self.ids.stages, stage_chips(counts), self.select)
        select_chip(self.ids.stages, self.stage)

    def select(self, stage: str) -> None:
        """Show the projects whose latest stage is ``stage`` ("" = all)."""
        self.stage = stage
        select_chip(self.ids.stages, stage)
        self.ids.list.start(lambda m, after: m.projects_page(after=after, stage=stage or None), project_row)

    def spoken(self) -> list[tuple[str, str]]:
        counts = getattr(self, "counts", {}) or {}
        n = counts.get(self.stage, 0) if self.stage else sum(counts.values())
        which = f"当前阶段为{self.stage}的项目" if self.stage else "全部项目"
        out = [("", self.frame_title()), ("", f"{which}，共 {n} 个")]
        for row in self.ids.list.shown_rows():
            out += row_spoken(row)
        return out


assert listtools  # kv: ToolRow, ChipBar, ToTopButton
Builder.load_file(os.path.join(os.path.dirname(__file__), "projects.kv"))
