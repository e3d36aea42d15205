"""Planted cases for the supervision rules (kiosk/rules): a few realistic records that break
each rule, in otherwise clean demo data.

Every planted record carries ``"demo_planted": "<rule id>"`` in the source (the village's own
case in ``village.json`` as a list), so tests check that each planted case is flagged and
that no other record is. The loader ignores the field; it never reaches a bundle.

Two steps: :func:`before_finance` changes assets and projects (the books are then generated
from them, so rents and project payments follow) and returns what the books must leave out or
add; :func:`after_finance` changes a few lines and service results and writes the county's
说明 for one case.
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from kiosk.demo.people import Officials, cn_number
from kiosk.formatting import money as shown
from kiosk.demo.refdata import Village
from kiosk.rules.base import add_years
from kiosk.rules.finance import due_month

D = dt.date
DAY = dt.timedelta(days=1)
MARK = "demo_planted"
FLOOD = "支付水毁通组公路抢修工程款"


@dataclass
class Plan:
    """What the books must do for the planted cases: end early (disclosure overdue), leave a
    year's rent unpaid, carry extra vouchers ``(date, code, summary, amount, fields)``."""

    books_end: dt.date
    unpaid_rent: set[tuple[str, int]] = field(default_factory=set)
    extra: list[tuple] = field(default_factory=list)


def _pick(rng: random.Random, items: list[dict], taken: set[str]) -> dict:
    free = [x for x in items if x["id"] not in taken]
    if not free:
        raise ValueError("no record left to plant a case in")
    x = rng.choice(free)
    taken.add(x["id"])
    return x


def _stage(p: dict, name: str) -> dict | None:
    return next((s for s in p["stages"] if s["stage"] == name), None)


