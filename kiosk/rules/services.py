"""Rules on service results (办事结果): the publicity period (公示) of social-assistance items."""
from __future__ import annotations

import datetime as dt
from typing import Any

from kiosk.rules.base import Coverage, Flag, Param, Rule, VillageData


def notice_days(s: dict[str, Any]) -> int:
    """Calendar days of the 公示, both ends included (11 to 17 March: 7 days)."""
    return (dt.date.fromisoformat(s["notice_to"]) - dt.date.fromisoformat(s["notice_from"])).days + 1


def _publicity_text(p: dict[str, Any]) -> str:
    items = "、".join(p["items"])
    return f"{items}等事项的审核结果，要在村里张榜公示，公示时间不少于 {p['min_days']} 天，让大家有时间提意见。"


def _publicity_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    items = [s for s in v.services if any(w in s["power_name"] for w in p["items"])]
    dated = [s for s in items if s.get("notice_from") and s.get("notice_to")]
    flags = []
    for s in dated:
        n = notice_days(s)
        if n < p["min_days"]:
            flags.append(Flag("publicity_short", "services", s["id"], "red",
                              {"notice_from": s["notice_from"], "notice_to": s["notice_to"], "days": str(n),
                               "min_days": str(p["min_days"])},
                              f"公示 {s['notice_from']} 至 {s['notice_to']}，共 {n} 天，不足 {p['min_days']} 天",
                              s.get("title", ""), s["decided_on"]))
    return flags, Coverage("publicity_short", len(dated))


PUBLICITY = Rule(
    id="publicity_short", title="公示时间不足", kind="services", severity="red",
    params={"min_days": Param("int", 7, "shortest 公示 in calendar days, both ends included"),
            "items": Param("words", ("最低生活保障", "特困", "临时救助"), "power-list item names (or parts) the rule applies to")},
    text=_publicity_text,
    basis="《最低生活保障审核确认办法》（民发〔2021〕57号）：审核结果在申请家庭所在村公示，公示期为7天",
    ask="村务监督委员会、乡镇民政办", needs="services: power_name, notice_from, notice_to",
    check=_publicity_check)
