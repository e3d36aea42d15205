"""Rules on collective assets and resources (资产资源): lease terms, land past the contract
period, deals at or below the reserve price, rent in arrears, leases about to end.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kiosk.formatting import money_short
from kiosk.rules.base import Coverage, Flag, Param, Rule, VillageData, add_months, add_years, d2

LEASED = ("出租", "发包", "流转")


def _flag(rule: str, a: dict, severity: str, figures: dict[str, str], detail: str) -> Flag:
    return Flag(rule, "assets", a["id"], severity, figures, detail, a.get("title", a.get("name", "")),
                a.get("term_start") or "")


def _d(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def _years(start: str, end: str) -> str:
    """The length of ``start``..``end`` (inclusive) in years, as Chinese text: 30 年, 20 年 3 个月."""
    a, b = _d(start), _d(end) + dt.timedelta(days=1)
    months = (b.year - a.year) * 12 + b.month - a.month - (b.day < a.day)
    y, m = divmod(months, 12)
    return f"{y} 年" + (f" {m} 个月" if m else "")


# ---------------------------------------------------------------- lease term (民法典 705)

def _lease_text(p: dict[str, Any]) -> str:
    return f"集体资产出租，租期不能超过 {p['max_years']} 年；超过的部分依法无效。"


def _lease_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    leases = [a for a in v.assets if a["status"] in p["statuses"] and a.get("term_start") and a.get("term_end")]
    flags = []
    for a in leases:
        if _d(a["term_end"]) >= add_years(_d(a["term_start"]), p["max_years"]):
            flags.append(_flag("lease_term", a, "red",
                               {"term_start": a["term_start"], "term_end": a["term_end"], "max_years": str(p["max_years"])},
                               f"租期 {a['term_start']} 至 {a['term_end']}，共 {_years(a['term_start'], a['term_end'])}，"
                               f"超过 {p['max_years']} 年"))
    return flags, Coverage("lease_term", len(leases))


LEASE_TERM = Rule(
    id="lease_term", title="租期超过20年", kind="assets", severity="red",
    params={"max_years": Param("int", 20, "longest lease term in years"),
            "statuses": Param("words", ("出租",), "asset statuses that are leases (租赁)")},
    text=_lease_text,
    basis="《中华人民共和国民法典》第七百零五条（租赁期限不得超过二十年，超过二十年的，超过部分无效）",
    ask="村务监督委员会", needs="assets: status, term_start, term_end",
    check=_lease_check)


# ---------------------------------------------------------------- land past the contract period

def _land_text(p: dict[str, Any]) -> str:
    return "承包地的经营权流转出去，流转期限不能超过本村土地承包期的剩余期限。"


def _land_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    land = [a for a in v.assets if a["category"] in p["categories"] and a["status"] in p["statuses"] and a.get("term_end")]
    if not v.land_contract_end:
        return [], Coverage("land_term", 0, len(land), "本村数据没有土地承包期届满日期" if land else None)
    flags = [_flag("land_term", a, "red", {"term_end": a["term_end"], "contract_end": v.land_contract_end},
                   f"流转期限到 {a['term_end']}，超过本村承包期届满日 {v.land_contract_end}")
             for a in land if a["term_end"] > v.land_contract_end]
    return flags, Coverage("land_term", len(land))


LAND_TERM = Rule(
    id="land_term", title="流转期限超过承包期", kind="assets", severity="red",
    params={"categories": Param("words", ("耕地",), "asset categories that are contracted land"),
            "statuses": Param("words", ("流转",), "asset statuses that are a transfer of 土地经营权")},
    text=_land_text,
    basis="《中华人民共和国农村土地承包法》第三十八条第（三）项（流转期限不得超过承包期的剩余期限）",
    ask="村务监督委员会、乡镇农经站", needs="assets: category, status, term_end; village.json: land_contract_end",
    check=_land_check)


# ---------------------------------------------------------------- deal against reserve price

def _reserve_text(p: dict[str, Any]) -> str:
    return ("集体资产资源出租、发包或出售，成交价不能低于经过评审的底价；只有一人竞买、按底价成交的，"
            "要看是否充分公开、有没有人被挡在门外。")


def _reserve_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    deals = [a for a in v.assets if a.get("reserve_price") is not None and a.get("deal_price") is not None]
    flags, missing = [], 0
    for a in deals:
        r, d = a["reserve_price"], a["deal_price"]
        fig = {"reserve_price": d2(r), "deal_price": d2(d)}
        if d < r:
            flags.append(_flag("below_reserve", a, "red", fig,
                               f"底价 {money_short(r)}，成交价 {money_short(d)}，低于底价 {money_short(r - d)}"))
        elif d == r:
            if a.get("bidders") is None:
                missing += 1
            elif a["bidders"] == 1:
                flags.append(_flag("below_reserve", a, "amber", {**fig, "bidders": "1"},
                                   f"底价 {money_short(r)}，成交价 {money_short(d)}，按底价成交，只有 1 人竞买"))
    return flags, Coverage("below_reserve", len(deals) - missing, missing,
                           "本村数据没有注明竞买人数，按底价成交的无法判断" if missing else None)


BELOW_RESERVE = Rule(
    id="below_reserve", title="低于底价或一人按底价成交", kind="assets", severity="red",
    params={},
    text=_reserve_text,
    basis="本县农村集体资产资源交易规则（成交价不得低于底价）；参照广州市天河区、黄埔区农村集体资产交易管理办法"
          "（穗天府规〔2021〕1号、穗埔府规〔2021〕18号）",
    ask="村务监督委员会、乡镇农经站", needs="assets: reserve_price, deal_price, bidders",
    check=_reserve_check)


# ---------------------------------------------------------------- rent in arrears

def _rent_text(p: dict[str, Any]) -> str:
    return (f"集体资产资源的租金、承包费，要按合同约定的日期收取并记入村里的账；"
            f"过了交租日期 {p['grace_days']} 天还没有入账的，在这里提示。")


def rent_dues(a: dict[str, Any], lo: dt.date, hi: dt.date) -> list[dt.date]:
    """Due dates of ``a``'s rent schedule in ``lo``..``hi`` (inclusive), before its term end."""
    first, every = _d(a["rent_first_due"]), a["rent_every_months"]
    end = _d(a["term_end"]) if a.get("term_end") else None
    out, k = [], 0
    while True:
        d = add_months(first, every * k)
        k += 1
        if d > hi or (end and d > end):
            return out
        if d >= lo:
            out.append(d)