def before_finance(v: Village, rng: random.Random, off: Officials, as_of: dt.date, assets: list[dict],
                   projects: list[dict], land_contract_end: dt.date) -> Plan:
    """Plant the asset and project cases (in place) and return the :class:`Plan` for the books."""
    month, _ = due_month(as_of, 15)
    plan = Plan(books_end=month - DAY)  # the month due by the 15th was never posted
    taken: set[str] = set()
    leases = [a for a in assets if a["annual_rent"]]

    # lease_term: a 30-year lease of a building
    a = _pick(rng, [x for x in leases if x["category"] == "房屋" and x["status"] == "出租"], taken)
    start = D(2015, 7, 1)
    a.update(term_start=start.isoformat(), term_end=(add_years(start, 30) - DAY).isoformat(),
             rent_schedule={"first_due": start.isoformat(), "every_months": 12}, **{MARK: "lease_term"})

    # land_term: farmland transferred past the end of the contract period
    land = [x for x in leases if x["category"] == "耕地"]
    a = _pick(rng, [x for x in land if x["status"] == "流转"] or land, taken)
    start = D(2023, 3, 1)
    a.update(status="流转", term_start=start.isoformat(), term_end=(add_years(start, 8) - DAY).isoformat(),
             rent_schedule={"first_due": start.isoformat(), "every_months": 12}, **{MARK: "land_term"})
    assert a["term_end"] > land_contract_end.isoformat()

    # below_reserve: one deal under the reserve price (red), one at it with a single bidder (amber)
    bidding = [x for x in leases if x["disposal_method"] == "公开竞价" and x["status"] in ("出租", "发包")]
    a = _pick(rng, bidding, taken)
    deal = (Decimal(a["reserve_price"]) * Decimal("0.9")).quantize(Decimal("10"))
    a.update(deal_price=f"{deal:.2f}", annual_rent=f"{deal:.2f}", **{MARK: "below_reserve"})
    a = _pick(rng, bidding, taken)
    a.update(deal_price=a["reserve_price"], annual_rent=a["reserve_price"], bidders=1, **{MARK: "below_reserve"})

    # lease_ending: a shop lease ends 50 days after the data date
    a = _pick(rng, [x for x in leases if x["category"] == "房屋"], taken)
    end = as_of + 50 * DAY
    start = add_years(end + DAY, -3)
    a.update(term_start=start.isoformat(), term_end=end.isoformat(),
             rent_schedule={"first_due": start.isoformat(), "every_months": 12}, **{MARK: "lease_ending"})

    # rent_arrears: a year's rent that never reached the books
    year = plan.books_end.year - 1
    due_in = [x for x in leases if x["id"] not in taken
              and x["term_start"] <= f"{year}-01-01" and x["term_end"] >= f"{year}-12-31"]
    a = _pick(rng, due_in, taken)
    plan.unpaid_rent.add((a["id"], year))
    a[MARK] = "rent_arrears"

    # procurement: a tendered project turned into a direct award without the 招标 stage
    ptaken: set[str] = set()
    big = [p for p in projects if Decimal(p["budget"]) >= 100000 and _stage(p, "合同") and _stage(p, "招标")
           and p["procurement_method"] != "公开招标"]
    p = _pick(rng, big, ptaken)
    p["stages"] = [s for s in p["stages"] if s["stage"] != "招标"]
    p.update(procurement_method="直接委托", **{MARK: "procurement"})

    # stage_order: building started before the contract; a tender held after the contract
    done = [p for p in projects if _stage(p, "施工") and _stage(p, "招标")]
    p = _pick(rng, done, ptaken)
    _stage(p, "施工")["date"] = (D.fromisoformat(_stage(p, "合同")["date"]) - 12 * DAY).isoformat()
    p[MARK] = "stage_order"
    p = _pick(rng, done, ptaken)
    _stage(p, "招标")["date"] = (D.fromisoformat(_stage(p, "合同")["date"]) + 5 * DAY).isoformat()
    p[MARK] = "stage_order"

    # early_final_payment: the final payment made after acceptance but before the audit
    accepted = [p for p in projects if _stage(p, "验收") and p["id"] not in ptaken
                and D.fromisoformat(_stage(p, "验收")["date"]) <= plan.books_end - 20 * DAY]
    p = max(accepted, key=lambda x: _stage(x, "验收")["date"])
    ptaken.add(p["id"])
    p["stages"] = [s for s in p["stages"] if s["stage"] not in ("审计结算", "公示")]
    p["settlement_amount"] = None
    paid = D.fromisoformat(_stage(p, "验收")["date"]) + 10 * DAY
    amount = (Decimal(p["contract_amount"]) * Decimal("0.27")).quantize(Decimal("0.01"))
    plan.extra.append((paid, "15301", f"支付{p['name'].split('（')[0]}结算款", amount,
                       {"project_id": p["id"], "project_payment": "结算款", MARK: "early_final_payment"}))

    # splitting: three small works for one contractor within five months, and one road in two segments
    projects += _split_projects(v, rng, off, projects, plan.books_end)

    # approval_level: flood repairs paid on the 两委's decision alone (the county's 说明 follows)
    plan.extra.append((D(plan.books_end.year - 1, 7, 16), "51401", FLOOD, Decimal("86000.00"),
                       {"approval_level": "两委", MARK: "approval_level"}))
    return plan


