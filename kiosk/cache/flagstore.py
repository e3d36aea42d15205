"""Supervision flags in the bundle database (schema revision 2): written at build, read back
and recomputed by ``kiosk flags check``.

The build evaluates :mod:`kiosk.rules` on each village's validated records and stores, next
to the records, what the rules read (``finance_payment``, ``asset_terms``), the county's rule
table (``rules``), what each rule could check (``rule_coverage``) and the flags with the
county's 说明 (``flags``). :func:`recompute` rebuilds every village's rule input from those
tables alone and runs the same rules, so anyone holding a bundle can confirm its flags.
"""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterable

from kiosk.rules import RULES, Flag, RuleSet, VillageData, evaluate, rule_text
from kiosk.rules.data import finance_title, service_title
from kiosk.rules.settings import parse

from kiosk.cache.schemas import revision_of as revision  # noqa: F401 (re-exported)

#: The revision that added the flags tables.
SCHEMA_REVISION = 2
FLAG_TABLES = ("finance_payment", "asset_terms", "rules", "rule_coverage", "flags")


# ---------------------------------------------------------------- write (build)

def _ins(con: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if rows:
        cols = list(rows[0])
        con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                        [tuple(r[c] for c in cols) for r in rows])


def write_rules(con: sqlite3.Connection, rs: RuleSet) -> None:
    """The rule table: every rule with its texts and the county's numbers."""
    _ins(con, "rules", ({"id": r.id, "ord": i, "title": r.title, "kind": r.kind, "enabled": int(rs.rules[r.id].enabled),
                         "text": rule_text(r.id, rs), "basis": rs.rules[r.id].basis, "ask": rs.rules[r.id].ask,
                         "params_json": json.dumps(rs.rules[r.id].params_json(), ensure_ascii=False, sort_keys=True)}
                        for i, r in enumerate(RULES)))


def write_inputs(con: sqlite3.Connection, finance: list[dict], assets: list[dict]) -> None:
    """``finance_payment`` and ``asset_terms`` rows for the records that carry any of those fields."""
    _ins(con, "finance_payment", ({"finance_id": r["id"], "payment_method": r["payment_method"],
                                   "project_id": r["project_id"], "project_payment": r["project_payment"],
                                   "asset_id": r["asset_id"]}
                                  for r in finance if r["payment_method"] or r["project_id"] or r["asset_id"]))
    _ins(con, "asset_terms", ({"asset_id": r["id"], "bidders": r["bidders"], "rent_first_due": r["rent_first_due"],
                               "rent_every_months": r["rent_every_months"]}
                              for r in assets if r["bidders"] is not None or r["rent_first_due"]))


class ExplanationError(ValueError):
    """A 说明 for a record that no rule flags: ``args[0]`` is the explanation, ``args[1]`` the reason."""


def write_village(con: sqlite3.Connection, v: VillageData, rs: RuleSet, explanations: list[dict]) -> list[Flag]:
    """Evaluate the rules on one village and store its coverage and flags (with 说明).

    Raises:
        ExplanationError: an explanation names a record the rule does not flag.
    """
    flags, cover = evaluate(v, rs)
    keys = {f.key() for f in flags}
    notes = {}
    for e in explanations:
        k = (e["rule"], e["kind"], e["id"])
        if k not in keys:
            raise ExplanationError(e, f"{e['kind']} {e['id']} is not flagged by {e['rule']} (nothing to explain)")
        notes[k] = e
    _ins(con, "rule_coverage", ({"village_code": v.code, "rule_id": c.rule, "as_of": v.as_of.isoformat(),
                                 "checked": c.checked, "missing": c.missing, "reason": c.reason} for c in cover))
    _ins(con, "flags", ({"village_code": v.code, "rule_id": f.rule, "severity": f.severity, "kind": f.kind,
                         "record_id": f.record_id, "title": f.title, "record_date": f.date,
                         "figures_json": json.dumps(f.figures, ensure_ascii=False, sort_keys=True), "detail": f.detail,
                         "note": notes[f.key()]["text"] if f.key() in notes else None,
                         "note_by": notes[f.key()].get("given_by") if f.key() in notes else None,
                         "note_date": notes[f.key()].get("date") if f.key() in notes else None}
                        for f in flags))
    return flags


# ---------------------------------------------------------------- read back (check)

def _dec(v: str | None) -> Decimal | None:
    return None if v is None else Decimal(v)


def ruleset_from_db(con: sqlite3.Connection) -> RuleSet:
    """The rule table the bundle was built with (validated again like a rules.json)."""
    rows = con.execute("SELECT id, enabled, basis, ask, params_json FROM rules ORDER BY ord").fetchall()
    given = {r[0]: {"enabled": bool(r[1]), "basis": r[2], "ask": r[3], **json.loads(r[4])} for r in rows}
    county = con.execute("SELECT value FROM meta WHERE key = 'rules_county'").fetchone()
    return parse({"county": county[0] if county else "", "rules": given}, RULES, source="bundle")


