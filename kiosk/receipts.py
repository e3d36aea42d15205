"""Receipts for the records staff print on request (no Kivy): one finance line, a month's
finance lines with totals, a project, an asset, a service result, a card holder's payments
(newest year in detail, earlier years as one line).

Each builder takes the mirror's rows (as the screens show them) and the ``MirrorInfo`` of the
version shown, and returns a :class:`kiosk.devices.printer.Receipt` with the village name,
key-value rows or a table, amounts in figures and 大写, a QR code to verify the record, and
the footer the screen shows (``数据更新至 … · 第N版 · 指纹 …``) plus the print time.

Personal data: only what public screens show goes on paper. Private names come from the
mirror already masked (``张*三``, docs/data-model.md); an ID number is never an input here.

QR code (:func:`record_url`): a URL that opens the same record in the phone viewer, at the
version that was printed (docs/viewer.md)::

    https://jiandu.example.org/cunwu/431382111249/#/r/finance/F-2025-0012?v=7&fp=1a2b3c4d&k=1a2b3c4d5e6f7081

``v``/``fp`` the signed data version and fingerprint, ``k`` the id of the county key that signed
it (the viewer refuses a version signed by any other key). A month's lines open that month; a
holder's payments open the village's page of that version (personal records are never on
the web). Without a base URL (config ``viewer.base_url``) a receipt has no QR code and does not
mention one.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from kiosk.devices.printer import Receipt
from kiosk.errors import Exit, KioskError
from kiosk.formatting import counterparty_label, date_cn, money

DIRECTION = {"income": "收入", "expense": "支出"}
#: receipt kind → the viewer's record kind (kiosk print KIND)
VIEWER_KINDS = {"finance": "finance", "project": "project", "asset": "asset", "service": "service", "power": "power"}
QR_CAPTION = "手机扫码，核对县平台签名的同一条记录"


@dataclass(frozen=True)
class ViewerLink:
    """Where phones check a printed record: the viewer's base URL (config ``viewer.base_url``,
    the public web tree ``kiosk publish --web`` writes) and the id of the county key that signed
    the version shown (``kiosk.cache.viewerlink.for_mirror`` finds it)."""

    base_url: str
    key_id: str


def record_url(link: ViewerLink, info, route: str) -> str:
    """``BASE/<village>/#<route>?v=<seq>&fp=<fingerprint>&k=<key id>`` (see module doc).

    ``route`` is the viewer's path: ``/r/finance/<id>``, ``/finance/2025/3`` or ``/``.
    """
    base = link.base_url.rstrip("/")
    return f"{base}/{quote(info.village_code, safe='')}/#{route}?v={info.seq}&fp={info.fingerprint}&k={link.key_id}"


def _record_route(kind: str, rid: str) -> str:
    return f"/r/{VIEWER_KINDS[kind]}/{quote(rid, safe='')}"


def _start(title: str, info) -> Receipt:
    return Receipt(title, village=f"{info.township_name}·{info.village_name}")


def _finish(r: Receipt, info, link: ViewerLink | None, route: str) -> Receipt:
    r.rule()
    if link is not None and link.base_url:
        r.qr(record_url(link, info, route), QR_CAPTION)
    return r.footer(seq=info.seq, fingerprint=info.fingerprint, data_as_of=info.data_as_of)


def _rows(r: Receipt, pairs) -> Receipt:
    for k, v in pairs:
        if v is not None and v != "":
            r.row(k, v)
    return r


def finance_line(rec: dict[str, Any], info, link: ViewerLink | None = None) -> Receipt:
    """One finance line (``Mirror.finance_get`` row): date, voucher, summary, account,
    handler/reviewer/approver, amount in figures and 大写."""
    plain = rec.get("plain_name") or rec["account_name"]
    account = plain if plain == rec["account_name"] else f"{plain}（{rec['account_name']}）"
    r = _start(f"财务收支明细 · {DIRECTION[rec['direction']]}", info)
    _rows(r, [("日期", date_cn(rec["date"])), ("凭证号", rec["voucher_no"]), ("摘要", rec["summary"]),
              ("科目", account), ("科目代码", rec["account_code"]), ("经手人", rec.get("handler")),
              ("审核人", rec.get("reviewer")), ("审批人", rec.get("approver")),
              ("审批程序", rec.get("approval_level")),
              ("附件", f"{rec['attachments']} 张" if rec.get("attachments") is not None else None)])
    rev = rec.get("reverses")
    if rev:
        r.text(f"红字冲销：冲销 {date_cn(rev['date'])} 凭证号 {rev['voucher_no']} {rev['summary']}")
    r.amount(DIRECTION[rec["direction"]], rec["amount"])
    return _finish(r, info, link, _record_route("finance", rec["id"]))


def finance_month(rows: list[dict[str, Any]], totals, year: int, month: int, info,
                  link: ViewerLink | None = None) -> Receipt:
    """A month's finance lines (oldest first on paper) with income, expense and balance.

    ``totals``: ``Mirror.finance_totals(year, month)`` (its count must match ``rows``).

    Raises:
        ValueError: ``rows`` is not the whole month (count differs from ``totals.count``).
    """
    if len(rows) != totals.count:
        raise ValueError(f"{len(rows)} lines given, the month has {totals.count}")
    r = _start(f"{year}年{month}月 财务收支明细", info)
    lines = sorted(rows, key=lambda x: (x["date"], x.get("seq", 0)))
    r.table(["日期 摘要", "收支", "金额"],
            [[f"{int(x['date'][8:10])}日 {x['summary']}", DIRECTION[x["direction"]][1], money(x["amount"], unit=False)]
             for x in lines])
    r.row("笔数", f"{totals.count} 笔")
    r.amount("收入合计", totals.income)
    r.amount("支出合计", totals.expense)
    r.amount("结余", totals.balance)
    return _finish(r, info, link, f"/finance/{year}/{month}")


def project(p: dict[str, Any], info, link: ViewerLink | None = None) -> Receipt:
    """A project (``Mirror.project_get``): facts, money, the stages reached with dates."""
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    r = _start("工程项目", info)
    r.text(p["name"], bold=True)
    funds = "；".join(f"{f['source']} {money(f['amount'])}" for f in p.get("fund_sources") or [])
    _rows(r, [("类别", p.get("category")), ("地点", p.get("location")), ("当前阶段", p.get("stage")),
              ("评审价", opt(p.get("review_amount"))), ("资金来源", funds),
              ("采购方式", p.get("procurement_method")), ("施工单位", p.get("contractor")),
              ("合同金额", opt(p.get("contract_amount"))), ("审计结算", opt(p.get("settlement_amount"))),
              ("监督人", "、".join(p.get("supervisors") or []))])
    stages = p.get("stages") or []
    if stages:
        r.table(["阶段", "日期"], [[s["stage"], s["date"]] for s in stages])
    r.amount("预算", p["budget"])
    return _finish(r, info, link, _record_route("project", p["id"]))


def asset(a: dict[str, Any], info, link: ViewerLink | None = None) -> Receipt:
    """An asset or resource (``Mirror.asset_get``): 底价 and its review, deal, term, rent."""
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    r = _start("资产资源", info)
    r.text(a["name"], bold=True)
    term = None
    if a.get("term_start") or a.get("term_end"):
        term = f"{a.get('term_start') or '—'} 至 {a.get('term_end') or '—'}"
    area = None
    if a.get("area") is not None:
        area = f"{a['area'].normalize():f} {a.get('area_unit') or ''}".strip()
    _rows(r, [("类别", f"{a['kind']} · {a['category']}"), ("面积", area), ("状态", a.get("status")),
              (counterparty_label(a.get("status")), a.get("counterparty")), ("处置方式", a.get("disposal_method")),
              ("底价", opt(a.get("reserve_price"))), ("底价评审", a.get("reserve_review")),
              ("期限", term), ("保证金", opt(a.get("deposit")))])
    if a.get("deal_price") is not None:
        r.amount("成交价", a["deal_price"])
    if a.get("annual_rent") is not None:
        r.amount("年租金", a["annual_rent"])
    return _finish(r, info, link, _record_route("asset", a["id"]))


def service(s: dict[str, Any], info, link: ViewerLink | None = None) -> Receipt:
    """A service result (``Mirror.service_get`` / ``services_for``; applicant masked) with its steps."""
    r = _start("办事结果", info)
    notice = None
    if s.get("notice_from"):
        notice = f"{s['notice_from']} 至 {s['notice_to']}" if s.get("notice_to") else s["notice_from"]
    _rows(r, [("事项", s["power_name"]), ("申请人", s.get("applicant")), ("村民小组", s.get("group_name")),
              ("结果", s["result"]), ("办结日期", date_cn(s["decided_on"])), ("公示期", notice)])
    steps = s.get("steps") or []
    if steps:
        r.table(["办理步骤", "日期"], [[st.get("step", ""), st.get("date") or ""] for st in steps])
    return _finish(r, info, link, _record_route("service", s["id"]))


def payments(rec, info, link: ViewerLink | None = None) -> Receipt:
    """A card holder's 到户资金 (a :class:`kiosk.personal.PersonalRecords`): the lines of the
    newest year with payments and that year's total, one line with the count and total of all
    earlier years (no details: three years of lines were ~85 cm of paper), then the total of
    everything (元, Decimal). The holder's name only masked; no ID number. The QR code (with a
    ``link``) opens the village's page of the version printed: personal records are not on the web.

    Raises:
        ValueError: the holder has no payments.
    """
    if not rec.payments:
        raise ValueError("no payments to print")
    newest, earlier = rec.years[0], rec.years[1:]
    r = _start("到户资金明细", info)
    r.row("领取人", rec.masked_name)
    lines = rec.payments_in(newest.year)
    r.text(f"{newest.year}年 共 {newest.count} 笔", bold=True)
    r.table(["项目 期间", "发放日期", "金额"],
            [[f"{p['item']} {p['period']}", p["paid_on"][5:], money(p["amount"], unit=False)] for p in lines],
            totals=[f"{newest.year}年合计", "", money(newest.amount, unit=False)])
    if earlier:
        n = sum(y.count for y in earlier)
        amount = sum((y.amount for y in earlier), Decimal("0"))
        r.text(f"更早年份：{n} 笔，合计 {money(amount)}")
    for b in sorted({p["basis"] for p in lines if p.get("basis")}):
        r.text(f"政策依据：{b}")
    r.amount(f"全部 {len(rec.payments)} 笔合计", rec.total)
    return _finish(r, info, link, "/")


def total_of(rows: list[dict[str, Any]]) -> Decimal:
    """Sum of ``amount`` over rows (Decimal 元)."""
    return sum((Decimal(r["amount"]) for r in rows), Decimal("0"))


def finance_month_from(mirror, year: int, month: int, link: ViewerLink | None = None) -> Receipt:
    """:func:`finance_month` for ``year``/``month`` read from ``mirror`` (worker thread;
    one month is at most a few hundred lines, read in keyset pages)."""
    totals = mirror.finance_totals(year, month)
    rows, after = [], None
    while True:
        page = mirror.finance_page(year, month, after=after, limit=200)
        rows += page.rows
        if page.next is None:
            break
        after = page.next
    return finance_month(rows, totals, year, month, mirror.info, link)


def power(p: dict[str, Any], info, link: ViewerLink | None = None) -> Receipt:
    """A power-list item (``Mirror.power_get``): class and number, basis, who executes and who
    supervises, materials, time limit, and its procedure as numbered steps, each branch
    (不通过 → 退回 …) under its step."""
    r = _start("权力清单事项", info)
    r.text(p["name"], bold=True)
    if p.get("sample") or info.power_list_sample:
        r.text("示例：县平台尚未提供本村该事项的正式流程")
    _rows(r, [("类别", f"{p['class']} 第{p['no']}项"), ("依据", p.get("basis")), ("执行主体", p.get("executor")),
              ("监督主体", p.get("supervisor")), ("所需材料", p.get("materials")), ("办理时限", p.get("time_limit"))])
    steps = sorted(p.get("steps") or [], key=lambda s: s["ord"])
    labels = {s["step_id"]: s["label"] for s in steps}
    if steps:
        r.text("办理流程", bold=True)
    for i, st in enumerate(steps):
        nxt = steps[i + 1]["step_id"] if i + 1 < len(steps) else None
        r.text(f"{i + 1}. {st['label']}")
        for e in p.get("edges") or []:
            if e["src"] == st["step_id"] and e["dst"] != nxt:
                r.text(f"　{e['label'] or '转到'} → {labels.get(e['dst'], e['dst'])}")
    return _finish(r, info, link, _record_route("power", p["id"]))


class RecordNotFound(KioskError):
    """No record of that kind and id in the version shown."""

    exit_code = Exit.FAILED
    default_zh = "没有找到这条记录"


#: kinds ``kiosk print`` takes, with what ID means for each
PRINT_KINDS = {"finance": "a finance line's id", "finance-month": "YYYY-MM", "project": "a project's id",
               "asset": "an asset's id", "service": "a service result's id", "power": "a power-list item's id"}


def for_record(mirror, kind: str, rid: str, link: ViewerLink | None = None) -> Receipt:
    """The receipt the 打印 button gives for record ``rid`` of ``kind`` (:data:`PRINT_KINDS`)
    in the version ``mirror`` shows (the same builders the detail screens call).

    Raises:
        RecordNotFound: no such record (or month) in this version. ValueError: unknown kind,
            or a month not written YYYY-MM.
    """
    info = mirror.info

    def missing() -> RecordNotFound:
        return RecordNotFound(f"no {kind} record {rid!r} in 第{info.seq}版 of {info.village_code}",
                              f"第{info.seq}版数据中没有这条记录（{rid}）")

    if kind == "finance-month":
        try:
            year, month = (int(x) for x in rid.split("-"))
            if not 1 <= month <= 12 or len(rid) != 7:
                raise ValueError
        except ValueError:
            raise ValueError(f"finance-month takes YYYY-MM, not {rid!r}") from None
        if mirror.finance_totals(year, month).count == 0:
            raise missing()
        return finance_month_from(mirror, year, month, link)
    getters = {"finance": (mirror.finance_get, finance_line), "project": (mirror.project_get, project),
               "asset": (mirror.asset_get, asset), "service": (mirror.service_get, service),
               "power": (mirror.power_get, power)}
    if kind not in getters:
        raise ValueError(f"unknown record kind {kind!r} (one of {', '.join(PRINT_KINDS)})")
    get, build = getters[kind]
    rec = get(rid)
    if rec is None or (mirror.village and rec.get("village_code") not in (None, mirror.village)):
        raise missing()
    return build(rec, info, link)


# ---------------------------------------------------------------- 问题反映单 (question slip)

#: The national discipline-inspection reporting number; from outside the area dial the area code first.
REPORT_PHONE = "12388"
KIND_NAMES = {"finance": "财务收支", "projects": "工程项目", "assets": "资产资源", "services": "办事结果",
              "powers": "权力清单", "village": "本村"}
WRITING_LINES = 6


def _record_rows(kind: str, rec: dict[str, Any]) -> list[tuple[str, Any]]:
    """The few facts that identify a record on the slip (the same words as its screen)."""
    opt = lambda v: money(v) if v is not None else None  # noqa: E731
    if kind == "finance":
        return [("日期", date_cn(rec["date"])), ("凭证号", rec["voucher_no"]), ("摘要", rec["summary"]),
                (DIRECTION[rec["direction"]], money(rec["amount"])), ("审批程序", rec.get("approval_level"))]
    if kind == "projects":
        return [("项目", rec["name"]), ("当前阶段", rec.get("stage")), ("预算", opt(rec.get("budget"))),
                ("施工单位", rec.get("contractor"))]
    if kind == "assets":
        return [("名称", rec["name"]), ("状态", rec.get("status")), ("底价", opt(rec.get("reserve_price"))),
                ("成交价", opt(rec.get("deal_price")))]
    if kind == "services":
        return [("事项", rec["power_name"]), ("申请人", rec.get("applicant")), ("结果", rec.get("result")),
                ("办结日期", date_cn(rec["decided_on"]))]
    if kind == "powers":
        return [("事项", rec["name"]), ("类别", rec.get("class"))]
    if kind == "village":
        return [("事项", rec.get("title") or "本村财务公开")]
    raise ValueError(f"unknown record kind {kind!r}")


def channels(profile: dict[str, Any] | None) -> list[tuple[str, str]]:
    """Where a question can go, from the village profile: the 村务监督委员会 (its 主任), the
    township discipline office, 12388 (national discipline-inspection reporting line) and the
    county platform (its address; the slip prints it as a QR code)."""
    profile = profile or {}
    out = []
    chief = next((p for p in profile.get("supervision_committee") or [] if p.get("role") == "主任"), None)
    out.append(("村务监督委员会", f"主任 {chief['name']} {chief.get('phone', '')}".strip() if chief and chief.get("name")
                else "本村村务监督委员会"))
    office = profile.get("discipline_office") or {}
    out.append((office.get("name") or "乡镇纪委", office.get("phone") or "到乡镇人民政府纪委办公室"))
    out.append(("纪检监察举报电话", f"{REPORT_PHONE}（外地加拨区号）"))
    url = ((profile.get("complaints") or {}).get("platform_url") or "").strip()
    if url:
        out.append(("县互联网+监督平台", "扫下方二维码"))
    return out


#: question-slip kind (a screen's section) → the viewer's record kind
SLIP_VIEWER_KINDS = {"finance": "finance", "projects": "project", "assets": "asset", "services": "service",
                     "powers": "power"}


def question_slip(kind: str, rec: dict[str, Any], info, flags: list[dict[str, Any]] | None = None,
                  profile: dict[str, Any] | None = None, link: ViewerLink | None = None) -> Receipt:
    """问题反映单: a slip to write a question on and hand to the 村务监督委员会.

    ``kind``: finance, projects, assets, services, powers or village; ``rec``: the record as
    its screen has it (``Mirror.finance_get`` …; for ``village`` a flags row); ``flags``:
    ``Mirror.flags_for(kind, id)`` rows (each with its ``rule``), may be empty; ``profile``:
    ``info.profile`` unless given; ``link``: where phones check the record (none: no record QR
    code). Carries the record, the data version and fingerprint, each flag's rule and figures
    (and the county's 说明), lines to write on, and the complaint channels with the platform's
    QR code. Nothing personal beyond what the screen shows.

    Raises:
        ValueError: unknown ``kind``.
    """
    profile = info.profile if profile is None else profile
    r = _start("问题反映单", info)
    rid = (rec.get("id") or "") if kind != "village" else ""
    r.text("反映的事项" if kind == "village" else
           f"反映的记录：{KIND_NAMES.get(kind, kind)}" + (f"（编号 {rid}）" if rid else ""), bold=True)
    _rows(r, _record_rows(kind, rec))
    r.row("数据版本", f"第{info.seq}版 · 指纹 {info.fingerprint}")
    r.row("数据更新至", info.data_as_of)
    for f in flags or []:
        rule = f["rule"]
        r.rule()
        r.text(f"监督提示：{rule['title']}", bold=True)
        # "86,000 元" must not break before 元 (the layout breaks at spaces)
        r.text(f"本条记录：{f['detail']}。".replace(" 元", "元"))
        r.text(f"规定：{rule['text']}".replace(" 元", "元"))
        r.text(f"依据：{rule['basis']}")
        if f.get("note"):
            by = "，".join(x for x in (f.get("note_by"), f.get("note_date")) if x)
            r.text(f"县里的说明：{f['note']}" + (f"（{by}）" if by else ""))
    r.rule()
    r.text("我的问题（请写在下面）：", bold=True)
    for _ in range(WRITING_LINES):
        r.text(" ")
        r.rule("_")
    r.text(" ")
    r.text("反映人（可不填）：")
    r.text("联系电话（可不填）：")
    r.text("日期：　　　年　　月　　日")
    r.rule()
    r.text("可以把这张单子交给或联系：", bold=True)
    for k, v in channels(profile):
        r.row(k, v)
    url = ((profile or {}).get("complaints") or {}).get("platform_url")
    if url:
        r.qr(url, "扫码到县互联网+监督平台反映问题")
    route = _record_route(SLIP_VIEWER_KINDS[kind], rid) if rid and kind in SLIP_VIEWER_KINDS else "/"
    return _finish(r, info, link, route)


def question_slip_from(mirror, kind: str, record_id: str, link: ViewerLink | None = None,
                       rule: str | None = None) -> Receipt:
    """:func:`question_slip` for record ``record_id`` of ``kind`` read from ``mirror``
    (worker thread). ``kind`` ``village`` prints the village's own flags (首页). ``rule``: only
    that rule's flag (the button in one 请关注 box); None: every flag of the record.

    Raises:
        ValueError: no such record, or unknown ``kind``.
    """
    get = {"finance": mirror.finance_get, "projects": mirror.project_get, "assets": mirror.asset_get,
           "services": mirror.service_get, "powers": mirror.power_get}
    if kind == "village":
        flags = mirror.village_flags()
        rec = {"id": "", "title": flags[0]["title"] if flags else "本村财务公开"}
    elif kind in get:
        rec = get[kind](record_id)
        if rec is None:
            raise ValueError(f"no {kind} record {record_id!r}")
        flags = mirror.flags_for(kind, record_id)
    else:
        raise ValueError(f"unknown record kind {kind!r}")
    if rule is not None:
        flags = [f for f in flags if f["rule_id"] == rule]
    return question_slip(kind, rec, mirror.info, flags, link=link)
