"""Rules on the books (财务收支): approval level by amount, large cash payments, final
project payments before acceptance, and the village's monthly disclosure.

A line cancelled by a 红字冲销 (and the reversal itself) is never judged: what counts is the
entry that stands.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from kiosk.formatting import money_short
from kiosk.rules.base import Coverage, Flag, Param, Rule, VillageData, d2

#: Approval levels from least to most scrutiny (the source's ``approval_level`` values).
APPROVAL_LEVELS = ("两委", "两委+监委", "四议两公开")


def standing_expenses(v: VillageData) -> list[dict[str, Any]]:
    """Expense lines that stand: not a reversal, not reversed by another line."""
    reversed_ids = {r["reverses"] for r in v.finance if r.get("reverses")}
    return [r for r in v.finance if r["direction"] == "expense" and not r.get("reverses")
            and r["id"] not in reversed_ids]


def _flag(rule: str, r: dict, severity: str, figures: dict[str, str], detail: str) -> Flag:
    return Flag(rule, "finance", r["id"], severity, figures, detail, r.get("title", ""), r["date"])


# ---------------------------------------------------------------- approval level

def required_level(amount: Decimal, p: dict[str, Any]) -> str:
    """The approval level a spending of ``amount`` 元 needs (absolute value):
    below ``two_committees_below`` 两委, below ``with_supervisors_below`` 两委+监委, else 四议两公开."""
    a = abs(amount)
    if a < p["two_committees_below"]:
        return "两委"
    if a < p["with_supervisors_below"]:
        return "两委+监委"
    return "四议两公开"


def _approval_text(p: dict[str, Any]) -> str:
    lo, hi = money_short(p["two_committees_below"]), money_short(p["with_supervisors_below"])
    return (f"村里每笔开支都要按金额开会审批：不到 {lo}的，由村“两委”会议通过；{lo}及以上、不到 {hi}的，"
            f"由村“两委”、村民小组长和村务监督委员会一起开会通过；{hi}及以上的，要经过“四议两公开”。")


def _approval_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    flags, lines = [], standing_expenses(v)
    for r in lines:
        need = required_level(r["amount"], p)
        if APPROVAL_LEVELS.index(r["approval_level"]) < APPROVAL_LEVELS.index(need):
            flags.append(_flag("approval_level", r, "red",
                               {"amount": d2(r["amount"]), "required": need, "recorded": r["approval_level"]},
                               f"金额 {money_short(r['amount'])}，按规定需经{need}，本条记录为{r['approval_level']}审批"))
    return flags, Coverage("approval_level", len(lines))


APPROVAL = Rule(
    id="approval_level", title="审批程序与金额不符", kind="finance", severity="red",
    params={"two_committees_below": Param("amount", Decimal("5000"), "below this: 村“两委”会议"),
            "with_supervisors_below": Param("amount", Decimal("50000"),
                                            "below this: 两委 + 村民小组长 + 村务监督委员会; from it: 四议两公开")},
    text=_approval_text,
    basis="洪江市群峰乡人民政府《关于规范村级财务管理的通知》（2024年12月4日）第二条第（1）项；本县标准以县里公布的为准",
    ask="村务监督委员会", needs="finance: amount, direction, approval_level",
    check=_approval_check)


# ---------------------------------------------------------------- cash

def _cash_text(p: dict[str, Any]) -> str:
    return f"一次支出 {money_short(p['min_amount'])}及以上的，应当通过银行转账付款，不付现金。"


def _cash_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    lines = standing_expenses(v)
    known = [r for r in lines if r.get("payment_method")]
    flags = [_flag("cash_payment", r, "red", {"amount": d2(r["amount"]), "payment_method": "现金"},
                   f"金额 {money_short(r['amount'])}，用现金支付")
             for r in known if r["payment_method"] == "现金" and r["amount"] >= p["min_amount"]]
    missing = len(lines) - len(known)
    return flags, Coverage("cash_payment", len(known), missing,
                           "本村数据没有注明付款方式（现金或转账）" if missing else None)


CASH = Rule(
    id="cash_payment", title="大额现金支付", kind="finance", severity="red",
    params={"min_amount": Param("amount", Decimal("1000"), "a single expense of this much or more must go by bank transfer")},
    text=_cash_text,
    basis="《现金管理暂行条例》第五条（结算起点为1000元）；洪江市群峰乡人民政府《关于规范村级财务管理的通知》第一条第（2）项",
    ask="村务监督委员会", needs="finance: payment_method (现金/转账)",
    check=_cash_check)


# ---------------------------------------------------------------- final payment before acceptance

def _final_text(p: dict[str, Any]) -> str:
    kinds = "、".join(p["final_payments"])
    return f"工程的{kinds}，要等竣工验收和审计结算都完成以后才能支付。"


def _final_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    projects = {x["id"]: x for x in v.projects}
    lines = [r for r in standing_expenses(v) if r.get("project_id") and r.get("project_payment") in p["final_payments"]]
    flags = []
    for r in lines:
        st = {s["stage"]: s["date"] for s in projects[r["project_id"]]["stages"]}
        acc, audit = st.get("验收"), st.get("审计结算")
        if acc and audit and r["date"] >= acc and r["date"] >= audit:
            continue
        parts = [f"{r['date']} 支付{r['project_payment']} {money_short(r['amount'])}"]
        parts.append(f"工程验收日期 {acc}" if acc else "工程尚未验收")
        parts.append(f"审计结算日期 {audit}" if audit else "尚未审计结算")
        flags.append(_flag("early_final_payment", r, "red",
                           {"amount": d2(r["amount"]), "paid_on": r["date"], "payment": r["project_payment"],
                            "project_id": r["project_id"], "accepted_on": acc or "", "audited_on": audit or ""},
                           "，".join(parts)))
    linked = any(r.get("project_id") for r in v.finance)
    return flags, Coverage("early_final_payment", len(lines), 0,
                           None if linked or not v.projects else "本村数据的收支没有关联到工程项目")


FINAL_PAYMENT = Rule(
    id="early_final_payment", title="验收或审计前付了结算款", kind="finance", severity="red",
    params={"final_payments": Param("words", ("结算款", "质保金"), "project_payment values that must wait for 验收 and 审计结算")},
    text=_final_text,
    basis="本县村级工程项目建设流程（权力清单“村级工程项目建设”）：竣工验收、审计结算后支付结算款；"
          "《建设工程质量保证金管理办法》（建质〔2017〕138号）第七条（质保金预留不超过结算总额3%）",
    ask="村务监督委员会", needs="finance: project_id, project_payment; projects: stages",
    check=_final_check)


# ---------------------------------------------------------------- disclosure overdue (village level)

def due_month(today: dt.date, due_day: int) -> tuple[dt.date, dt.date]:
    """``(first day of the month that must be public by today, its deadline)``: a month's lines
    are due by ``due_day`` of the next month, so after that day the previous month must be
    there; on or before it, the month before that."""
    first = today.replace(day=1)
    prev = (first - dt.timedelta(days=1)).replace(day=1)
    month = prev if today.day > due_day else (prev - dt.timedelta(days=1)).replace(day=1)
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    return month, nxt.replace(day=min(due_day, 28))


def _disclosure_text(p: dict[str, Any]) -> str:
    return f"村里的财务收支要每个月公开一次：上个月的账，最迟在本月 {p['due_day']} 日前公开。"


def _disclosure_check(v: VillageData, p: dict[str, Any]) -> tuple[list[Flag], Coverage]:
    month, deadline = due_month(v.as_of, p["due_day"])
    key = month.isoformat()[:7]
    span = v.books_span()
    if any(r["date"].startswith(key) for r in v.finance):
        return [], Coverage("disclosure_overdue", 1)
    latest = span[1] if span else ""
    detail = (f"截至 {v.as_of.isoformat()}，{month.year}年{month.month}月的财务收支还没有公开"
              f"（应在 {deadline.month}月{deadline.day}日前公开）；"
              + (f"已公开的最近一笔是 {latest}" if latest else "没有任何已公开的收支"))
    flag = Flag("disclosure_overdue", "village", v.code, "red",
                {"month": key, "due": deadline.isoformat(), "as_of": v.as_of.isoformat(), "latest": latest},
                detail, "本村财务公开", v.as_of.isoformat())
    return [flag], Coverage("disclosure_overdue", 1)


DISCLOSURE = Rule(
    id="disclosure_overdue", title="财务没有按月公开", kind="village", severity="red",
    params={"due_day": Param("int", 15, "a month's lines must be public by this day of the next month")},
    text=_disclosure_text,
    basis="《中华人民共和国村民委员会组织法》第三十条（集体财务往来较多的，财务收支情况应当每月公布一次）；公开日期按本县规定",
    ask="村务监督委员会、乡镇纪委", needs="finance: date",
    check=_disclosure_check)
