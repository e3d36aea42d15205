"""Source records: read and validate the county's export (``SRC/``, docs/data-model.md).

:func:`load_source` returns a :class:`Source` of normalised records ready for the bundle
builder: amounts as ``Decimal``, dates checked, references resolved, private names still
in full and ID numbers still plain (masking and hashing happen in the builder).

Every defect raises :class:`SourceError` naming file, line and field in one line.
"""
from __future__ import annotations

import csv
import io
import json
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
    """The source export is malformed. ``str()`` is one line: ``file:line: field: reason``."""

    exit_code = Exit.SOURCE
    default_zh = "数据源格式有误，未生成数据包"


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

    def fail(self, fld: str, reason: str) -> SourceError:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return SourceError(f"{where}: {fld}: {reason}", f"数据源有误：{where} 字段 {fld}：{reason}")


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
    return v


def _amount(rec: dict, ctx: _Ctx, name: str, optional: bool = False, allow_negative: bool = False) -> Decimal | None:
    v = rec.get(name)
    if v is None:
        if optional:
            return None
        raise ctx.fail(name, "missing")
    if not isinstance(v, str):
        raise ctx.fail(name, f"amount must be a decimal string, got {type(v).__name__}")
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
    out = []
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path.name}: file missing", f"数据源缺少文件 {path.name}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise _Ctx(path.name, line).fail("-", "invalid UTF-8") from None
    for no, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _Ctx(path.name, no).fail("-", f"invalid JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise _Ctx(path.name, no).fail("-", "each line must be a JSON object")
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
    """Read and validate ``SRC/`` (docs/data-model.md), with its optional ``rules.json`` and
    ``explanations.jsonl``. ``cfg`` is accepted for callers that pass the kiosk config; the
    rules' numbers come from ``rules.json``, not from it.

    Raises:
        SourceError: first defect found, as one line naming file, line and field.
    """
    src = Path(src)
    if not src.is_dir():
        raise SourceError(f"{src}: not a folder", f"找不到数据源文件夹 {src}")
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
    source.explanations = _explanations(src / "explanations.jsonl", source.records, village["code"])
    return source
