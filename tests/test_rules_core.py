"""The supervision rules (kiosk/rules) on hand-made records: each rule's flags and figures,
the county's rules.json (every kind of defect), and property tests around every threshold."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.rules import RULES, RulesError, VillageData, defaults, evaluate, rule_text
from kiosk.rules.base import add_months, add_years
from kiosk.rules.finance import due_month
from kiosk.rules.settings import parse
from kiosk.rules.words import attention_box, contacts, coverage_line

AS_OF = dt.date(2026, 10, 31)
D = Decimal


def fin(i, amount, level="两委", direction="expense", date="2026-10-05", **kw):
    return {"id": f"F{i}", "date": date, "title": f"{date} 摘要{i}", "direction": direction, "amount": D(amount),
            "approval_level": level, "reverses": None, "payment_method": None, "project_id": None,
            "project_payment": None, "asset_id": None, **kw}


def proj(i, budget, method="公开招标", stages=(("立项", "2025-01-01"), ("招标", "2025-02-01"), ("合同", "2025-03-01")),
         contractor="某某公司（虚构）", location="第一组后山", category="道路硬化", contract=None):
    order = ("立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示")
    return {"id": f"P{i}", "name": f"工程{i}", "title": f"工程{i}", "category": category, "location": location,
            "budget": D(budget), "contract_amount": D(contract) if contract else None, "procurement_method": method,
            "contractor": contractor,
            "stages": sorted(({"ord": order.index(s), "stage": s, "date": d} for s, d in stages), key=lambda x: x["ord"])}


def asset(i, status="出租", category="房屋", **kw):
    base = {"id": f"A{i}", "name": f"资产{i}", "title": f"资产{i}", "kind": "资产", "category": category,
            "status": status, "reserve_price": None, "deal_price": None, "bidders": None, "term_start": None,
            "term_end": None, "annual_rent": None, "rent_first_due": None, "rent_every_months": None}
    base.update(kw)
    return base


def village(**kw) -> VillageData:
    v = VillageData(code="431382111249", as_of=kw.pop("as_of", AS_OF))
    v.finance = kw.pop("finance", [fin(0, "10", date="2026-09-10")])  # September is public: no disclosure flag
    for k, val in kw.items():
        setattr(v, k, val)
    return v


def flags_of(v, rule_id, rs=None):
    return [f for f in evaluate(v, rs or defaults())[0] if f.rule == rule_id]


def cover_of(v, rule_id, rs=None):
    return next(c for c in evaluate(v, rs or defaults())[1] if c.rule == rule_id)


# ---------------------------------------------------------------- each rule

def test_approval_level_figures_in_the_issues_words():
    v = village(finance=[fin(1, "86000", "两委", date="2026-09-02"), fin(2, "86000", "四议两公开", date="2026-09-03"),
                         fin(3, "4999.99", "两委", date="2026-09-03"), fin(4, "5000", "两委", date="2026-09-04"),
                         fin(5, "5000", "四议两公开", date="2026-09-04")])  # more scrutiny than needed is fine
    f = flags_of(v, "approval_level")
    assert [x.record_id for x in f] == ["F4", "F1"]  # newest first
    one = next(x for x in f if x.record_id == "F1")
    assert one.detail == "金额 86,000 元，按规定需经四议两公开，本条记录为两委审批"
    assert one.figures == {"amount": "86000.00", "required": "四议两公开", "recorded": "两委"}
    assert one.severity == "red" and one.title == "2026-09-02 摘要1"


def test_reversed_lines_and_reversals_are_not_judged():
    v = village(finance=[fin(1, "86000", "两委", date="2026-09-02"),
                         fin(2, "-86000", "两委", date="2026-09-09", reverses="F1"),
                         fin(3, "2000", "两委", date="2026-09-09", payment_method="现金")])
    assert flags_of(v, "approval_level") == []
    assert [x.record_id for x in flags_of(v, "cash_payment")] == ["F3"]


def test_cash_payment_and_missing_payment_method():
    v = village(finance=[fin(1, "999.99", date="2026-09-02", payment_method="现金"),
                         fin(2, "1000", date="2026-09-02", payment_method="现金"),
                         fin(3, "5000", "两委+监委", date="2026-09-02", payment_method="转账"),
                         fin(4, "3000", date="2026-09-02"), fin(5, "3000", direction="income", date="2026-09-03",
                                                              payment_method="现金")])
    f = flags_of(v, "cash_payment")
    assert [(x.record_id, x.detail) for x in f] == [("F2", "金额 1,000 元，用现金支付")]
    c = cover_of(v, "cash_payment")
    assert (c.checked, c.missing, c.reason) == (3, 1, "本村数据没有注明付款方式（现金或转账）")


def test_cash_rule_cannot_run_on_an_older_export():
    v = village(finance=[fin(1, "3000", date="2026-09-02")])
    c = cover_of(v, "cash_payment")
    assert not c.ran and c.checked == 0 and c.reason


def test_procurement():
    stages_direct = (("立项", "2025-01-01"), ("合同", "2025-03-01"))
    v = village(projects=[
        proj(1, "100000", "直接委托", stages_direct),                       # at the threshold, no competition
        proj(2, "99999.99", "直接委托", stages_direct, contractor="甲（虚构）"),  # below
        proj(3, "380000", "邀请招标"),                                      # competitive, tendered
        proj(4, "380000", "邀请招标", stages_direct, contractor="乙（虚构）"),  # method says so, no 招标 stage
        proj(5, "300000", "直接委托", (("立项", "2025-01-01"),), contractor="丙（虚构）"),  # no contract yet
        proj(6, "5000000", "竞争性谈判", contractor="丁（虚构）"),            # national tender threshold
        proj(7, "90000", "直接委托", stages_direct, contractor="戊（虚构）", contract="120000"),  # contract above budget
    ])
    f = {x.record_id: x for x in flags_of(v, "procurement")}
    assert sorted(f) == ["P1", "P4", "P6", "P7"]
    assert f["P1"].detail == "项目金额 100,000 元，达到 100,000 元，应当公开招标或比选，本项目采购方式为直接委托，没有招标或比选环节"
    assert f["P4"].figures["tender_stage"] == "0"
    assert "依法必须招标" in f["P6"].detail and f["P6"].figures["threshold"] == "4000000.00"
    assert f["P7"].figures["amount"] == "120000.00"
    assert cover_of(v, "procurement").checked == 6


def test_splitting_by_contractor_and_by_place():
    st3 = lambda d: (("立项", d), ("合同", d))  # noqa: E731
    v = village(projects=[
        proj(1, "60000", "直接委托", st3("2025-01-10"), contractor="庚（虚构）", location="甲地"),
        proj(2, "50000", "直接委托", st3("2025-12-01"), contractor="庚（虚构）", location="乙地"),
        proj(3, "60000", "直接委托", st3("2026-06-01"), contractor="庚（虚构）", location="丙地"),  # 1 with 3: > 365 d
        proj(4, "45000", "直接委托", st3("2024-03-01"), contractor="辛（虚构）", location="丁地"),
        proj(5, "55000", "直接委托", st3("2024-05-01"), contractor="壬（虚构）", location="丁地"),
        proj(6, "40000", "直接委托", st3("2024-06-01"), contractor="癸（虚构）", location="丁地", category="水利"),
        proj(7, "150000", "公开招标", contractor="庚（虚构）", location="戊地"),   # not a part: above the threshold
    ])
    f = {x.record_id: x for x in flags_of(v, "splitting")}
    assert sorted(f) == ["P1", "P2", "P3", "P4", "P5"]
    assert f["P1"].figures["total"] == "110000.00" and f["P1"].figures["group"] == "contractor"
    assert f["P3"].figures["others"] == "P2"
    assert f["P4"].figures["group"] == "place" and f["P4"].figures["total"] == "100000.00"
    assert "同一地点同类工程（丁地 · 道路硬化）在 365 天内有 2 个工程，合计 100,000 元" in f["P4"].detail
    assert all(x.severity == "amber" for x in f.values())


def test_stage_order():
    v = village(projects=[
        proj(1, "50000", "直接委托", (("立项", "2025-01-01"), ("合同", "2025-03-01"), ("施工", "2025-02-20"))),
        proj(2, "50000", "直接委托", (("立项", "2025-01-01"), ("合同", "2025-03-01"), ("施工", "2025-03-01"),
                                     ("验收", "2025-06-01"), ("审计结算", "2025-05-01")), contractor="甲"),
        proj(3, "50000", "直接委托", (("立项", "2025-01-01"), ("合同", "2025-03-01"), ("施工", "2025-03-01")),
             contractor="乙"),
    ])
    f = {x.record_id: x for x in flags_of(v, "stage_order")}
    assert sorted(f) == ["P1", "P2"]
    assert f["P1"].detail == "施工日期 2025-02-20 早于合同日期 2025-03-01"
    assert f["P2"].figures == {"pairs": "审计结算@2025-05-01<验收@2025-06-01"}


def test_early_final_payment():
    p = proj(1, "90000", "直接委托", (("立项", "2025-01-01"), ("合同", "2025-02-01"), ("施工", "2025-02-10"),
                                     ("验收", "2025-06-01"), ("审计结算", "2025-07-01")))
    q = proj(2, "90000", "直接委托", (("立项", "2025-01-01"), ("合同", "2025-02-01"), ("验收", "2025-06-01")),
             contractor="甲")
    lines = [fin(1, "30000", "两委+监委", date="2025-06-15", project_id="P1", project_payment="结算款"),
             fin(2, "30000", "两委+监委", date="2025-07-05", project_id="P1", project_payment="结算款"),
             fin(3, "30000", "两委+监委", date="2025-03-05", project_id="P1", project_payment="预付款"),
             fin(4, "2700", "两委", date="2025-06-20", project_id="P2", project_payment="质保金"),
             fin(5, "10", date="2026-09-10")]
    f = {x.record_id: x for x in flags_of(village(finance=lines, projects=[p, q]), "early_final_payment")}
    assert sorted(f) == ["F1", "F4"]
    assert f["F1"].detail == "2025-06-15 支付结算款 30,000 元，工程验收日期 2025-06-01，审计结算日期 2025-07-01"
    assert f["F4"].figures["audited_on"] == "" and "尚未审计结算" in f["F4"].detail


def test_lease_and_land_terms():
    v = village(assets=[
        asset(1, term_start="2020-01-01", term_end="2039-12-31"),                         # exactly 20 years
        asset(2, term_start="2020-01-01", term_end="2040-01-01"),                         # a day more
        asset(3, status="发包", category="山林", term_start="2016-01-01", term_end="2045-12-31"),  # 承包, not 租赁
        asset(4, status="流转", category="耕地", term_start="2023-03-01", term_end="2031-02-28"),
        asset(5, status="流转", category="耕地", term_start="2023-03-01", term_end="2028-12-31"),
    ], land_contract_end="2028-12-31")
    f = flags_of(v, "lease_term")
    assert [(x.record_id, x.detail) for x in f] == [("A2", "租期 2020-01-01 至 2040-01-01，共 20 年，超过 20 年")]
    g = flags_of(v, "land_term")
    assert [(x.record_id, x.figures["contract_end"]) for x in g] == [("A4", "2028-12-31")]
    v.land_contract_end = None
    assert flags_of(v, "land_term") == [] and cover_of(v, "land_term").reason == "本村数据没有土地承包期届满日期"


def test_deal_against_reserve():
    v = village(assets=[
        asset(1, reserve_price=D("20000.00"), deal_price=D("18000.00"), bidders=3),
        asset(2, reserve_price=D("20000.00"), deal_price=D("20000.00"), bidders=1),
        asset(3, reserve_price=D("20000.00"), deal_price=D("20000.00"), bidders=2),
        asset(4, reserve_price=D("20000.00"), deal_price=D("20000.00")),             # bidders unknown
        asset(5, reserve_price=D("20000.00"), deal_price=D("20000.01"), bidders=1),
    ])
    f = {x.record_id: x for x in flags_of(v, "below_reserve")}
    assert sorted(f) == ["A1", "A2"]
    assert (f["A1"].severity, f["A1"].detail) == ("red", "底价 20,000 元，成交价 18,000 元，低于底价 2,000 元")
    assert f["A2"].severity == "amber" and "只有 1 人竞买" in f["A2"].detail
    c = cover_of(v, "below_reserve")
    assert (c.checked, c.missing) == (4, 1)


def test_publicity_period():
    s = lambda i, name, a, b: {"id": f"S{i}", "power_name": name, "decided_on": a, "notice_from": a,  # noqa: E731
                               "notice_to": b, "title": f"{a} {name} 张*"}
    v = village(services=[s(1, "最低生活保障申请", "2025-03-11", "2025-03-17"), s(2, "最低生活保障申请", "2025-03-11", "2025-03-16"),
                          s(3, "临时救助", "2025-04-01", "2025-04-03"), s(4, "出具证明及盖章", "2025-04-01", "2025-04-01")])
    f = flags_of(v, "publicity_short")
    assert [(x.record_id, x.detail) for x in f] == [("S3", "公示 2025-04-01 至 2025-04-03，共 3 天，不足 7 天"),
                                                   ("S2", "公示 2025-03-11 至 2025-03-16，共 6 天，不足 7 天")]


@pytest.mark.parametrize("today,month,flagged", [
    ("2026-10-15", "2026-08", False),  # on the 15th September is not due yet; August is there
    ("2026-10-16", "2026-09", True),   # from the 16th September must be public
    ("2026-01-20", "2025-12", True),   # across the year
])
def test_disclosure_overdue(today, month, flagged):
    v = village(as_of=dt.date.fromisoformat(today), finance=[fin(1, "10", date="2026-08-20")])
    if month == "2025-12":
        v.finance = [fin(1, "10", date="2025-11-20")]
    f = flags_of(v, "disclosure_overdue")
    assert bool(f) == flagged
    if f:
        assert f[0].kind == "village" and f[0].record_id == "431382111249" and f[0].figures["month"] == month


def test_due_month_deadline():
    assert due_month(dt.date(2026, 10, 31), 15) == (dt.date(2026, 9, 1), dt.date(2026, 10, 15))
    assert due_month(dt.date(2026, 3, 1), 15) == (dt.date(2026, 1, 1), dt.date(2026, 2, 15))


def test_rent_arrears_within_the_books():
    a = asset(1, term_start="2024-03-01", term_end="2029-02-28", annual_rent=D("12000.00"),
              rent_first_due="2024-03-01", rent_every_months=6)
    b = asset(2, term_start="2024-03-01", term_end="2029-02-28", annual_rent=D("5000.00"),
              rent_first_due="2024-03-01", rent_every_months=12)
    lines = [fin(1, "6000", direction="income", date="2024-03-05", asset_id="A1"),
             fin(2, "6000", direction="income", date="2024-09-03", asset_id="A1"),
             fin(3, "6000", direction="income", date="2025-03-02", asset_id="A1"),
             # A1's 2025-09-01 installment is missing; its 2026-03-01 one too
             fin(4, "5000", direction="income", date="2024-03-01", asset_id="A2"),
             fin(5, "5000", direction="income", date="2025-03-30", asset_id="A2"),  # within 30 days
             fin(6, "10", date="2026-05-10")]  # the books end here
    v = village(finance=lines, assets=[a, b])
    f = {x.record_id: x for x in flags_of(v, "rent_arrears")}
    # dues checkable up to 2026-05-10 − 30 days: 2024-03, 2024-09, 2025-03, 2025-09, 2026-03
    assert f["A1"].figures == {"expected": "30000.00", "received": "18000.00", "short": "12000.00", "dues": "5",
                            "last_due": "2026-03-01", "as_of": "2026-05-10"}
    assert f["A1"].detail == "截至 2026-05-10，应收租金 30,000 元（5 期），已入账 18,000 元，少 12,000 元"
    # A2 paid 2025's rent late but within the grace; its 2026-03-01 rent is not in the books
    assert (f["A2"].figures["dues"], f["A2"].figures["short"]) == ("3", "5000.00")
    lines.append(fin(7, "5000", direction="income", date="2026-03-20", asset_id="A2"))
    assert [x.record_id for x in flags_of(v, "rent_arrears")] == ["A1"]


def test_rent_rule_needs_links():
    a = asset(1, term_start="2024-03-01", term_end="2029-02-28", annual_rent=D("1000.00"),
              rent_first_due="2024-03-01", rent_every_months=12)
    c = cover_of(village(assets=[a]), "rent_arrears")
    assert not c.ran and c.reason == "本村数据的租金收入没有关联到资产"


def test_lease_ending_window():
    v = village(assets=[asset(1, term_end="2027-01-29"), asset(2, term_end="2027-01-30"), asset(3, term_end="2026-10-31"),
                        asset(4, status="闲置", term_end="2026-11-30")])
    f = flags_of(v, "lease_ending")
    assert [(x.record_id, x.figures["days_left"]) for x in f] == [("A1", "90")]


def test_a_disabled_rule_does_not_run():
    rs = parse({"rules": {"cash_payment": {"enabled": False}}}, RULES)
    v = village(finance=[fin(1, "2000", date="2026-09-02", payment_method="现金")])
    assert flags_of(v, "cash_payment", rs) == []
    assert cover_of(v, "cash_payment", rs).reason == "本县未启用此项检查"


def test_county_numbers_change_texts_and_flags():
    rs = parse({"county": "某县", "rules": {"approval_level": {"two_committees_below": "3000", "with_supervisors_below": "30000"},
                                          "cash_payment": {"min_amount": "500", "basis": "某县规定第3条"}}}, RULES)
    assert "不到 3,000 元的" in rule_text("approval_level", rs) and "30,000 元及以上" in rule_text("approval_level", rs)
    assert rs.rules["cash_payment"].basis == "某县规定第3条"
    v = village(finance=[fin(1, "3500", "两委", date="2026-09-02", payment_method="现金")])
    assert [x.figures["required"] for x in flags_of(v, "approval_level", rs)] == ["两委+监委"]
    assert flags_of(v, "approval_level") == []
    assert len(flags_of(v, "cash_payment", rs)) == 1


# ---------------------------------------------------------------- rules.json defects

@pytest.mark.parametrize("obj,needle", [
    ([], "rules.json: -: must be a JSON object"),
    ({"county": 3}, "rules.json: county: must be a string"),
    ({"colour": "red"}, "rules.json: colour: unknown key"),
    ({"rules": []}, "rules.json: rules: must be an object keyed by rule id"),
    ({"rules": {"approval_levels": {}}}, "rules.json: rules.approval_levels: unknown rule"),
    ({"rules": {"cash_payment": 1000}}, "rules.json: rules.cash_payment: must be an object"),
    ({"rules": {"cash_payment": {"min": "1000"}}}, "rules.json: rules.cash_payment.min: unknown setting"),
    ({"rules": {"cash_payment": {"min_amount": 1000}}}, "rules.cash_payment.min_amount: amount must be a decimal string"),
    ({"rules": {"cash_payment": {"min_amount": "一千"}}}, "rules.cash_payment.min_amount: not a number"),
    ({"rules": {"cash_payment": {"min_amount": "-5"}}}, "rules.cash_payment.min_amount: amount must be ≥ 0"),
    ({"rules": {"cash_payment": {"min_amount": "1000.001"}}}, "at most two decimal places"),
    ({"rules": {"cash_payment": {"enabled": "yes"}}}, "rules.cash_payment.enabled: must be true or false"),
    ({"rules": {"cash_payment": {"basis": ""}}}, "rules.cash_payment.basis: must be a non-empty string"),
    ({"rules": {"disclosure_overdue": {"due_day": 31}}}, "rules.disclosure_overdue.due_day: must be between 1 and 28"),
    ({"rules": {"lease_term": {"max_years": 20.5}}}, "rules.lease_term.max_years: must be a whole number"),
    ({"rules": {"lease_term": {"statuses": []}}}, "rules.lease_term.statuses: must be a non-empty list"),
    ({"rules": {"approval_level": {"two_committees_below": "60000"}}}, "two_committees_below must be less than"),
])
def test_rules_json_defects_one_line_each(obj, needle):
    with pytest.raises(RulesError) as e:
        parse(obj, RULES)
    assert needle in str(e.value) and "\n" not in str(e.value)
    assert e.value.message_zh.startswith("本县规则文件有误")


def test_defaults_round_trip_through_json():
    rs = defaults()
    again = parse(rs.as_json(), RULES)
    assert again.as_json() == rs.as_json() and again.rules == rs.rules


# ---------------------------------------------------------------- villagers' words

def test_attention_box_words_and_contacts():
    profile = {"supervision_committee": [{"role": "主任", "name": "刘秀英", "phone": "0738-0000002"}],
               "discipline_office": {"name": "白马镇纪委", "phone": "0738-0000003"}}
    flag = {"severity": "red", "detail": "金额 86,000 元，按规定需经四议两公开，本条记录为两委审批",
            "note": "经镇政府同意先行抢修", "note_by": "白马镇人民政府", "note_date": "2025-08-05"}
    rule = {"title": "审批程序与金额不符", "text": rule_text("approval_level", defaults()),
            "basis": "某通知第二条", "ask": "村务监督委员会、乡镇纪委"}
    box = attention_box(flag, rule, profile)
    assert box.heading == "请关注"
    assert box.ask == ["村务监督委员会主任 刘秀英（电话 0738-0000002）", "白马镇纪委（电话 0738-0000003）"]
    assert box.note == "经镇政府同意先行抢修（白马镇人民政府，2025-08-05）"
    labels = [k for k, _ in box.lines()]
    assert labels == ["", "本条记录", "规定", "依据", "县里的说明", "可以问", ""]
    speech = box.speech()
    assert speech.startswith("请关注：审批程序与金额不符。本条记录：金额 86,000 元")
    assert "。。" not in speech and "不是结论" in speech
    assert contacts("乡镇农经站", profile) == ["乡镇农经站"]


def test_no_accusing_words_in_any_text():
    words = ("违法", "违规", "贪污", "腐败", "犯罪", "舞弊")
    rs = defaults()
    for r in RULES:
        assert not any(w in rule_text(r.id, rs) for w in words), r.id
        assert r.title and r.basis and r.ask


def test_coverage_lines():
    assert coverage_line({"enabled": 1, "reason": None}) is None
    assert coverage_line({"enabled": 0}) == "本县没有启用这项检查。"
    assert coverage_line({"enabled": 1, "checked": 0, "missing": 5, "reason": "缺少付款方式"}) == "这项检查暂时无法进行：缺少付款方式。"
    assert coverage_line({"enabled": 1, "checked": 3, "missing": 2, "reason": "缺少付款方式"}) == "有 2 条记录无法检查：缺少付款方式。"


def test_date_helpers():
    assert add_years(dt.date(2024, 2, 29), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 1, 31), 1) == dt.date(2024, 2, 29)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)


# ---------------------------------------------------------------- properties around every threshold

cents = st.integers(min_value=-300, max_value=300)


@settings(max_examples=150, deadline=None)
@given(delta=cents, at=st.sampled_from(["5000", "50000"]), level=st.sampled_from(["两委", "两委+监委", "四议两公开"]))
def test_property_approval_level_threshold(delta, at, level):
    amount = D(at) + D(delta) / 100
    if amount <= 0:
        return
    need = "两委" if amount < 5000 else ("两委+监委" if amount < 50000 else "四议两公开")
    order = ("两委", "两委+监委", "四议两公开")
    v = village(finance=[fin(1, str(amount), level, date="2026-09-02")])
    assert bool(flags_of(v, "approval_level")) == (order.index(level) < order.index(need))


@settings(max_examples=100, deadline=None)
@given(delta=cents, method=st.sampled_from(["现金", "转账"]))
def test_property_cash_threshold(delta, method):
    amount = D(1000) + D(delta) / 100
    v = village(finance=[fin(1, str(amount), "四议两公开", date="2026-09-02", payment_method=method)])
    assert bool(flags_of(v, "cash_payment")) == (method == "现金" and amount >= 1000)


@settings(max_examples=100, deadline=None)
@given(delta=st.integers(-500, 500), method=st.sampled_from(["直接委托", "询价", "公开招标"]), tendered=st.booleans())
def test_property_procurement_threshold(delta, method, tendered):
    amount = D(100000) + D(delta)
    stages = (("立项", "2025-01-01"),) + ((("招标", "2025-02-01"),) if tendered else ()) + (("合同", "2025-03-01"),)
    v = village(projects=[proj(1, str(amount), method, stages)])
    competitive = method != "直接委托" and tendered
    assert bool(flags_of(v, "procurement")) == (amount >= 100000 and not competitive)


@settings(max_examples=100, deadline=None)
@given(a=st.integers(1, 99999), b=st.integers(1, 99999), gap=st.integers(300, 430))
def test_property_splitting_threshold_and_window(a, b, gap):
    d1 = dt.date(2025, 1, 1)
    d2 = d1 + dt.timedelta(days=gap)
    st2 = lambda d: (("立项", d.isoformat()), ("合同", d.isoformat()))  # noqa: E731
    v = village(projects=[proj(1, str(a), "直接委托", st2(d1), location="甲"),
                          proj(2, str(b), "直接委托", st2(d2), location="乙")])
    assert bool(flags_of(v, "splitting")) == (a + b >= 100000 and gap <= 365)


@settings(max_examples=100, deadline=None)
@given(days=st.integers(0, 40), years=st.integers(1, 40))
def test_property_lease_term(days, years):
    start = dt.date(2020, 1, 1)
    end = add_years(start, years) - dt.timedelta(days=1) + dt.timedelta(days=days % 3 - 1)
    v = village(assets=[asset(1, term_start=start.isoformat(), term_end=end.isoformat())])
    assert bool(flags_of(v, "lease_term")) == (end >= add_years(start, 20))


@settings(max_examples=100, deadline=None)
@given(reserve=st.integers(100, 100000), delta=st.integers(-3, 3), bidders=st.one_of(st.none(), st.integers(1, 4)))
def test_property_reserve(reserve, delta, bidders):
    r, d = D(reserve), D(reserve) + D(delta) / 100
    v = village(assets=[asset(1, reserve_price=r, deal_price=d, bidders=bidders)])
    f = flags_of(v, "below_reserve")
    want = "red" if d < r else ("amber" if d == r and bidders == 1 else None)
    assert (f[0].severity if f else None) == want


@settings(max_examples=100, deadline=None)
@given(days=st.integers(1, 14))
def test_property_publicity(days):
    start = dt.date(2025, 3, 11)
    end = start + dt.timedelta(days=days - 1)
    v = village(services=[{"id": "S1", "power_name": "最低生活保障申请", "decided_on": "2025-03-10",
                           "notice_from": start.isoformat(), "notice_to": end.isoformat(), "title": ""}])
    assert bool(flags_of(v, "publicity_short")) == (days < 7)


@settings(max_examples=100, deadline=None)
@given(day=st.integers(1, 28), posted=st.booleans())
def test_property_disclosure_day(day, posted):
    today = dt.date(2026, 10, day)
    lines = [fin(1, "10", date="2026-08-20")] + ([fin(2, "10", date="2026-09-20")] if posted else [])
    v = village(as_of=today, finance=lines)
    assert bool(flags_of(v, "disclosure_overdue")) == (day > 15 and not posted)


@settings(max_examples=100, deadline=None)
@given(left=st.integers(-5, 200))
def test_property_lease_ending(left):
    end = AS_OF + dt.timedelta(days=left)
    v = village(assets=[asset(1, term_end=end.isoformat())])
    assert bool(flags_of(v, "lease_ending")) == (0 < left <= 90)


@settings(max_examples=100, deadline=None)
@given(late=st.integers(0, 60), paid=st.booleans())
def test_property_rent_grace(late, paid):
    a = asset(1, term_start="2025-01-01", term_end="2030-12-31", annual_rent=D("1200.00"),
              rent_first_due="2025-01-01", rent_every_months=12)
    lines = [fin(0, "10", direction="income", date="2025-01-01", asset_id="A9")]  # the export links rent lines
    if paid:
        lines.append(fin(1, "1200", direction="income", date="2025-01-01", asset_id="A1"))
    books_end = dt.date(2025, 1, 1) + dt.timedelta(days=late)
    lines.append(fin(2, "10", date=books_end.isoformat()))
    v = village(as_of=dt.date(2026, 10, 31), finance=lines, assets=[a])
    assert bool(flags_of(v, "rent_arrears")) == (not paid and late >= 30)
