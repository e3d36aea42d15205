"""The mirror's filters behind the list screens: 办事结果 by item and year, 工程项目 by the
stage reached, the days of a month with finance lines — checked against the source export."""
from __future__ import annotations

import collections
import json

import pytest

from kiosk.cache.mirror import open_current


def _jsonl(path):
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _walk(page_fn):
    out, after = [], None
    while True:
        page = page_fn(after)
        out += page.rows
        if page.next is None:
            return out
        after = page.next


@pytest.fixture(scope="module")
def m(demo_home):
    mirror = open_current(demo_home)
    yield mirror
    mirror.close()


def test_services_facets_and_filters(m, demo_source):
    src = _jsonl(demo_source / "services.jsonl")
    facets = m.services_facets()
    years = collections.Counter(int(s["decided_on"][:4]) for s in src)
    assert facets["years"] == sorted(years.items(), reverse=True)
    powers = {p["id"]: p["name"] for p in _jsonl(demo_source / "powers.jsonl")}
    items = collections.Counter(s["power_id"] for s in src)
    assert sorted(facets["items"]) == sorted((p, powers[p], c) for p, c in items.items())
    order = list(powers)
    assert [p for p, _n, _c in facets["items"]] == sorted(items, key=order.index)
    pid = facets["items"][0][0]
    year = facets["years"][-1][0]
    rows = _walk(lambda a: m.services_page(after=a, power_id=pid, year=year))
    want = [s["id"] for s in src if s["power_id"] == pid and s["decided_on"].startswith(str(year))]
    assert sorted(r["id"] for r in rows) == sorted(want) and rows
    assert all("applicant_key" not in r for r in rows)
    seqs = [m.service_get(r["id"]) for r in rows]
    assert [r["decided_on"] for r in seqs] == sorted((r["decided_on"] for r in seqs), reverse=True)
    assert len(_walk(lambda a: m.services_page(after=a, year=year))) == years[year]
    assert m.services_page(power_id="no-such-item").rows == []


def test_projects_by_stage(m, demo_source):
    src = _jsonl(demo_source / "projects.jsonl")
    last = collections.Counter(p["stages"][-1]["stage"] for p in src)
    assert m.project_stage_counts() == dict(last)
    for stage, n in last.items():
        rows = _walk(lambda a: m.projects_page(after=a, stage=stage))
        assert len(rows) == n and {r["stage"] for r in rows} == {stage}
    assert len(_walk(lambda a: m.projects_page(after=a))) == len(src)


def test_finance_days(m, demo_source):
    src = _jsonl(demo_source / "finance.jsonl")
    days = sorted({int(r["date"][8:]) for r in src if r["date"].startswith("2025-03")})
    assert m.finance_days(2025, 3) == days and days
    assert m.finance_days(1999, 1) == []
