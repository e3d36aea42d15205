"""Source records: read and validate the county's export (``SRC/``, docs/data-model.md).

:func:`load_source` returns a :class:`Source` of normalised records ready for the bundle
builder: amounts as ``Decimal``, dates checked, references resolved, private names still
in full and ID numbers still plain (masking and hashing happen in the builder).

Every defect is one line naming file, line and field. :func:`load_source` goes on after a
defective record (it drops that record and validates the rest) and raises one
:class:`SourceError` whose ``defects`` hold every line found: all defective records of every
file (each with its first defect), every date after ``data_as_of``, and every ID number,
mobile number or private person's full name in public text (:mod:`kiosk.privacy`).
"""
from __future__ import annotations

import contextvars
import csv
import functools
import io
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from kiosk import idnumber
from kiosk.errors import Exit, KioskError
from kiosk.formatting import parse_date, to_decimal
from kiosk.rules import FLAG_KINDS, RULES, RuleSet, RulesError, load_ruleset
from kiosk.rules.finance import APPROVAL_LEVELS

KINDS = ("finance", "projects", "assets", "services", "powers", "payments")
STAGES = ("立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示")
PAYMENT_METHODS = ("现金", "转账")
PROJECT_PAYMENTS = ("预付款", "进度款", "结算款", "质保金")
RENT_EVERY_MONTHS = (1, 2, 3, 4, 6, 12)
POWER_CLASSES = ("重大决策", "日常管理", "便民服务")
STEP_KINDS = ("start", "step", "decision", "end")


class SourceError(KioskError):
    """The source export is malformed. ``str()`` is one line: ``file:line: field: reason``.

    ``defects``: every defect found, each a SourceError of one line (just ``[self]`` for a
    single one); the CLI prints one line per defect. ``file``/``line``: where, when known.
    """

    exit_code = Exit.SOURCE
    default_zh = "数据源格式有误，未生成数据包"

    def __init__(self, message: str, message_zh: str | None = None, defects: list["SourceError"] | None = None):
        super().__init__(message, message_zh)
        self.defects: list[SourceError] = defects or [self]
        self.file: str | None = None
        self.line: int | None = None

    @property
    def lines(self) -> list[str]:
        """One line per defect, as printed."""
        return [str(d) for d in self.defects]