def _split_projects(v: Village, rng: random.Random, off: Officials, projects: list[dict],
                    books_end: dt.date) -> list[dict]:
    used = {(p["category"], p["location"]) for p in projects}
    groups = len(off.group_leaders)

    def place(cat: str) -> tuple[int, str]:
        from kiosk.demo.records import PLACES

        for _ in range(100):
            g, pl = rng.randint(1, groups), rng.choice(PLACES)
            loc = f"第{cn_number(g)}{v.group_word}{pl}"
            if (cat, loc) not in used:
                used.add((cat, loc))
                return g, pl
        raise ValueError("no free place for a planted project")

    def project(n: int, name: str, cat: str, g: int, pl: str, budget: int, contractor: str, start: dt.date) -> dict:
        dates = [start, start + 20 * DAY, start + 30 * DAY, start + 75 * DAY, start + 110 * DAY, start + 120 * DAY]
        stages = [{"stage": s, "date": d.isoformat(), "note": ""}
                  for s, d in zip(("立项", "合同", "施工", "验收", "审计结算", "公示"), dates)]
        b = Decimal(budget)
        contract, settle = (b * Decimal("0.97")).quantize(Decimal("0.01")), (b * Decimal("0.96")).quantize(Decimal("0.01"))
        stages[1]["note"] = f"与{contractor}签订施工合同，合同价{shown(contract)}"
        return {"id": f"XM{start.year}{900 + n}", "name": name, "category": cat,
                "location": f"第{cn_number(g)}{v.group_word}{pl}", "budget": f"{b:.2f}", "review_amount": None,
                "fund_sources": [{"source": "村集体自筹", "amount": f"{b:.2f}"}], "procurement_method": "直接委托",
                "contractor": contractor, "contract_amount": f"{contract:.2f}", "settlement_amount": f"{settle:.2f}",
                "supervisors": [f"{off.supervisor_chief}（村务监督委员会主任）",
                                f"{off.group_leaders[g - 1]}（第{cn_number(g)}{v.group_word}组长）"],
                "stages": stages, MARK: "splitting"}

    year = books_end.year - 1
    firm = f"{v.township_name}庚泰建筑劳务有限公司（虚构）"
    out = []
    for n, (tpl, cat, budget, month) in enumerate((("{p}排水沟整治工程", "人居环境", 68000, 3),
                                                   ("{p}垃圾分类收集亭建设", "人居环境", 79000, 5),
                                                   ("{p}山塘护坡修补工程", "水利", 86000, 7)), 1):
        g, pl = place(cat)
        out.append(project(n, tpl.format(p=pl), cat, g, pl, budget, firm, D(year, month, 6)))
    g, pl = place("道路硬化")
    # trades no clean project's contractor has (kiosk/demo/records.py), so no clean project joins a group
    for n, (part, budget, month, trade) in enumerate((("第一段", 92000, 4, "道路工程有限公司"),
                                                      ("第二段", 95000, 9, "交通建设有限公司")), 4):
        contractor = f"{v.county_name}辛和{trade}（虚构）"
        out.append(project(n, f"{pl}组级道路硬化工程（{part}）", "道路硬化", g, pl, budget, contractor, D(year, month, 12)))
    return out


def after_finance(rng: random.Random, finance: list[dict], services: list[dict], village: Village,
                  power_names: dict[str, str]) -> list[dict]:
    """Plant the finance-line and service cases (in place); return ``explanations.jsonl`` records.
    ``power_names``: power-list id → item name."""
    reversed_ids = {r["reverses"] for r in finance if r["reverses"]}
    standing = [r for r in finance if r["direction"] == "expense" and not r["reverses"]
                and r["id"] not in reversed_ids and MARK not in r]
    taken: set[str] = set()
    # approval_level: a repair in the middle band decided by the 两委 alone
    r = _pick(rng, [x for x in standing if Decimal("5000") <= Decimal(x["amount"]) < Decimal("50000")
                    and x["account_code"] != "15301"], taken)
    r.update(approval_level="两委", **{MARK: "approval_level"})
    # cash_payment: New Year relief handed out in cash; a road repair paid in cash
    for words in ("春节慰问", "道路维护"):
        r = _pick(rng, [x for x in standing if words in x["summary"] and Decimal(x["amount"]) >= 1000], taken)
        r.update(payment_method="现金", **{MARK: "cash_payment"})
    # publicity_short: two results posted for only four and five days
    for item, days in (("最低生活保障", 4), ("临时救助", 5)):
        s = rng.choice([x for x in services if item in power_names[x["power_id"]] and x["notice_from"] and MARK not in x])
        s["notice_to"] = (D.fromisoformat(s["notice_from"]) + (days - 1) * DAY).isoformat()
        for st in s["steps"]:
            if st["note"] == "公示7天，无异议":
                st["note"] = f"公示{days}天，无异议"
        s[MARK] = "publicity_short"
    flood = next(x for x in finance if x["summary"] == FLOOD)
    return [{"kind": "finance", "id": flood["id"], "rule": "approval_level",
             "text": "当年7月强降雨冲毁通组公路，为保障通行先行抢修，经乡镇人民政府同意后支付；"
                     "事后已提交村民代表会议追认。",
             "given_by": f"{village.township_name}人民政府（演示）", "date": (D.fromisoformat(flood["date"]) + 20 * DAY).isoformat()}]
