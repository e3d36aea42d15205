"""工程项目 · a project's detail: its stage timeline (all eight canonical stages; done, in
progress, skipped and not yet started shown differently) and its money."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.formatting import date_cn, money
from kiosk import receipts
from kiosk.screens.attention import Flagged
from kiosk.screens.printing import PrintButton  # noqa: F401  (kv)
from kiosk.screens.widgets import DetailScreen, kv_rows, pooled, rich, warm_pool

#: The canonical order (docs/data-model.md).
STAGES = ("立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示")


def stage_states(stages: list[dict]) -> list[tuple[str, str, dict | None]]:
    """``[(stage, state, record|None)]`` for all eight stages, in :data:`STAGES` order.

    state is one of:
      done     a reached stage before the latest reached one, or every reached stage once
               the project reached 公示 (the last stage: nothing is still running);
      current  the latest reached stage of a project that has not reached 公示 (进行中:
               a stage's record says when it started, not that it ended);
      skipped  no record, but a later stage was reached;
      pending  no record and no later stage reached (未开始).
    """
    by_name = {s["stage"]: s for s in stages}
    reached = [i for i, name in enumerate(STAGES) if name in by_name]
    last = max(reached) if reached else -1
    finished = last == len(STAGES) - 1
    out = []
    for i, name in enumerate(STAGES):
        if name in by_name:
            out.append((name, "current" if i == last and not finished else "done", by_name[name]))
        else:
            out.append((name, "skipped" if i < last else "pending", None))
    return out


def project_pairs(p: dict) -> list[tuple[str, str | None]]:
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    funds = "；".join(f"{f['source']} {money(f['amount'])}" for f in p.get("fund_sources") or [])
    return [
        ("类别", p["category"]),
        ("地点", p["location"]),
        ("预算", money(p["budget"])),
        ("评审价", opt(p.get("review_amount"))),
        ("资金来源", funds),
        ("采购方式", p["procurement_method"]),
        ("施工单位", p.get("contractor")),
        ("合同金额", opt(p.get("contract_amount"))),
        ("审计结算", opt(p.get("settlement_amount"))),
        ("监督人", "、".join(p.get("supervisors") or [])),
    ]


class ProjectDetailScreen(Flagged, DetailScreen):
    flag_kind = "projects"
    heading = "工程项目"
    cleared = ("stages", "rows")

    def prebuild(self):
        warm_pool(self.ids.rows, 'KVRow', 10)
        warm_pool(self.ids.stages, 'StageRow', len(STAGES))

    def fetch(self, m, id):
        return m.project_get(id)

    def receipt(self, p, info, link=None):
        return receipts.project(p, info, link)

    def pairs(self, p):
        """The stage it has reached (进行中 or 已完成), then the money and the parties."""
        states = stage_states(p.get("stages") or [])
        reached = [(name, state, rec) for name, state, rec in states if rec is not None]
        where = []
        if reached:
            name, state, rec = reached[-1]
            where = [("当前阶段", f"{name}，{'进行中' if state == 'current' else '已完成'}，{date_cn(rec['date'])}")]
        return where + project_pairs(p)

    def show(self, p):
        self.title = p["name"]
        for name, state, rec in stage_states(p.get("stages") or []):
            when = date_cn(rec["date"]) if rec else ""
            note = rec.get("note") if rec else ""
            self.ids.stages.add_widget(pooled(self.ids.stages, 'StageRow',
                stage=name, state=state, when=rich(when), note=rich(note or "")))
        kv_rows(self.ids.rows, project_pairs(p))


Builder.load_file(os.path.join(os.path.dirname(__file__), "project_detail.kv"))
