"""Tap search core (kiosk/search.py, kiosk/pinyin.py) against real bundles."""
from __future__ import annotations

import sqlite3

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk import search as S
from kiosk.cache.mirror import Mirror
from kiosk.pinyin import name_initials

#: (table, shown columns) exactly as the public screens show them (kiosk/cache/bundle.py).
SHOWN = {"finance": ("summary", "account_name", "voucher_no"), "projects": ("name", "category", "contractor"),
         "assets": ("name", "category", "counterparty"), "services": ("power_name", "applicant", "result"),
         "powers": ("name", "basis")}


def _db(bundle) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{bundle / 'data' / 'village.sqlite'}?mode=ro", uri=True)


def _shown_rows(con) -> list[tuple[str, str, list[str]]]:
    out = []
    for kind, cols in SHOWN.items():
        for row in con.execute(f"SELECT id, {', '.join(cols)} FROM {kind}"):
            out.append((kind, row[0], [S.norm(v) for v in row[1:] if v]))
    return out


def _scan(rows, q: str) -> set[tuple[str, str]]:
    """The plain Python reference: the reduced query is a substring of one reduced shown field."""
    needle = S.norm(q)
    if not needle:
        return set()
    return {(k, rid) for k, rid, fields in rows if any(needle in f for f in fields)}


@pytest.fixture(scope="module")
def demo(demo_bundle):
    con = _db(demo_bundle)
    rows = _shown_rows(con)
    alphabet = sorted({ch for _, _, fields in rows for f in fields for ch in f})
    texts = [f for _, _, fields in rows for f in fields if len(f) >= 3]
    yield con, rows, alphabet, texts
    con.close()


def test_demo_search_known_values(demo, demo_bundle):
    con, rows, _, _ = demo
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    r = S.search(con, code, text="低保", limit=10 ** 6)
    assert {(h.kind, h.record_id) for g in r.groups.values() for h in g} == _scan(rows, "低保") != set()
    assert not r.truncated
    # grouped in KINDS order, newest first within a kind
    svc = r.groups["services"]
    assert svc and all(h.kind == "services" for h in svc)
    dates = [h.title[:10] for h in svc]
    assert dates == sorted(dates, reverse=True)


def test_search_matches_python_scan_for_short_queries(demo):
    con, rows, alphabet, texts = demo
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    from_text = st.sampled_from(texts).flatmap(
        lambda t: st.integers(0, len(t) - 1).flatmap(
            lambda i: st.integers(1, 3).map(lambda n: t[i:i + n])))
    random_chars = st.lists(st.sampled_from(alphabet), min_size=1, max_size=3).map("".join)

    @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
    @given(st.one_of(from_text, random_chars))
    def check(q):
        got = S.search(con, code, text=q, limit=10 ** 6)
        assert {(h.kind, h.record_id) for g in got.groups.values() for h in g} == _scan(rows, q), q

    check()


def test_limit_cuts_each_group_and_says_so(demo):
    con, rows, _, _ = demo
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    full = S.search(con, code, text="费", limit=10 ** 6)
    assert len(full.groups["finance"]) > 5
    cut = S.search(con, code, text="费", limit=5)
    assert cut.truncated and len(cut.groups["finance"]) == 5
    assert cut.groups["finance"] == full.groups["finance"][:5]


def test_facets_of_demo_village(demo):
    con, rows, _, _ = demo
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    f = S.facets(con, code)
    surnames = [t for t, _ in f["surname"]]
    counts = [n for _, n in f["surname"]]
    assert counts == sorted(counts, reverse=True) and len(surnames) >= 5
    # the top surname's count is the number of masked names shown with it
    top, n = f["surname"][0]
    shown = [r[0] for r in con.execute("SELECT applicant FROM services")] + \
            [r[0] for r in con.execute("SELECT counterparty FROM assets WHERE counterparty LIKE '%*%'")]
    assert n == sum(1 for s in shown if S.surname(s) == top)
    years = [t for t, _ in f["year"]]
    assert years == sorted(years, reverse=True) and "2025" in years
    words = dict(f["word"])
    assert words and all(w in S.WORDS for w in words)
    assert words.get("租金", 0) == sum(1 for k, _, fl in rows if any("租金" in x for x in fl))


def test_masked_names_stay_masked(small_bundle):
    con = _db(small_bundle)
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    # 张三丰 is shown as 张*丰: neither the full name nor the hidden character is findable
    assert S.search(con, code, text="张三丰").total == 0
    assert S.search(con, code, text="张丰").total == 0  # '*' is a token: no gluing across the mask
    assert S.search(con, code, initials="zsf").total == 0
    got = S.search(con, code, initials="ZF")
    assert {(h.kind, h.record_id) for g in got.groups.values() for h in g} == {("assets", "A1"), ("services", "S1")}
    assert S.search(con, code, text="张*丰").total == 2  # the name as shown
    bodies = " ".join(r[0] + r[1] for r in con.execute("SELECT body, initials FROM search"))
    assert "三 丰" not in bodies and "zsf" not in bodies
    con.close()


def test_year_and_initials_combine(small_bundle):
    con = _db(small_bundle)
    code = con.execute("SELECT code FROM villages").fetchone()[0]
    r = S.search(con, code, text="办公", year=2025)
    assert [h.record_id for h in r.groups["finance"]] == ["F3", "F2"]
    assert S.search(con, code, text="办公", year=2024).total == 0
    assert [h.record_id for h in S.search(con, code, year=2024).groups["finance"]] == ["F5"]
    with pytest.raises(ValueError):
        S.search(con, code, year="24")
    assert S.search(con, code).total == 0 and S.search(con, code, text="·-").total == 0
    con.close()


def test_mirror_search_uses_selected_village(home, small_bundle):
    from kiosk.cache import install

    install.install(small_bundle, home)
    from kiosk.cache.mirror import open_current

    m = open_current(home)
    assert m.village == "431382111249"
    assert [h.record_id for h in m.search("路灯").groups["finance"]] == ["F4"]
    assert [t for t, _ in m.search_facets()["word"]][:1] and dict(m.search_facets()["word"])["租金"] == 1
    m.close()


@pytest.mark.parametrize("shown,expected", [
    ("张*三", ["zs"]), ("张*", ["z"]), ("欧阳*娜", ["oyn"]), ("刘*华", ["lh"]), ("", []), (None, []),
])
def test_initials_of_shown_names(shown, expected):
    assert name_initials(shown) == expected


def test_initials_of_polyphonic_characters_give_every_reading():
    got = name_initials("曾*华")
    assert "zh" in got and "ch" in got and len(got) <= 8
    assert name_initials("阿*提")[0] == "at" and len(name_initials("阿*提")) == 8  # capped
