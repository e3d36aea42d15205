"""我的查询 core (kiosk/personal.py): a demo person's card → exactly their payments and
services from the source export, totals per year, masked name, nothing for a stranger."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from kiosk import idnumber
from kiosk.formatting import mask_name


def _jsonl(path):
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


class Card:
    """Stands in for an IdCard (only the two fields lookup reads)."""

    def __init__(self, name, id_number):
        self.name, self.id_number = name, id_number


@pytest.fixture(scope="module")
def mirror(demo_home):
    from kiosk.cache.mirror import open_current

    m = open_current(demo_home)
    yield m
    m.close()


def test_demo_person_gets_exactly_their_payments_and_totals(mirror, demo_source):
    from kiosk.demo_data import demo_persons
    from kiosk.personal import lookup

    pays = _jsonl(demo_source / "payments.jsonl")
    svcs = _jsonl(demo_source / "services.jsonl")
    for p in demo_persons("431382111249", seed=1)[:3]:
        rec = lookup(mirror, Card(p.name, p.id_number))
        want = [r for r in pays if r["holder_id_number"] == p.id_number]
        assert want, "demo persons receive payments"
        assert sorted(x["id"] for x in rec.payments) == sorted(r["id"] for r in want)
        assert [x["paid_on"] for x in rec.payments] == sorted((x["paid_on"] for x in rec.payments), reverse=True)
        assert sorted(x["id"] for x in rec.services) == sorted(
            r["id"] for r in svcs if r["applicant_id_number"] == p.id_number)
        by_year: dict[int, Decimal] = {}
        for r in want:
            by_year[int(r["paid_on"][:4])] = by_year.get(int(r["paid_on"][:4]), Decimal(0)) + Decimal(r["amount"])
        assert [(y.year, y.amount) for y in rec.years] == sorted(by_year.items(), reverse=True)
        assert sum(y.count for y in rec.years) == len(want)
        assert rec.total == sum(by_year.values())
        assert rec.masked_name == mask_name(p.name) and rec.greeting == f"{mask_name(p.name)}，您好"
        assert p.name not in repr(rec) and p.id_number not in repr(rec)
        assert all("holder_key" not in x for x in rec.payments)
        assert all("applicant_key" not in x for x in rec.services)


def test_stranger_has_no_records(mirror):
    from kiosk.personal import lookup

    rec = lookup(mirror, Card("陈无记录", idnumber.make("431382", dt.date(1980, 5, 6), 77)))
    assert rec.empty and rec.payments == [] and rec.services == [] and rec.total == 0 and rec.years == []


def test_lookup_without_data_is_an_error():
    from kiosk.personal import lookup

    with pytest.raises(ValueError):
        lookup(None, Card("李示例", "x"))


def test_year_totals_are_exact_decimals():
    from kiosk.personal import year_totals

    rows = [{"paid_on": "2024-01-10", "amount": Decimal("0.10")},
            {"paid_on": "2024-05-10", "amount": Decimal("0.20")},
            {"paid_on": "2025-01-10", "amount": "100.05"}]
    t = year_totals(rows)
    assert [(y.year, y.amount, y.count) for y in t] == [(2025, Decimal("100.05"), 1), (2024, Decimal("0.30"), 2)]
