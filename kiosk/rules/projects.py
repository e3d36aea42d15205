"""Rules on village projects (工程项目): competitive procurement by amount, suspected splitting
(化整为零), and the order of the stage dates.

A project's amount is the larger of its budget (预算) and its contract amount: the estimate
decides the procurement, and a contract above the estimate must not escape it either.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kiosk.formatting import money_short
from kiosk.rules.base import Coverage, Flag, Param, Rule, VillageData, d2


def project_amount(p: dict[str, Any]) -> Decimal:
    """The larger of ``budget`` and ``contract_amount`` (元)."""
    return max(p["budget"], p.get("contract_amount") or Decimal(0))


def stage_dates(p: dict[str, Any]) -> dict[str, str]:
    return {s["stage"]: s["date"] for s in p["stages"]}


def _flag(rule: str, p: dict, severity: str, figures: dict[str, str], detail: str) -> Flag:
    return Flag(rule, "projects", p["id"], severity, figures, detail, p.get("title", p.get("name", "")),
                p["stages"][0]["date"] if p["stages"] else "")


# ---------------------------------------------------------------- procurement

def _procurement_text(p: dict[str, Any]) -> str:
    return (f"村级工程金额达到 {money_short(p['threshold'])}的，应当公开招标或比选，不能直接指定施工单位；"
            f"施工合同估算价 {money_short(p['tender_threshold'])}以上的，国家规定必须招标。")


def _procurement_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    flags, checked = [], 0
    for pr in v.projects:
        st = stage_dates(pr)
        if "合同" not in st:  # the choice of contractor is not made yet
            continue
        checked += 1
        amount, method = project_amount(pr), pr["procurement_method"]
        figures = {"amount": d2(amount), "method": method, "tender_stage": "1" if "招标" in st else "0"}
        if amount >= p["tender_threshold"] and method not in p["tender_methods"]:
            flags.append(_flag("procurement", pr, "red", {**figures, "threshold": d2(p["tender_threshold"])},
                               f"项目金额 {money_short(amount)}，达到 {money_short(p['tender_threshold'])}，"
                               f"依法必须招标，本项目采购方式为{method}"))
        elif amount >= p["threshold"] and (method not in p["competitive_methods"] or "招标" not in st):
            how = f"采购方式为{method}" + ("，没有招标或比选环节" if "招标" not in st else "")
            flags.append(_flag("procurement", pr, "red", {**figures, "threshold": d2(p["threshold"])},
                               f"项目金额 {money_short(amount)}，达到 {money_short(p['threshold'])}，"
                               f"应当公开招标或比选，本项目{how}"))
    return flags, Coverage("procurement", checked)


PROCUREMENT = Rule(
    id="procurement", title="工程没有招标或比选", kind="projects", severity="red",
    params={"threshold": Param("amount", Decimal("100000"), "from this amount a village project needs 招标 or 比选"),
            "competitive_methods": Param("words", ("公开招标", "邀请招标", "竞争性谈判", "竞争性磋商", "询价", "比选"),
                                         "procurement methods that count as competitive"),
            "tender_threshold": Param("amount", Decimal("4000000"), "national: works contracts from this estimate must be tendered"),
            "tender_methods": Param("words", ("公开招标", "邀请招标"), "methods that count as 招标")},
    text=_procurement_text,
    basis="参照岳阳县村级工程管理制度（10万元及以上对外公开招标）；《必须招标的工程项目规定》（国家发展改革委令第16号）第五条"
          "（施工单项合同估算价400万元以上必须招标）",
    ask="村务监督委员会、乡镇纪委", needs="projects: budget, contract_amount, procurement_method, stages",
    check=_procurement_check)


# ---------------------------------------------------------------- splitting (化整为零)

def _split_date(pr: dict[str, Any]) -> str:
    st = stage_dates(pr)
    return st.get("合同") or pr["stages"][0]["date"]


def _splitting_text(p: dict[str, Any]) -> str:
    return (f"同一家施工单位，或同一地点的同类工程，在 {p['window_days']} 天内有几个工程，每个都不到 "
            f"{money_short(p['threshold'])}，合起来却达到了：这可能是把应当招标的工程拆成了几个小工程，请问一问原因。")


def _splitting_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    T, W = p["threshold"], dt.timedelta(days=p["window_days"])
    small = [pr for pr in v.projects if pr["stages"] and project_amount(pr) < T]
    groups: dict[tuple[str, str], list[dict]] = {}
    for pr in small:
        if pr.get("contractor"):
            groups.setdefault(("contractor", pr["contractor"]), []).append(pr)
        groups.setdefault(("place", f"{pr['location']} · {pr['category']}"), []).append(pr)
    best: dict[str, tuple[Decimal, tuple[str, str], list[dict]]] = {}
    for key, items in groups.items():
        items.sort(key=lambda x: (_split_date(x), x["id"]))
        for i, first in enumerate(items):
            start = dt.date.fromisoformat(_split_date(first))
            window = [x for x in items[i:] if dt.date.fromisoformat(_split_date(x)) - start <= W]
            total = sum((project_amount(x) for x in window), Decimal(0))
            if len(window) < 2 or total < T:
                continue
            for x in window:
                if x["id"] not in best or total > best[x["id"]][0]:
                    best[x["id"]] = (total, key, window)
    flags = []
    for pr in small:
        if pr["id"] not in best:
            continue
        total, (by, name), window = best[pr["id"]]
        who = f"同一施工单位“{name}”" if by == "contractor" else f"同一地点同类工程（{name}）"
        others = ",".join(x["id"] for x in window if x["id"] != pr["id"])
        flags.append(_flag("splitting", pr, "amber",
                           {"group": by, "name": name, "count": str(len(window)), "total": d2(total),
                            "amount": d2(project_amount(pr)), "threshold": d2(T), "others": others},
                           f"{who}在 {p['window_days']} 天内有 {len(window)} 个工程，合计 {money_short(total)}，"
                           f"每个都不到 {money_short(T)}；本工程 {money_short(project_amount(pr))}"))
    return flags, Coverage("splitting", len(small))


SPLITTING = Rule(
    id="splitting", title="疑似化整为零", kind="projects", severity="amber",
    params={"threshold": Param("amount", Decimal("100000"), "the procurement threshold the parts stay below"),
            "window_days": Param("int", 365, "parts within this many days count together (12 months)")},
    text=_splitting_text,
    basis="《中华人民共和国招标投标法》第四条（任何单位和个人不得将依法必须进行招标的项目化整为零或者以其他任何方式规避招标）",
    ask="村务监督委员会、乡镇纪委", needs="projects: budget, contract_amount, contractor, location, category, stages",
    check=_splitting_check)


# ---------------------------------------------------------------- stage order

def _stage_text(p: dict[str, Any]) -> str:
    return "工程要按顺序办：先签合同再施工，施工完先验收，验收以后再审计结算。后一步的日期不应早于前一步。"


def _stage_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    flags = []
    for pr in v.projects:
        pairs, latest = [], None  # latest: (stage, date) with the greatest date so far
        for s in pr["stages"]:
            if latest and s["date"] < latest[1]:
                pairs.append((s, latest))
            if latest is None or s["date"] >= latest[1]:
                latest = (s["stage"], s["date"])
        if not pairs:
            continue
        detail = "；".join(f"{s['stage']}日期 {s['date']} 早于{b}日期 {bd}" for s, (b, bd) in pairs)
        figures = {"pairs": ";".join(f"{s['stage']}@{s['date']}<{b}@{bd}" for s, (b, bd) in pairs)}
        flags.append(_flag("stage_order", pr, "red", figures, detail))
    return flags, Coverage("stage_order", len(v.projects))


STAGE_ORDER = Rule(
    id="stage_order", title="工程阶段日期顺序不对", kind="projects", severity="red",
    params={},
    text=_stage_text,
    basis="本县村级工程项目建设流程（权力清单“村级工程项目建设”）：立项、设计、招标、合同、施工、验收、审计结算、公示依次进行",
    ask="村务监督委员会", needs="projects: stages (stage, date)",
    check=_stage_check)
