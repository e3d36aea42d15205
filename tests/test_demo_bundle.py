"""The demo village through the real builder and mirror: counts, totals and privacy."""
from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from kiosk.cache.mirror import open_current
from kiosk.demo_data import demo_persons
from kiosk.formatting import mask_name

KINDS = ("finance", "projects", "assets", "services", "powers", "payments")


def _lines(src: Path, kind: str) -> list[dict]:
    return [json.loads(x) for x in (src / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


def test_counts_match_source(demo_source, demo_home):
    m = open_current(demo_home)
    try:
        for kind in KINDS:
            assert m.info.counts[kind] == len(_lines(demo_source, kind)), kind
        assert m.info.village_name == "洪泉村" and m.info.township_name == "白马镇"
        assert len(m.powers()) == 28 and m.info.power_list_sample
    finally:
        m.close()


def test_finance_totals_match_source_sums(demo_source, demo_home):
    sums: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(lambda: {"income": Decimal(0), "expense": Decimal(0)})
    for r in _lines(demo_source, "finance"):
        y, mo = int(r["date"][:4]), int(r["date"][5:7])
        sums[(y, mo)][r["direction"]] += Decimal(r["amount"])
    m = open_current(demo_home)
    try:
        for (y, mo), s in sorted(sums.items()):
            t = m.finance_totals(y, mo)
            assert (t.income, t.expense) == (s["income"], s["expense"]), (y, mo)
        year = max(y for y, _ in sums)
        t = m.finance_totals(year)
        assert t.balance == sum(s["income"] - s["expense"] for (y, _), s in sums.items() if y == year)
        # walking every page of a year returns every line once
        seen, cur = [], None
        while True:
            page = m.finance_page(year, after=cur, limit=50)
            seen += [r["id"] for r in page.rows]
            if not (cur := page.next):
                break
        assert len(seen) == len(set(seen)) == t.count
    finally:
        m.close()


def test_card_holder_sees_own_payments_only(demo_source, demo_home):
    person = demo_persons("431382111249", 1)[0]
    expected = sorted(r["id"] for r in _lines(demo_source, "payments") if r["holder_id_number"] == person.id_number)
    assert expected
    m = open_current(demo_home)
    try:
        got = m.payments_for(m.holder_key(person.id_number))
        assert sorted(r["id"] for r in got) == expected
        assert all(r["holder"] == mask_name(person.name) for r in got)
    finally:
        m.close()


def test_mirror_holds_no_id_numbers_or_private_names(demo_home):
    blob = b"".join(p.read_bytes() for p in (demo_home / "mirror").rglob("*") if p.is_file())
    for p in demo_persons("431382111249", 1)[:40]:
        assert p.id_number.encode() not in blob
        if len(p.name) >= 3:  # two-character names mask to 张*, full name must not appear
            assert p.name.encode() not in blob, p.name
