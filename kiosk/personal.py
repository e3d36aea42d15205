"""我的查询 without Kivy: an ID card → the holder's own 到户资金 (with totals per year) and
办事结果, read from the mirror.

The card's ID number is turned into the bundle's salted key with ``Mirror.holder_key``
(scrypt, deliberately slow: call :func:`lookup` on a worker thread, never the UI thread).
Nothing here logs, stores or returns the ID number or the full name: the result carries the
name only masked as on public screens (``张*三``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from kiosk.formatting import mask_name, to_decimal


@dataclass(frozen=True)
class YearTotal:
    """Payments paid in one calendar year (by ``paid_on``): sum in 元 and the count."""

    year: int
    amount: Decimal
    count: int


@dataclass(frozen=True)
class PersonalRecords:
    """One card holder's records.

    Attributes:
        masked_name: the holder's name masked as on public screens (``张*三``).
        payments: payments rows (mirror ``payments`` columns, ``amount`` Decimal 元), newest first.
        services: services rows (``steps`` decoded), newest decision first.
        years: :class:`YearTotal` per year with payments, newest first.
        total: sum of all payments in 元.
    """

    masked_name: str
    payments: list[dict[str, Any]] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)
    years: list[YearTotal] = field(default_factory=list)
    total: Decimal = Decimal("0")

    @property
    def empty(self) -> bool:
        return not self.payments and not self.services

    @property
    def greeting(self) -> str:
        """``张*三，您好``"""
        return f"{self.masked_name}，您好" if self.masked_name else "您好"

    def payments_in(self, year: int) -> list[dict[str, Any]]:
        return [p for p in self.payments if int(p["paid_on"][:4]) == year]


def year_totals(payments: list[dict[str, Any]]) -> list[YearTotal]:
    """Sum payments per ``paid_on`` year (exact Decimal sums), newest year first."""
    sums: dict[int, list] = {}
    for p in payments:
        y = int(p["paid_on"][:4])
        s = sums.setdefault(y, [Decimal("0"), 0])
        s[0] += to_decimal(p["amount"])
        s[1] += 1
    return [YearTotal(y, s[0], s[1]) for y, s in sorted(sums.items(), reverse=True)]


def records_for_key(mirror, key: str, masked_name: str = "") -> PersonalRecords:
    """The records of the holder of ``key`` (a ``Mirror.holder_key`` value). Fast."""
    pays = mirror.payments_for(key)
    svcs = mirror.services_for(key)
    years = year_totals(pays)
    return PersonalRecords(masked_name, pays, svcs, years, sum((y.amount for y in years), Decimal("0")))


def lookup(mirror, card) -> PersonalRecords:
    """The records of the holder of ``card`` (an ``IdCard``: ``id_number``, ``name``).

    Slow (scrypt with the bundle's cost): run on a worker thread. The ID number is used only
    to compute the key and is not kept.

    Raises:
        ValueError: ``mirror`` is None (no data installed).
    """
    if mirror is None:
        raise ValueError("no data installed")
    key = mirror.holder_key(card.id_number)
    return records_for_key(mirror, key, mask_name(card.name))
