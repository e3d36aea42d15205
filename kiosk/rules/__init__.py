"""Supervision rules (监督提示): records that break the county's own rules, found and explained.

Each rule is written once (``kiosk/rules/{finance,projects,assets,services}.py``) with its
plain-Chinese text, its basis, whom to ask, its numbers and its check; the county's numbers
and basis texts come from ``SRC/rules.json`` (:mod:`kiosk.rules.settings`); the sources of
the defaults are in docs/rules.md.

Public API::

    RULES                         # every rule, in the order the kiosk lists them
    rule(rule_id) -> Rule
    defaults() -> RuleSet         # the table without a rules.json
    load_ruleset(path) -> RuleSet # validate a rules.json (RulesError, one line)
    evaluate(village, ruleset) -> (flags, coverage)
    rule_text(rule_id, ruleset) -> str   # the rule in plain words with the county's numbers

``village`` is a :class:`VillageData`; date rules judge "today" as ``village.as_of`` (the
export's data-as-of date), so the same records and rules always give the same flags.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.rules import assets, finance, projects, services
from kiosk.rules.base import FLAG_KINDS, SEVERITIES, Coverage, Flag, Rule, VillageData
from kiosk.rules.settings import RuleConfig, RulesError, RuleSet, parse

__all__ = ["RULES", "FLAG_KINDS", "SEVERITIES", "Coverage", "Flag", "Rule", "RuleConfig", "RuleSet", "RulesError",
           "VillageData", "defaults", "evaluate", "load_ruleset", "rule", "rule_text", "approval_level"]

RULES: tuple[Rule, ...] = (
    finance.APPROVAL, finance.CASH, projects.PROCUREMENT, projects.SPLITTING, projects.STAGE_ORDER,
    finance.FINAL_PAYMENT, assets.LEASE_TERM, assets.LAND_TERM, assets.BELOW_RESERVE, services.PUBLICITY,
    finance.DISCLOSURE, assets.RENT_ARREARS, assets.LEASE_ENDING,
)
_BY_ID = {r.id: r for r in RULES}
NOT_ENABLED = "本县未启用此项检查"


def rule(rule_id: str) -> Rule:
    """The rule with id ``rule_id``. Raises KeyError for an unknown id."""
    return _BY_ID[rule_id]


def defaults() -> RuleSet:
    """The rule table with every default (what a build uses without ``rules.json``)."""
    return parse({}, RULES, source="defaults")


def load_ruleset(path: Path) -> RuleSet:
    """Read and validate a ``rules.json``. Raises :class:`RulesError` (one line)."""
    from kiosk.rules.settings import load

    return load(path, RULES)


def rule_text(rule_id: str, rs: RuleSet) -> str:
    """The rule in plain words with the county's numbers."""
    return rule(rule_id).text(rs.rules[rule_id].params)


def approval_level(amount, rs: RuleSet | None = None) -> str:
    """The approval level (两委, 两委+监委, 四议两公开) a spending of ``amount`` 元 needs."""
    return finance.required_level(amount, (rs or defaults()).rules["approval_level"].params)


def evaluate(v: VillageData, rs: RuleSet) -> tuple[list[Flag], list[Coverage]]:
    """Run every enabled rule on one village. Flags come in list order: by rule, then the
    newest record first; coverage has one entry per rule (a disabled rule: not run)."""
    flags: list[Flag] = []
    cover: list[Coverage] = []
    for r in RULES:
        cfg = rs.rules[r.id]
        if not cfg.enabled:
            cover.append(Coverage(r.id, 0, 0, NOT_ENABLED))
            continue
        found, cov = r.check(v, cfg.params)
        flags += sorted(found, key=lambda f: (f.date, f.record_id), reverse=True)
        cover.append(cov)
    return flags, cover