def read_csv_resource(name: str) -> list[dict[str, str]]:
    """Rows of a CSV shipped in ``kiosk/data/``."""
    text = resources.files("kiosk.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def chart_of_accounts() -> dict[str, str]:
    """First-level codes → names of the 2023 village chart (财会〔2023〕14号)."""
    return {r["code"]: r["name"] for r in read_csv_resource("village-collective-2023.csv")}


def division(code: str) -> dict[str, str] | None:
    """The division row (county/township/village codes and names) for a 12-digit village code."""
    for r in read_csv_resource("loudi-4313-villages.csv"):
        if r["village_code"] == code:
            return r
    return None


@dataclass
class Source:
    """A validated export. ``records[kind]`` is a list of dicts in file order.

    ``rules``: the folder's own ``rules.json`` (None when it has none); ``explanations``:
    the county's 说明 attached to flagged records (``explanations.jsonl``, may be empty).
    """

    village: dict[str, Any]
    division: dict[str, str]
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    rules: RuleSet | None = None
    explanations: list[dict[str, Any]] = field(default_factory=list)

    @property
    def data_as_of(self) -> str:
        return self.village["data_as_of"]


class _Ctx:
    """Where we are, for error messages."""

    def __init__(self, file: str, line: int | None = None):
        self.file, self.line = file, line

    def fail(self, fld: str, reason: str, reason_zh: str | None = None) -> SourceError:
        where = f"{self.file}:{self.line}" if self.line else self.file
        err = SourceError(f"{where}: {fld}: {reason}", f"数据源有误：{where} 字段 {fld}：{reason_zh or reason}")
        err.file, err.line = self.file, self.line
        return err


def _get(rec: dict, ctx: _Ctx, name: str, typ: type | tuple = str, optional: bool = False) -> Any:
    if name not in rec or rec[name] is None:
        if optional:
            return None
        raise ctx.fail(name, "missing")
    v = rec[name]
    if typ is str and isinstance(v, str) and not v.strip() and not optional:
        raise ctx.fail(name, "empty")
    if not isinstance(v, typ) or isinstance(v, bool) and typ is not bool:
        raise ctx.fail(name, f"expected {getattr(typ, '__name__', typ)}, got {type(v).__name__}")
    if typ is int and not -MAX_INT <= v <= MAX_INT:
        raise ctx.fail(name, f"number out of range (±{MAX_INT})")
    return v


_AMOUNT = re.compile(r"-?[0-9]{1,12}(?:\.[0-9]{1,2})?")
#: the largest whole number a source field may hold (attachments, a power's number)
MAX_INT = 10 ** 9


def _amount(rec: dict, ctx: _Ctx, name: str, optional: bool = False, allow_negative: bool = False) -> Decimal | None:
    v = rec.get(name)
    if v is None:
        if optional:
            return None
        raise ctx.fail(name, "missing")
    if not isinstance(v, str):
        raise ctx.fail(name, f"amount must be a decimal string, got {type(v).__name__}")
    if not _AMOUNT.fullmatch(v.strip()):
        # not "1e3", "1,000", "+5", "NaN"; and below 10¹² 元, so 分 fit SQLite's 64-bit integers
        raise ctx.fail(name, f"not a number in plain decimal form (digits, at most two places, below 10^12 元): {v[:30]!r}",
                       f"不是规范的金额（数字，最多两位小数，小于一万亿元）：{v[:30]!r}")
    try:
        d = to_decimal(v)
    except ValueError as exc:
        raise ctx.fail(name, str(exc)) from None
    if d < 0 and not allow_negative:
        raise ctx.fail(name, "negative amount")
    return d


def _date(rec: dict, ctx: _Ctx, name: str, optional: bool = False, label: str | None = None) -> str | None:
    v = rec.get(name)
    if v is None and optional:
        return None
    if not isinstance(v, str):
        raise ctx.fail(label or name, "missing or not a date string")
    try:
        parse_date(v)
    except ValueError:
        raise ctx.fail(label or name, f"not an ISO date YYYY-MM-DD: {v!r}") from None
    return v


def _idnum(rec: dict, ctx: _Ctx, name: str) -> str:
    v = _get(rec, ctx, name)
    try:
        return idnumber.validate(v)
    except idnumber.IdNumberError as exc:
        raise ctx.fail(name, str(exc)) from None  # the number itself never goes into the message


def _read_jsonl(path: Path) -> list[tuple[int, dict]]:
    """``(line number, object)`` of each non-blank line. While :func:`load_source` collects
    defects, a bad line is reported and skipped and a missing file reads as empty."""
    out = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        _report(SourceError(f"{path.name}: file missing", f"数据源缺少文件 {path.name}"))
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        _report(_Ctx(path.name, line).fail("-", "invalid UTF-8"))
        return []
    for no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            _report(_Ctx(path.name, no).fail("-", f"invalid JSON ({exc.msg})"))
            continue
        except RecursionError:
            _report(_Ctx(path.name, no).fail("-", "JSON nested too deeply"))
            continue
        if not isinstance(obj, dict):
            _report(_Ctx(path.name, no).fail("-", "each line must be a JSON object"))
            continue
        out.append((no, obj))
    return out


def _unique_id(rec: dict, ctx: _Ctx, seen: set[str]) -> str:
    rid = _get(rec, ctx, "id")
    if rid in seen:
        raise ctx.fail("id", f"duplicate id {rid!r}")
    seen.add(rid)
    return rid


def _finance(rows, projects: dict[str, dict], assets: dict[str, dict]) -> list[dict]:
    chart = chart_of_accounts()
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("finance.jsonl", no)
        rec = {"id": _unique_id(r, c, seen), "date": _date(r, c, "date")}
        for f in ("voucher_no", "summary", "account_name", "handler", "reviewer", "approver"):
            rec[f] = _get(r, c, f)
        code = _get(r, c, "account_code")
        if not code.isdigit() or len(code) < 3 or code[:3] not in chart:
            raise c.fail("account_code", f"{code!r} is not under a first-level code of the 2023 chart")
        rec["account_code"] = code
        direction = _get(r, c, "direction")
        if direction not in ("income", "expense"):
            raise c.fail("direction", "must be income or expense")
        rec["direction"] = direction
        amount = _amount(r, c, "amount", allow_negative=True)
        reverses = _get(r, c, "reverses", optional=True)
        if amount < 0 and not reverses:
            raise c.fail("amount", "negative amount that is not a reversal (reverses is empty)")
        if reverses and amount >= 0:
            raise c.fail("amount", "a reversal (红字冲销) must have a negative amount")
        rec["amount"], rec["reverses"] = amount, reverses
        # an approval level that does not fit the amount is a rule break, flagged (kiosk/rules)
        level = _get(r, c, "approval_level")
        if level not in APPROVAL_LEVELS:
            raise c.fail("approval_level", f"must be one of {'/'.join(APPROVAL_LEVELS)}")
        rec["approval_level"] = level
        att = _get(r, c, "attachments", int)
        if att < 0:
            raise c.fail("attachments", "negative")
        rec["attachments"] = att
        method = _get(r, c, "payment_method", optional=True)
        if method is not None and method not in PAYMENT_METHODS:
            raise c.fail("payment_method", f"must be one of {'/'.join(PAYMENT_METHODS)} (or absent)")
        rec["payment_method"] = method
        pid = _get(r, c, "project_id", optional=True)
        if pid is not None and pid not in projects:
            raise c.fail("project_id", f"no project with id {pid!r}")
        rec["project_id"] = pid
        pay = _get(r, c, "project_payment", optional=True)
        if pay is not None and pay not in PROJECT_PAYMENTS:
            raise c.fail("project_payment", f"must be one of {'/'.join(PROJECT_PAYMENTS)} (or absent)")
        if pay is not None and pid is None:
            raise c.fail("project_payment", "given without project_id")
        rec["project_payment"] = pay
        aid = _get(r, c, "asset_id", optional=True)
        if aid is not None and aid not in assets:
            raise c.fail("asset_id", f"no asset with id {aid!r}")
        if aid is not None and pid is not None:
            raise c.fail("asset_id", "a line belongs to a project or to an asset, not both")
        rec["asset_id"] = aid
        rec["_line"] = no
        out.append(rec)
    ids = {x["id"]: x for x in out}
    for rec in out:
        if rec["reverses"]:
            target = ids.get(rec["reverses"])
            c = _Ctx("finance.jsonl", rec["_line"])
            if target is None:
                raise c.fail("reverses", f"no line with id {rec['reverses']!r}")
            if target["reverses"]:
                raise c.fail("reverses", "a reversal cannot reverse another reversal")
    return out


def _projects(rows) -> list[dict]:
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("projects.jsonl", no)
        rec = {"id": _unique_id(r, c, seen)}
        for f in ("name", "category", "location", "procurement_method"):
            rec[f] = _get(r, c, f)
        rec["contractor"] = _get(r, c, "contractor", optional=True)
        rec["budget"] = _amount(r, c, "budget")
        for f in ("review_amount", "contract_amount", "settlement_amount"):
            rec[f] = _amount(r, c, f, optional=True)
        fs = _get(r, c, "fund_sources", list)
        rec["fund_sources"] = []
        for i, s in enumerate(fs):
            if not isinstance(s, dict):
                raise c.fail(f"fund_sources[{i}]", "must be an object")
            rec["fund_sources"].append({"source": _get(s, c, "source"), "amount": _amount(s, c, "amount")})
        sup = _get(r, c, "supervisors", list)
        if not all(isinstance(s, str) and s for s in sup):
            raise c.fail("supervisors", "must be a list of names")
        rec["supervisors"] = sup
        stages = _get(r, c, "stages", list)
        if not stages:
            raise c.fail("stages", "empty: a project starts with 立项")
        # Stages are kept in the canonical order whatever the list order; dates that fall
        # and skipped stages are rule breaks, flagged (kiosk/rules), not refused.
        norm, seen_stages = [], set()
        for i, s in enumerate(stages):
            if not isinstance(s, dict):
                raise c.fail(f"stages[{i}]", "must be an object")
            name = _get(s, c, "stage")
            if name not in STAGES:
                raise c.fail(f"stages[{i}].stage", f"unknown stage {name!r}")
            if name in seen_stages:
                raise c.fail(f"stages[{i}].stage", f"stage {name} appears twice")
            seen_stages.add(name)
            d = _date(s, c, "date", label=f"stages[{i}].date")
            note = s.get("note", "")
            if not isinstance(note, str):
                raise c.fail(f"stages[{i}].note", "must be text")
            norm.append({"ord": STAGES.index(name), "stage": name, "date": d, "note": note})
        norm.sort(key=lambda x: x["ord"])
        if norm[0]["stage"] != "立项":
            raise c.fail("stages", "a project starts with 立项 (its date is the project's start)")
        rec["stages"] = norm
        out.append(rec)
    return out


def _assets(rows) -> list[dict]:
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("assets.jsonl", no)
        rec = {"id": _unique_id(r, c, seen)}
        for f in ("name", "category", "status"):
            rec[f] = _get(r, c, f)
        kind = _get(r, c, "kind")
        if kind not in ("资产", "资源"):
            raise c.fail("kind", "must be 资产 or 资源")
        rec["kind"] = kind
        for f in ("area_unit", "counterparty", "disposal_method", "reserve_review"):
            rec[f] = _get(r, c, f, optional=True)
        ctype = _get(r, c, "counterparty_type", optional=True)
        if rec["counterparty"] and ctype not in ("person", "org"):
            raise c.fail("counterparty_type", "must be person or org when a counterparty is named")
        rec["counterparty_type"] = ctype
        for f in ("area", "reserve_price", "deal_price", "annual_rent", "deposit"):
            rec[f] = _amount(r, c, f, optional=True)
        rec["term_start"] = _date(r, c, "term_start", optional=True)
        rec["term_end"] = _date(r, c, "term_end", optional=True)
        if rec["term_start"] and rec["term_end"] and rec["term_end"] < rec["term_start"]:
            raise c.fail("term_end", "before term_start")
        bidders = _get(r, c, "bidders", int, optional=True)
        if bidders is not None and bidders < 0:
            raise c.fail("bidders", "negative")
        if bidders == 0 and rec["deal_price"] is not None:
            raise c.fail("bidders", "0 bidders but a deal price")
        rec["bidders"] = bidders
        rec["rent_first_due"] = rec["rent_every_months"] = None
        sched = _get(r, c, "rent_schedule", dict, optional=True)
        if sched is not None:
            if rec["annual_rent"] is None:
                raise c.fail("rent_schedule", "given without annual_rent")
            rec["rent_first_due"] = _date(sched, c, "first_due", label="rent_schedule.first_due")
            every = sched.get("every_months")
            if isinstance(every, bool) or every not in RENT_EVERY_MONTHS:
                raise c.fail("rent_schedule.every_months", f"must be one of {', '.join(map(str, RENT_EVERY_MONTHS))}")
            rec["rent_every_months"] = every
        out.append(rec)
    return out


def _steps(r: dict, c: _Ctx, name: str) -> list[dict]:
    out = []
    for i, s in enumerate(_get(r, c, name, list)):
        if not isinstance(s, dict):
            raise c.fail(f"{name}[{i}]", "must be an object")
        note = s.get("note", "")
        if not isinstance(note, str):
            raise c.fail(f"{name}[{i}].note", "must be text")
        out.append({"step": _get(s, c, "step"), "date": _date(s, c, "date", label=f"{name}[{i}].date"), "note": note})
    return out


def _powers(rows) -> list[dict]:
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("powers.jsonl", no)
        rec = {"id": _unique_id(r, c, seen)}
        klass = _get(r, c, "class")
        if klass not in POWER_CLASSES:
            raise c.fail("class", f"must be one of {'/'.join(POWER_CLASSES)}")
        rec["class"] = klass
        rec["no"] = _get(r, c, "no", int)
        for f in ("name", "basis", "executor", "supervisor"):
            rec[f] = _get(r, c, f)
        rec["materials"] = _get(r, c, "materials", optional=True)
        rec["time_limit"] = _get(r, c, "time_limit", optional=True)
        rec["sample"] = bool(_get(r, c, "sample", bool))
        steps, ids = [], set()
        for i, s in enumerate(_get(r, c, "steps", list)):
            if not isinstance(s, dict):
                raise c.fail(f"steps[{i}]", "must be an object")
            sid = _get(s, c, "id")
            if sid in ids:
                raise c.fail(f"steps[{i}].id", f"duplicate step {sid!r}")
            kind = _get(s, c, "kind")
            if kind not in STEP_KINDS:
                raise c.fail(f"steps[{i}].kind", f"must be one of {'/'.join(STEP_KINDS)}")
            ids.add(sid)
            steps.append({"step_id": sid, "ord": i, "label": _get(s, c, "label"), "kind": kind})
        edges, pairs = [], set()
        for i, e in enumerate(_get(r, c, "edges", list)):
            if not isinstance(e, dict):
                raise c.fail(f"edges[{i}]", "must be an object")
            src, dst = _get(e, c, "from"), _get(e, c, "to")
            if src not in ids or dst not in ids:
                raise c.fail(f"edges[{i}]", f"edge {src}→{dst} names an unknown step")
            if (src, dst) in pairs:
                raise c.fail(f"edges[{i}]", f"duplicate edge {src}→{dst}")
            pairs.add((src, dst))
            label = e.get("label", "")
            if not isinstance(label, str):
                raise c.fail(f"edges[{i}].label", "must be text")
            edges.append({"src": src, "dst": dst, "label": label})
        _check_graph(steps, edges, c)
        rec["steps"], rec["edges"] = steps, edges
        out.append(rec)
    return out


def _check_graph(steps: list[dict], edges: list[dict], c: _Ctx) -> None:
    starts = [s["step_id"] for s in steps if s["kind"] == "start"]
    if len(starts) != 1:
        raise c.fail("steps", "the procedure needs exactly one start step")
    if not any(s["kind"] == "end" for s in steps):
        raise c.fail("steps", "the procedure needs an end step")
    nxt: dict[str, list[dict]] = {}
    for e in edges:
        nxt.setdefault(e["src"], []).append(e)
    for s in steps:
        if s["kind"] == "decision":
            outs = nxt.get(s["step_id"], [])
            if len(outs) < 2 or not all(e["label"] for e in outs):
                raise c.fail("edges", f"decision {s['step_id']} needs two or more labelled branches")
    seen, todo = set(), [starts[0]]
    while todo:
        n = todo.pop()
        if n not in seen:
            seen.add(n)
            todo.extend(e["dst"] for e in nxt.get(n, []))
    unreachable = [s["step_id"] for s in steps if s["step_id"] not in seen]
    if unreachable:
        raise c.fail("edges", f"steps not reachable from the start: {', '.join(unreachable)}")


def _services(rows, powers: dict[str, dict]) -> list[dict]:
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("services.jsonl", no)
        rec = {"id": _unique_id(r, c, seen)}
        pid = _get(r, c, "power_id")
        if pid not in powers:
            raise c.fail("power_id", f"no power item {pid!r}")
        rec["power_id"], rec["power_name"] = pid, powers[pid]["name"]
        for f in ("applicant", "group", "result"):
            rec[f] = _get(r, c, f)
        rec["applicant_id_number"] = _idnum(r, c, "applicant_id_number")
        rec["decided_on"] = _date(r, c, "decided_on")
        rec["notice_from"] = _date(r, c, "notice_from", optional=True)
        rec["notice_to"] = _date(r, c, "notice_to", optional=True)
        if rec["notice_from"] and rec["notice_to"] and rec["notice_to"] < rec["notice_from"]:
            raise c.fail("notice_to", "before notice_from")
        rec["steps"] = _steps(r, c, "steps")
        out.append(rec)
    return out


def _payments(rows) -> list[dict]:
    out, seen = [], set()
    for no, r in rows:
        c = _Ctx("payments.jsonl", no)
        rec = {"id": _unique_id(r, c, seen)}
        for f in ("item", "period", "basis", "holder", "household_head"):
            rec[f] = _get(r, c, f)
        rec["paid_on"] = _date(r, c, "paid_on")
        rec["amount"] = _amount(r, c, "amount")
        rec["holder_id_number"] = _idnum(r, c, "holder_id_number")
        out.append(rec)
    return out


def _village(src: Path) -> tuple[dict, dict]:
    p = src / "village.json"
    try:
        v = json.loads(p.read_bytes().decode("utf-8"))
    except FileNotFoundError:
        raise SourceError("village.json: file missing", "数据源缺少 village.json") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Ctx("village.json").fail("-", f"invalid JSON/UTF-8 ({exc})") from None
    except RecursionError:
        raise _Ctx("village.json").fail("-", "JSON nested too deeply") from None
    c = _Ctx("village.json")
    if not isinstance(v, dict):
        raise c.fail("-", "must be a JSON object")
    code = _get(v, c, "code")
    div = division(code)
    if div is None:
        raise c.fail("code", f"{code} is not a village code in the shipped division table")
    _date(v, c, "data_as_of")
    _date(v, c, "land_contract_end", optional=True)
    for f in ("cadres", "supervision_committee"):
        _get(v, c, f, list, optional=True)
    from kiosk.complaints import validate as complaint_defects  # 监督投诉 channels (docs/data-model.md)

    if defects := complaint_defects(v):
        raise SourceError("\n".join(defects), "数据源有误：" + "；".join(d.removeprefix("village.json: ") for d in defects))
    return v, div


def _explanations(path: Path, records: dict[str, list[dict]], village_code: str) -> list[dict]:
    """``explanations.jsonl`` (optional): the county's 说明 on flagged records,
    ``{kind, id, rule, text, given_by?, date?}``. Whether the record is really flagged by
    ``rule`` is checked when the flags are computed (kiosk/cache/flagstore.py)."""
    if not path.exists():
        return []
    ids = {k: {r["id"] for r in records[k]} for k in FLAG_KINDS if k != "village"}
    ids["village"] = {village_code}
    rule_ids = {r.id for r in RULES}
    out, seen = [], set()
    for no, r in _read_jsonl(path):
        c = _Ctx(path.name, no)
        kind = _get(r, c, "kind")
        if kind not in FLAG_KINDS:
            raise c.fail("kind", f"must be one of {'/'.join(FLAG_KINDS)}")
        rid, rule = _get(r, c, "id"), _get(r, c, "rule")
        if rid not in ids[kind]:
            raise c.fail("id", f"no {kind} record with id {rid!r}")
        if rule not in rule_ids:
            raise c.fail("rule", f"unknown rule {rule!r}")
        if (kind, rid, rule) in seen:
            raise c.fail("rule", f"a second explanation for {kind} {rid} under {rule}")
        seen.add((kind, rid, rule))
        out.append({"kind": kind, "id": rid, "rule": rule, "text": _get(r, c, "text"),
                    "given_by": _get(r, c, "given_by", optional=True), "date": _date(r, c, "date", optional=True),
                    "_line": no})
    return out


def load_rules(src: Path) -> RuleSet | None:
    """``SRC/rules.json`` validated, or None when the folder has none.

    Raises:
        SourceError: malformed (one line naming the key).
    """
    p = src / "rules.json"
    if not p.exists():
        return None
    try:
        return load_ruleset(p)
    except RulesError as exc:
        raise SourceError(exc.message, exc.message_zh) from None


def load_source(src: Path | str, cfg: dict | None = None, progress: Callable[[str], None] | None = None) -> Source:
    """Read and validate ``SRC/``; see :func:`_load_source`. Every defect found is collected
    (module doc) and raised together as one :class:`SourceError`."""
    token = _COLLECTOR.set(_Defects())
    try:
        return _load_source(src, cfg, progress)
    finally:
        _COLLECTOR.reset(token)


def _load_source(src: Path | str, cfg: dict | None = None, progress: Callable[[str], None] | None = None) -> Source:
    """Read and validate ``SRC/`` (docs/data-model.md), with its optional ``rules.json`` and
    ``explanations.jsonl``. ``cfg`` is accepted for callers that pass the kiosk config; the
    rules' numbers come from ``rules.json``, not from it.

    Raises:
        SourceError: with one line per defect in ``defects`` (see module doc).
    """
    src = Path(src)
    if not src.is_dir():
        raise SourceError(f"{src}: not a folder", f"找不到数据源文件夹 {src}")
    defects = _COLLECTOR.get() or _Defects.start()
    village, div = _village(src)
    source = Source(village=village, division=div, rules=load_rules(src))
    # projects and assets first: finance lines refer to them
    for kind in ("projects", "assets", "powers", "payments"):
        if progress:
            progress(kind)
        loader = {"projects": _projects, "assets": _assets, "powers": _powers, "payments": _payments}[kind]
        source.records[kind] = loader(_read_jsonl(src / f"{kind}.jsonl"))
    if progress:
        progress("finance")
    source.records["finance"] = _finance(_read_jsonl(src / "finance.jsonl"),
                                         {p["id"]: p for p in source.records["projects"]},
                                         {a["id"]: a for a in source.records["assets"]})
    if progress:
        progress("services")
    powers = {p["id"]: p for p in source.records["powers"]}
    source.records["services"] = _services(_read_jsonl(src / "services.jsonl"), powers)
    try:
        source.explanations = _explanations(src / "explanations.jsonl", source.records, village["code"])
    except SourceError as exc:
        _report(exc)
    defects.finish(source)
    return source


# ---------------------------------------------------------------- every defect, not the first
#
# Why a wrapper and not a try/except in each loader's loop: the loaders stay plain
# "raise at the first defect of a record" code. The wrapper runs a loader, and when a record
# fails it reports the defect, drops that record and runs the loader again on the rest, so
# every defective record is found (one line each, its first defect) and cross-record checks
# (duplicate ids, references) still see every other record.

MAX_DEFECTS = 1000  # then stop: the export is broken wholesale
_COLLECTOR: contextvars.ContextVar["_Defects | None"] = contextvars.ContextVar("source_defects", default=None)


class _Defects:
    """The defects of one :func:`load_source` call, and each kind's records with their lines."""

    def __init__(self) -> None:
        self.found: list[SourceError] = []
        self.rows: dict[str, list[tuple[int, dict]]] = {}  # kind → (line, record) of records kept

    @classmethod
    def start(cls) -> "_Defects":
        d = cls()
        _COLLECTOR.set(d)
        return d

    def add(self, err: SourceError) -> None:
        self.found.extend(err.defects)
        if len(self.found) >= MAX_DEFECTS:
            self._raise(stopped=True)

    def _raise(self, stopped: bool = False) -> None:
        _COLLECTOR.set(None)
        found = self.found[:MAX_DEFECTS]
        if stopped:
            found.append(SourceError(f"stopped after {MAX_DEFECTS} defects", f"错误超过 {MAX_DEFECTS} 处，已停止检查"))
        if len(found) == 1:
            raise found[0]
        raise SourceError(f"{len(self.found)} defects in the source export, first: {found[0].message}",
                          f"数据源有 {len(self.found)} 处错误，未生成数据包", defects=found)

    def finish(self, source: "Source") -> None:
        """Checks across files, then raise every defect found (nothing when clean)."""
        _COLLECTOR.set(None)
        for err in _after_checks(source, self.rows):
            self.found.append(err)
        if self.found:
            self._raise()


def _report(err: SourceError) -> None:
    """Record ``err`` when collecting, else raise it (callers outside :func:`load_source`)."""
    col = _COLLECTOR.get()
    if col is None:
        raise err
    col.add(err)


def _each_record(kind: str, loader: Callable) -> Callable:
    """Wrap a loader ``(rows, *args) -> records`` to report every defective record (see above)."""

    @functools.wraps(loader)
    def run(rows, *args, **kwargs):
        col = _COLLECTOR.get()
        if col is None:
            return loader(rows, *args, **kwargs)
        rows = list(rows)
        dropped: set[str] = set()
        while True:
            try:
                out = loader(rows, *args, **kwargs)
            except SourceError as exc:
                # a reference to a record dropped for its own defect says nothing new
                if not any(f"{rid!r}" in exc.message for rid in dropped):
                    col.add(exc)
                at = next((i for i, (no, _) in enumerate(rows) if no == exc.line), None) \
                    if exc.file == f"{kind}.jsonl" else None
                if at is None:
                    col.rows[kind] = []
                    return []  # not one record's fault: this file cannot be checked further
                rid = rows[at][1].get("id")
                if isinstance(rid, str):
                    dropped.add(rid)
                del rows[at]
                continue
            col.rows[kind] = list(zip((no for no, _ in rows), out)) if len(out) == len(rows) else []
            return out

    return run


#: dates of things that happened: none may lie after the export's data_as_of
_HAPPENED = {"finance": ("date",), "payments": ("paid_on",), "services": ("decided_on",)}

#: public text fields per kind (shown on screens, printed on receipts); ``[]``: in each item
_PUBLIC_TEXT = {
    "finance": ("summary", "voucher_no", "account_name", "handler", "reviewer", "approver"),
    "projects": ("name", "category", "location", "procurement_method", "contractor", "supervisors[]",
                 "stages[].note", "fund_sources[].source"),
    "assets": ("name", "category", "status", "disposal_method", "reserve_review", "area_unit"),
    "services": ("group", "result", "steps[].step", "steps[].note"),
    "powers": ("name", "basis", "executor", "supervisor", "materials", "time_limit", "steps[].label", "edges[].label"),
    "payments": ("item", "basis", "period"),
}
#: fields that name officials in office in full: no private name check there (ID/mobile still)
_OFFICIAL_FIELDS = {"handler", "reviewer", "approver", "supervisors[]", "executor", "supervisor"}


def _texts(rec: dict, spec: str):
    """``(label, text)`` of one public field spec (``steps[].note``: each item's note)."""
    if "[]" not in spec:
        v = rec.get(spec)
        if isinstance(v, str):
            yield spec, v
        return
    lst, _, sub = spec.partition("[]")
    for i, item in enumerate(rec.get(lst) or []):
        v = item.get(sub.lstrip(".")) if sub and isinstance(item, dict) else item
        if isinstance(v, str):
            yield f"{lst}[{i}]{sub}", v


def _official_names(source: "Source") -> set[str]:
    names: set[str] = set()
    v = source.village
    for group in ("cadres", "supervision_committee"):
        for person in v.get(group) or []:
            if isinstance(person, dict) and isinstance(person.get("name"), str):
                names.add(person["name"])
    for r in source.records.get("finance", []):
        names.update(r[f] for f in ("handler", "reviewer", "approver"))
    for r in source.records.get("projects", []):
        names.update(re.split(r"\s*[（(]", s, maxsplit=1)[0] for s in r["supervisors"])  # "name (role)"
    return names


def _after_checks(source: "Source", rows: dict[str, list[tuple[int, dict]]]) -> list[SourceError]:
    """Dates after ``data_as_of`` and personal data in public text (:mod:`kiosk.privacy`),
    one defect per finding."""
    from kiosk import privacy

    out: list[SourceError] = []
    as_of = source.village.get("data_as_of")
    recs = source.records
    persons = [r["applicant"] for r in recs.get("services", [])] + \
        [r[f] for r in recs.get("payments", []) for f in ("holder", "household_head")] + \
        [r["counterparty"] for r in recs.get("assets", []) if r.get("counterparty_type") == "person"]
    officials = frozenset(privacy.normalise(n).strip() for n in _official_names(source))
    names = privacy.private_names(persons, officials)
    for kind in KINDS:
        for no, r in rows.get(kind, []):
            c = _Ctx(f"{kind}.jsonl", no)
            for f in _HAPPENED.get(kind, ()):
                if isinstance(as_of, str) and isinstance(r.get(f), str) and r[f] > as_of:
                    out.append(c.fail(f, f"{r[f]} is after the export's data_as_of {as_of}",
                                      f"{r[f]} 晚于数据截止日期 {as_of}"))
            if kind == "projects" and isinstance(as_of, str):
                for i, st in enumerate(r["stages"]):
                    if st["date"] > as_of:
                        out.append(c.fail(f"stages[{i}].date", f"{st['date']} is after the export's data_as_of {as_of}",
                                          f"{st['date']} 晚于数据截止日期 {as_of}"))
            for spec in _PUBLIC_TEXT.get(kind, ()):
                for label, text in _texts(r, spec):
                    for found in privacy.find(text, frozenset() if spec in _OFFICIAL_FIELDS else names, officials):
                        out.append(c.fail(label, found.reason, found.reason_zh))
    return out


for _kind in ("finance", "projects", "assets", "powers", "payments", "services"):
    globals()[f"_{_kind}"] = _each_record(_kind, globals()[f"_{_kind}"])
del _kind