def _rent_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    leases = [a for a in v.assets if a["status"] in p["statuses"] and a.get("annual_rent")]
    span = v.books_span()
    if not leases:
        return [], Coverage("rent_arrears", 0)
    if span is None or not any(r.get("asset_id") for r in v.finance):
        return [], Coverage("rent_arrears", 0, len(leases), "本村数据的租金收入没有关联到资产")
    scheduled = [a for a in leases if a.get("rent_first_due") and a.get("rent_every_months")]
    missing = len(leases) - len(scheduled)
    # what the books can tell: dues from the first line on, whose grace ended by the last line
    limit = min(v.as_of, _d(span[1]))
    received: dict[str, Decimal] = {}
    for r in v.finance:
        if r.get("asset_id") and r["direction"] == "income" and r["date"] <= limit.isoformat():
            received[r["asset_id"]] = received.get(r["asset_id"], Decimal(0)) + r["amount"]
    flags = []
    for a in scheduled:
        dues = rent_dues(a, _d(span[0]), limit - dt.timedelta(days=p["grace_days"]))
        if not dues:
            continue
        each = (a["annual_rent"] * a["rent_every_months"] / 12).quantize(Decimal("0.01"))
        expected, got = each * len(dues), received.get(a["id"], Decimal(0))
        if got < expected:
            flags.append(_flag("rent_arrears", a, "red",
                               {"expected": d2(expected), "received": d2(got), "short": d2(expected - got),
                                "dues": str(len(dues)), "last_due": dues[-1].isoformat(), "as_of": limit.isoformat()},
                               f"截至 {limit.isoformat()}，应收租金 {money_short(expected)}（{len(dues)} 期），"
                               f"已入账 {money_short(got)}，少 {money_short(expected - got)}"))
    return flags, Coverage("rent_arrears", len(scheduled), missing,
                           "本村数据有的租赁没有注明交租日期" if missing else None)


RENT_ARREARS = Rule(
    id="rent_arrears", title="租金逾期没有入账", kind="assets", severity="red",
    params={"grace_days": Param("int", 30, "days after a due date before rent counts as missing"),
            "statuses": Param("words", LEASED, "asset statuses that earn rent")},
    text=_rent_text,
    basis="出租（发包、流转）合同约定的交租日期；《中华人民共和国村民委员会组织法》第三十条（财务收支公开）",
    ask="村务监督委员会、村报账员", needs="assets: annual_rent, rent_first_due, rent_every_months; finance: asset_id",
    check=_rent_check)


# ---------------------------------------------------------------- lease ending

def _ending_text(p: dict[str, Any]) -> str:
    return (f"租期还有不到 {p['within_days']} 天就到期。到期后续租或重新发包，"
            "应当经村民代表会议决定并公开竞价，请留意村里的公示。")


def _ending_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    leases = [a for a in v.assets if a["status"] in p["statuses"] and a.get("term_end")]
    flags = []
    for a in leases:
        left = (_d(a["term_end"]) - v.as_of).days
        if 0 < left <= p["within_days"]:
            flags.append(_flag("lease_ending", a, "amber", {"term_end": a["term_end"], "days_left": str(left)},
                               f"租期到 {a['term_end']}，还有 {left} 天"))
    return flags, Coverage("lease_ending", len(leases))


LEASE_ENDING = Rule(
    id="lease_ending", title="租期快到期", kind="assets", severity="amber",
    params={"within_days": Param("int", 90, "a lease ending within this many days is shown"),
            "statuses": Param("words", LEASED, "asset statuses that are leases")},
    text=_ending_text,
    basis="出租（发包、流转）合同约定的租期；本县农村集体资产资源处置规定（公开竞价）",
    ask="村务监督委员会", needs="assets: status, term_end",
    check=_ending_check)
