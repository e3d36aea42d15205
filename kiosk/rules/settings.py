"""The county's rule table (``SRC/rules.json``): every number and basis text, validated.

Shape (every key optional; what is left out keeps the default of :data:`kiosk.rules.RULES`)::

    {
      "county": "涟源市",
      "rules": {
        "approval_level": {"two_committees_below": "5000", "with_supervisors_below": "50000",
                           "basis": "…", "ask": "村务监督委员会"},
        "cash_payment": {"enabled": false}
      }
    }

Amounts are decimal strings in 元, day and year counts integers, lists of words lists of
non-empty strings. Each defect raises :class:`RulesError` naming the key in one line.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from kiosk.rules.base import Param, Rule

#: Bounds of integer parameters (inclusive); a value outside cannot be meant.
INT_BOUNDS = {"due_day": (1, 28), "window_days": (1, 3660), "max_years": (1, 99), "grace_days": (0, 366),
              "within_days": (1, 3660), "min_days": (1, 90)}


class RulesError(ValueError):
    """A rule table is malformed. ``str()`` is one line: ``rules.json: key: reason``;
    ``message_zh`` the same in Chinese. Callers turn it into their own error family
    (:class:`kiosk.records.SourceError` for an export, a BundleError for a bundle)."""

    def __init__(self, message: str, message_zh: str):
        super().__init__(message)
        self.message, self.message_zh = message, message_zh


@dataclass(frozen=True)
class RuleConfig:
    """One rule as the county set it: on or off, its numbers (typed), basis and whom to ask."""

    enabled: bool
    params: dict[str, Any]
    basis: str
    ask: str

    def params_json(self) -> dict[str, Any]:
        """The numbers as ``rules.json`` writes them (amounts as strings, lists as lists)."""
        out: dict[str, Any] = {}
        for k, v in self.params.items():
            out[k] = f"{v:.2f}" if isinstance(v, Decimal) else (list(v) if isinstance(v, tuple) else v)
        return out


@dataclass(frozen=True)
class RuleSet:
    """The whole rule table: ``county`` label (may be empty) and one :class:`RuleConfig` per rule id."""

    county: str
    rules: dict[str, RuleConfig] = field(default_factory=dict)
    source: str = "defaults"  # 'rules.json' when the export carried one

    def as_json(self) -> dict[str, Any]:
        """The complete table as ``rules.json`` would write it (every key present)."""
        return {"county": self.county,
                "rules": {rid: {"enabled": c.enabled, **c.params_json(), "basis": c.basis, "ask": c.ask}
                          for rid, c in self.rules.items()}}


def _fail(where: str, reason: str) -> RulesError:
    return RulesError(f"rules.json: {where}: {reason}", f"本县规则文件有误：{where}：{reason}")


def _value(p: Param, v: Any, where: str, name: str) -> Any:
    if p.type == "amount":
        if not isinstance(v, str):
            raise _fail(where, f"amount must be a decimal string in 元, got {type(v).__name__}")
        try:
            d = Decimal(v.strip())
        except InvalidOperation:
            raise _fail(where, f"not a number: {v!r}") from None
        if not d.is_finite() or d < 0 or d != d.quantize(Decimal("0.01")):
            raise _fail(where, f"amount must be ≥ 0 with at most two decimal places: {v!r}")
        return d.quantize(Decimal("0.01"))
    if p.type == "int":
        if not isinstance(v, int) or isinstance(v, bool):
            raise _fail(where, f"must be a whole number, got {type(v).__name__}")
        lo, hi = INT_BOUNDS.get(name, (0, 10 ** 6))
        if not lo <= v <= hi:
            raise _fail(where, f"must be between {lo} and {hi}, got {v}")
        return v
    if p.type == "words":
        if not isinstance(v, list) or not v or not all(isinstance(w, str) and w.strip() for w in v):
            raise _fail(where, "must be a non-empty list of non-empty strings")
        return tuple(w.strip() for w in v)
    raise AssertionError(p.type)


def _text(v: Any, where: str) -> str:
    if not isinstance(v, str) or not v.strip():
        raise _fail(where, "must be a non-empty string")
    return v.strip()


def parse(obj: Any, rules: tuple[Rule, ...], source: str = "rules.json") -> RuleSet:
    """Validate a parsed ``rules.json`` against ``rules``.

    Raises:
        RulesError: the first defect, in one line.
    """
    if not isinstance(obj, dict):
        raise _fail("-", "must be a JSON object")
    for k in obj:
        if k not in ("county", "rules"):
            raise _fail(k, "unknown key (known: county, rules)")
    county = obj.get("county", "")
    if county is None:
        county = ""
    if not isinstance(county, str):
        raise _fail("county", "must be a string")
    given = obj.get("rules", {})
    if not isinstance(given, dict):
        raise _fail("rules", "must be an object keyed by rule id")
    by_id = {r.id: r for r in rules}
    for rid in given:
        if rid not in by_id:
            raise _fail(f"rules.{rid}", f"unknown rule (known: {', '.join(by_id)})")
    out: dict[str, RuleConfig] = {}
    for rule in rules:
        g = given.get(rule.id, {})
        where = f"rules.{rule.id}"
        if not isinstance(g, dict):
            raise _fail(where, "must be an object")
        for k in g:
            if k not in rule.params and k not in ("enabled", "basis", "ask"):
                raise _fail(f"{where}.{k}", f"unknown setting (known: {', '.join(['enabled', *rule.params, 'basis', 'ask'])})")
        enabled = g.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _fail(f"{where}.enabled", "must be true or false")
        params = {name: (_value(p, g[name], f"{where}.{name}", name) if name in g else p.default)
                  for name, p in rule.params.items()}
        out[rule.id] = RuleConfig(enabled, params, _text(g.get("basis", rule.basis), f"{where}.basis"),
                                  _text(g.get("ask", rule.ask), f"{where}.ask"))
    a = out.get("approval_level")
    if a and a.params["two_committees_below"] >= a.params["with_supervisors_below"]:
        raise _fail("rules.approval_level", "two_committees_below must be less than with_supervisors_below")
    return RuleSet(county.strip(), out, source)


def load(path: Path, rules: tuple[Rule, ...]) -> RuleSet:
    """Read and validate ``path`` (``rules.json``).

    Raises:
        RulesError: unreadable, not UTF-8 JSON, or a defect (one line).
    """
    try:
        obj = json.loads(Path(path).read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail("-", f"invalid JSON/UTF-8 ({exc})") from None
    return parse(obj, rules)
