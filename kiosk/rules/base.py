"""The shapes every supervision rule shares: its input (one village's records), its output
(flags and how much it could check) and its definition (texts, basis, numbers, check).

No I/O here: a rule is a pure function of :class:`VillageData` and its parameters, so the
county side (``kiosk bundle build``) and the auditor (``kiosk flags check``) run the same code
on the same values and must get the same flags.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

#: Record kinds a flag can point at. ``village`` is the village itself (disclosure overdue).
FLAG_KINDS = ("finance", "projects", "assets", "services", "village")
SEVERITIES = ("red", "amber")


@dataclass(frozen=True)
class Flag:
    """One record that breaks one rule.

    ``figures``: the values that triggered it, as strings (amounts in 元 with two places,
    dates ISO 8601, counts as digits), so they compare exactly and travel as JSON.
    ``detail``: the same figures in one plain Chinese sentence for the 请关注 box.
    ``title``/``date``: the record as lists show it, for the 监督提示 list (not compared).
    """

    rule: str
    kind: str
    record_id: str
    severity: str
    figures: dict[str, str]
    detail: str
    title: str = ""
    date: str = ""

    def key(self) -> tuple[str, str, str]:
        return (self.rule, self.kind, self.record_id)

    def compared(self) -> tuple:
        """What ``kiosk flags check`` compares (title/date are display only)."""
        return (self.rule, self.kind, self.record_id, self.severity, tuple(sorted(self.figures.items())), self.detail)


@dataclass(frozen=True)
class Coverage:
    """How much of one village's data a rule could check.

    ``checked``: records the rule looked at; ``missing``: records it could not judge for lack
    of a field older exports do not carry; ``reason``: one Chinese line saying what is missing
    (None when nothing is). A rule with ``checked == 0`` and a reason did not run.
    """

    rule: str
    checked: int
    missing: int = 0
    reason: str | None = None

    @property
    def ran(self) -> bool:
        return self.checked > 0 or self.reason is None


@dataclass
class VillageData:
    """One village's records as the rules read them.

    Amounts are ``Decimal`` 元, dates ISO strings. Each record dict carries ``id`` and ``title``
    (how lists show it) plus the fields below; optional fields are None when the export lacks
    them. Built from a validated source (:func:`kiosk.rules.data.from_source`) or from a
    bundle database (:func:`kiosk.cache.flagstore.village_data`).

    - finance: ``date, direction, amount, approval_level, reverses, payment_method,
      project_id, project_payment, asset_id``
    - projects: ``name, category, location, budget, contract_amount, procurement_method,
      contractor, stages: [{ord, stage, date}]`` (stages in canonical order)
    - assets: ``name, kind, category, status, reserve_price, deal_price, bidders, term_start,
      term_end, annual_rent, rent_first_due, rent_every_months``
    - services: ``power_name, decided_on, notice_from, notice_to``
    """

    code: str
    as_of: dt.date
    finance: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    land_contract_end: str | None = None  # 承包期届满日 (village.json), ISO date

    def books_span(self) -> tuple[str, str] | None:
        """First and last date of the finance lines (the period the books cover), or None."""
        if not self.finance:
            return None
        dates = [r["date"] for r in self.finance]
        return min(dates), max(dates)


@dataclass(frozen=True)
class Param:
    """One county-configurable number or list of a rule (``rules.json``).

    ``type``: ``amount`` (decimal string in 元, ≥ 0), ``int`` (≥ 0), ``date`` (ISO or null),
    ``words`` (a non-empty list of non-empty strings).
    """

    type: str
    default: Any
    doc: str


@dataclass(frozen=True)
class Rule:
    """A supervision rule, written once.

    ``text(params)`` is the rule in plain words with the county's numbers; ``basis`` and
    ``ask`` are defaults the county may replace in ``rules.json``; ``check(village, params)``
    returns the flags and the coverage. ``needs`` names the export fields it reads (docs).
    """

    id: str
    title: str
    kind: str
    severity: str
    params: dict[str, Param]
    text: Callable[[dict[str, Any]], str]
    basis: str
    ask: str
    needs: str
    check: Callable[[VillageData, dict[str, Any]], tuple[list[Flag], Coverage]]


def add_years(d: dt.date, years: int) -> dt.date:
    """``d`` moved by whole years; 29 February becomes 28 February."""
    try:
        return d.replace(year=d.year + years)
    except ValueError:
        return d.replace(year=d.year + years, day=28)


def add_months(d: dt.date, months: int) -> dt.date:
    """``d`` moved by whole months, the day clipped to the month's length."""
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    for day in (d.day, 30, 29, 28):
        try:
            return dt.date(year, month, min(d.day, day))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def d2(v: Decimal) -> str:
    """An amount as the figures carry it: two places, no grouping."""
    return f"{v:.2f}"