def village_data(con: sqlite3.Connection, code: str) -> VillageData:
    """One village's rule input rebuilt from the bundle's tables."""
    prof = json.loads(con.execute("SELECT profile_json FROM villages WHERE code = ?", (code,)).fetchone()[0])
    as_of = con.execute("SELECT as_of FROM rule_coverage WHERE village_code = ? LIMIT 1", (code,)).fetchone()
    v = VillageData(code=code, as_of=dt.date.fromisoformat(as_of[0]), land_contract_end=prof.get("land_contract_end"))
    for r in con.execute("SELECT f.id, f.date, f.summary, f.direction, f.amount, f.approval_level, f.reverses_id,"
                         " p.payment_method, p.project_id, p.project_payment, p.asset_id"
                         " FROM finance f LEFT JOIN finance_payment p ON p.finance_id = f.id"
                         " WHERE f.village_code = ? ORDER BY f.seq", (code,)):
        v.finance.append({"id": r[0], "date": r[1], "title": finance_title({"date": r[1], "summary": r[2]}),
                          "direction": r[3], "amount": Decimal(r[4]), "approval_level": r[5], "reverses": r[6],
                          "payment_method": r[7], "project_id": r[8], "project_payment": r[9], "asset_id": r[10]})
    stages: dict[str, list[dict]] = {}
    for r in con.execute("SELECT s.project_id, s.ord, s.stage, s.date FROM project_stages s JOIN projects p"
                         " ON p.id = s.project_id WHERE p.village_code = ? ORDER BY s.project_id, s.ord", (code,)):
        stages.setdefault(r[0], []).append({"ord": r[1], "stage": r[2], "date": r[3]})
    for r in con.execute("SELECT id, name, category, location, budget, contract_amount, procurement_method, contractor"
                         " FROM projects WHERE village_code = ? ORDER BY seq", (code,)):
        v.projects.append({"id": r[0], "name": r[1], "title": r[1], "category": r[2], "location": r[3],
                           "budget": Decimal(r[4]), "contract_amount": _dec(r[5]), "procurement_method": r[6],
                           "contractor": r[7], "stages": stages.get(r[0], [])})
    for r in con.execute("SELECT a.id, a.name, a.kind, a.category, a.status, a.reserve_price, a.deal_price, t.bidders,"
                         " a.term_start, a.term_end, a.annual_rent, t.rent_first_due, t.rent_every_months"
                         " FROM assets a LEFT JOIN asset_terms t ON t.asset_id = a.id"
                         " WHERE a.village_code = ? ORDER BY a.seq", (code,)):
        v.assets.append({"id": r[0], "name": r[1], "title": r[1], "kind": r[2], "category": r[3], "status": r[4],
                         "reserve_price": _dec(r[5]), "deal_price": _dec(r[6]), "bidders": r[7], "term_start": r[8],
                         "term_end": r[9], "annual_rent": _dec(r[10]), "rent_first_due": r[11],
                         "rent_every_months": r[12]})
    for r in con.execute("SELECT id, power_name, applicant, decided_on, notice_from, notice_to FROM services"
                         " WHERE village_code = ? ORDER BY seq", (code,)):
        v.services.append({"id": r[0], "power_name": r[1], "decided_on": r[3], "notice_from": r[4],
                           "notice_to": r[5], "title": service_title(r[3], r[1], r[2])})
    return v


@dataclass
class CheckReport:
    """What ``kiosk flags check`` found: ``differences`` (one English line each; empty = the
    bundle's flags are exactly what its records and rules give), flags and villages checked."""

    revision: int
    villages: int = 0
    flags: int = 0
    differences: list[str] = field(default_factory=list)


def _stored_flags(con: sqlite3.Connection, code: str) -> dict[tuple, tuple]:
    out = {}
    for r in con.execute("SELECT rule_id, kind, record_id, severity, figures_json, detail FROM flags"
                         " WHERE village_code = ? ORDER BY seq", (code,)):
        f = Flag(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5])
        out[f.key()] = f.compared()
    return out


def recompute(db: Path) -> CheckReport:
    """Recompute every village's flags from the bundle database at ``db`` and compare.

    Raises:
        sqlite3.DatabaseError: not a readable SQLite database.
    """
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    try:
        rep = CheckReport(revision(con))
        if rep.revision < SCHEMA_REVISION:
            return rep
        rs = ruleset_from_db(con)
        for rid, title, text in con.execute("SELECT id, title, text FROM rules ORDER BY ord"):
            want = next(r for r in RULES if r.id == rid)
            if title != want.title:
                rep.differences.append(f"rule {rid}: title {title!r}, the rule's code says {want.title!r}")
            if text != rule_text(rid, rs):
                rep.differences.append(f"rule {rid}: text differs from the rule with its numbers")
        for (code,) in con.execute("SELECT code FROM villages ORDER BY code").fetchall():
            rep.villages += 1
            v = village_data(con, code)
            flags, cover = evaluate(v, rs)
            got = _stored_flags(con, code)
            want = {f.key(): f.compared() for f in flags}
            rep.flags += len(got)
            for k in sorted(set(want) | set(got)):
                what = f"{code}: {k[1]} {k[2]} {k[0]}"
                if k not in got:
                    rep.differences.append(f"{what}: missing from the bundle (the rules flag it: {want[k][5]})")
                elif k not in want:
                    rep.differences.append(f"{what}: in the bundle, but the rules do not flag it")
                elif got[k] != want[k]:
                    rep.differences.append(f"{what}: stored figures differ from the recomputed ones ({want[k][5]})")
            stored_cov = {r[0]: (r[1], r[2], r[3]) for r in con.execute(
                "SELECT rule_id, checked, missing, reason FROM rule_coverage WHERE village_code = ?", (code,))}
            for c in cover:
                if stored_cov.get(c.rule) != (c.checked, c.missing, c.reason):
                    rep.differences.append(f"{code}: coverage of {c.rule} differs ({stored_cov.get(c.rule)} vs "
                                           f"{(c.checked, c.missing, c.reason)})")
        return rep
    finally:
        con.close()
