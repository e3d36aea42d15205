"""Supervision flags through the real builder, the bundle database (schema revision 2), the
mirror, `kiosk flags check|list` and `kiosk status`; the demo's planted cases."""
from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from conftest import build_bundle, run_cli
from kiosk.cache import flagstore
from kiosk.cache.mirror import Mirror, open_current
from kiosk.errors import Exit
from sourcekit import small_source, write_source

CACHE = Path(__file__).parent.parent / "kiosk" / "cache"


def _flags(bundle: Path) -> list[tuple]:
    con = sqlite3.connect(bundle / "data" / "village.sqlite")
    try:
        return con.execute("SELECT rule_id, kind, record_id, severity, detail, note FROM flags ORDER BY seq").fetchall()
    finally:
        con.close()


def _lines(src: Path, kind: str) -> list[dict]:
    return [json.loads(x) for x in (src / f"{kind}.jsonl").read_text(encoding="utf-8").splitlines() if x.strip()]


@pytest.fixture(scope="module")
def breaking_bundle(tmp_path_factory, test_key) -> Path:
    """The small source with records that break rules: they are accepted and flagged."""
    data = small_source()
    data["finance"][3].update(approval_level="两委")            # F4: 12,000 元 decided by the 两委 alone
    data["finance"][1].update(payment_method="现金")
    data["finance"][3].update(payment_method="现金")            # F4 in cash too
    data["projects"][0]["stages"][3]["date"] = "2024-05-10"    # 合同 before 招标 (2024-05-20)
    data["assets"][0].update(deal_price="17000.00", bidders=2)  # below the reserve of 18,000
    tmp = tmp_path_factory.mktemp("breaking")
    src = write_source(tmp / "src", data)
    (src / "explanations.jsonl").write_text(json.dumps(
        {"kind": "finance", "id": "F4", "rule": "approval_level", "text": "经白马镇人民政府同意的应急维修",
         "given_by": "白马镇人民政府", "date": "2025-02-10"}, ensure_ascii=False) + "\n", encoding="utf-8")
    return build_bundle(src, test_key, 1, tmp / "bundle")


def test_rule_breaking_records_are_accepted_and_flagged(breaking_bundle):
    got = {(r[0], r[2]): r for r in _flags(breaking_bundle)}
    assert got[("approval_level", "F4")][4] == "金额 12,000 元，按规定需经两委+监委，本条记录为两委审批"
    assert got[("approval_level", "F4")][5] == "经白马镇人民政府同意的应急维修"
    assert got[("cash_payment", "F4")][4] == "金额 12,000 元，用现金支付"
    assert ("cash_payment", "F2") not in got  # 860.50 元 in cash is allowed
    assert got[("stage_order", "P1")][4] == "合同日期 2024-05-10 早于招标日期 2024-05-20"
    assert got[("below_reserve", "A1")][3] == "red"
    # the small source's books stop in February: April was due by 15 May
    assert got[("disclosure_overdue", "431382111249")][1] == "village"
    con = sqlite3.connect(breaking_bundle / "data" / "village.sqlite")
    meta = dict(con.execute("SELECT key, value FROM meta"))
    assert meta["schema_revision"] == "2" and meta["rules_source"] == "defaults"
    assert con.execute("SELECT count(*) FROM rules").fetchone()[0] == 13
    con.close()


def test_the_bundle_installs_and_the_mirror_serves_flags(breaking_bundle, home):
    assert run_cli("import", breaking_bundle) == 0
    m = open_current(home)
    try:
        assert m.has_flags
        counts = m.flag_counts()
        assert counts == {"approval_level": 1, "cash_payment": 1, "stage_order": 1, "below_reserve": 1,
                          "disclosure_overdue": 1}
        # keyset pages: one flag a page, every flag once, in rule order
        seen, after = [], None
        while True:
            page = m.flags_page(after=after, limit=1)
            seen += [(r["rule_id"], r["record_id"]) for r in page.rows]
            if not (after := page.next):
                break
        assert seen == [("approval_level", "F4"), ("cash_payment", "F4"), ("stage_order", "P1"),
                        ("below_reserve", "A1"), ("disclosure_overdue", "431382111249")]
        assert [r["record_id"] for r in m.flags_page(rule="cash_payment").rows] == ["F4"]
        two = m.flags_for("finance", "F4")
        assert [f["rule_id"] for f in two] == ["approval_level", "cash_payment"]
        assert two[0]["rule"]["title"] == "审批程序与金额不符" and two[0]["figures"]["amount"] == "12000.00"
        assert m.flags_for("finance", "F1") == []
        assert [f["rule_id"] for f in m.village_flags()] == ["disclosure_overdue"]
        rules = {r["id"]: r for r in m.rules()}
        # F2 was reversed by F3: F4 is the one expense that stands
        assert (rules["cash_payment"]["checked"], rules["cash_payment"]["reason"]) == (1, None)
        assert rules["approval_level"]["checked"] == 1 and rules["approval_level"]["reason"] is None
        assert (rules["rent_arrears"]["checked"], rules["rent_arrears"]["reason"]) == (0, "本村数据的租金收入没有关联到资产")
        assert rules["land_term"]["reason"] is None  # the small village has no land transfers
    finally:
        m.close()


def test_status_and_flags_list(breaking_bundle, home, capsys):
    assert run_cli("import", breaking_bundle) == 0
    capsys.readouterr()
    assert run_cli("status", "--json") == 0
    st = json.loads(capsys.readouterr().out)
    assert st["flags"] == {"schema_revision": 2, "total": 5, "by_rule": {
        "approval_level": 1, "cash_payment": 1, "stage_order": 1, "below_reserve": 1, "disclosure_overdue": 1}}
    assert run_cli("flags", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["rule"], r["kind"], r["id"]) for r in rows][:2] == [("approval_level", "finance", "F4"),
                                                                    ("cash_payment", "finance", "F4")]
    assert rows[0]["figures"] == {"amount": "12000.00", "recorded": "两委", "required": "两委+监委"}
    assert run_cli("flags", "list", "--rule", "stage_order") == 0
    out = capsys.readouterr().out.splitlines()
    assert out == ["stage_order\tprojects\tP1\tred\tpairs=合同@2024-05-10<招标@2024-05-20\t合同日期 2024-05-10 早于招标日期 2024-05-20"]
    assert run_cli("flags", "list", "--village", "431382111202") == Exit.USAGE


def test_flags_check_passes_and_finds_tampering(breaking_bundle, tmp_path, test_key, capsys):
    assert run_cli("flags", "check", breaking_bundle, "--pubkey", test_key / "signing.pub") == 0
    assert capsys.readouterr().out.startswith("OK: 5 flags in 1 village(s)")
    b = tmp_path / "b"
    shutil.copytree(breaking_bundle, b)
    con = sqlite3.connect(b / "data" / "village.sqlite")
    con.execute("DELETE FROM flags WHERE rule_id = 'cash_payment'")                       # a flag hidden
    con.execute("UPDATE flags SET detail = '金额 1,200 元' WHERE rule_id = 'approval_level'")  # figures changed
    con.execute("UPDATE finance_payment SET payment_method = '现金' WHERE finance_id = 'F1'")  # not flagged (income)
    con.execute("UPDATE assets SET deal_price = '18000.00' WHERE id = 'A1'")               # flag no longer due
    con.commit()
    con.close()
    assert run_cli("flags", "check", b) == Exit.BUNDLE
    out = capsys.readouterr().out
    assert "431382111249: finance F4 cash_payment: missing from the bundle" in out
    assert "431382111249: finance F4 approval_level: stored figures differ" in out
    assert "431382111249: assets A1 below_reserve: in the bundle, but the rules do not flag it" in out
    # with --pubkey the changed database is refused before any recomputation
    assert run_cli("flags", "check", b, "--pubkey", test_key / "signing.pub") == Exit.BUNDLE
    assert "SHA-256 differs" in capsys.readouterr().err


def test_flags_check_of_a_revision_1_database(tmp_path, capsys):
    db = tmp_path / "b" / "data" / "village.sqlite"
    db.parent.mkdir(parents=True)
    con = sqlite3.connect(db)
    con.executescript((CACHE / "schema-r1.sql").read_text(encoding="utf-8"))
    con.close()
    assert run_cli("flags", "check", tmp_path / "b") == Exit.BUNDLE
    assert "schema revision 1 carries no supervision flags" in capsys.readouterr().err


def test_a_revision_1_bundle_has_no_flags_in_the_mirror(breaking_bundle, tmp_path):
    """An older bundle (no revision-2 tables, no schema_revision) reads as "no flags"."""
    v = tmp_path / "v"
    shutil.copytree(breaking_bundle, v)
    con = sqlite3.connect(v / "data" / "village.sqlite")
    for t in flagstore.FLAG_TABLES:
        con.execute(f"DROP TABLE {t}")
    con.execute("DELETE FROM meta WHERE key IN ('schema_revision', 'rules_source', 'rules_county')")
    con.commit()
    con.close()
    m = Mirror(v)
    try:
        assert not m.has_flags
        assert (m.flag_counts(), m.flags_page().rows, m.flags_for("finance", "F4"), m.village_flags(), m.rules()) == \
               ({}, [], [], [], [])
    finally:
        m.close()


def test_schema_revision_1_is_frozen_and_revision_2_only_adds_tables():
    r1 = (CACHE / "schema-r1.sql").read_text(encoding="utf-8")
    r2 = (CACHE / "schema.sql").read_text(encoding="utf-8")

    def objects(sql):
        con = sqlite3.connect(":memory:")
        con.executescript(sql)
        rows = dict(con.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"))
        con.close()
        return rows

    o1, o2 = objects(r1), objects(r2)
    assert {k: o2[k] for k in o1} == o1  # every revision-1 object unchanged, byte for byte
    assert set(o2) - set(o1) == {"finance_payment", "asset_terms", "rules", "rule_coverage", "flags",
                                 "flags_by_village", "flags_by_rule"}


@pytest.mark.parametrize("case,needle", [
    ("rules", "rules.json: rules.cash_payment.min_amount: not a number: '一千'"),
    ("explain_unflagged", "explanations.jsonl:1: rule: finance F1 is not flagged by approval_level (nothing to explain)"),
    ("explain_missing", "explanations.jsonl:1: id: no finance record with id 'F99'"),
    ("explain_rule", "explanations.jsonl:1: rule: unknown rule 'approval'"),
])
def test_bad_rules_and_explanations_refused_in_one_line(tmp_path, test_key, capsys, case, needle):
    src = write_source(tmp_path / "src")
    if case == "rules":
        (src / "rules.json").write_text('{"rules": {"cash_payment": {"min_amount": "一千"}}}', encoding="utf-8")
    else:
        e = {"kind": "finance", "id": "F1", "rule": "approval_level", "text": "说明"}
        e.update({"explain_missing": {"id": "F99"}, "explain_rule": {"rule": "approval"}}.get(case, {}))
        (src / "explanations.jsonl").write_text(json.dumps(e, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    rc = run_cli("bundle", "build", src, "--key", test_key / "signing.key", "--seq", 1, "--out", out, "--quiet")
    err = capsys.readouterr().err
    assert rc == Exit.SOURCE and needle in err and err.count("\n") == 1, err
    assert not out.exists()


def test_county_rules_json_changes_the_flags(tmp_path, test_key):
    data = small_source()
    src = write_source(tmp_path / "src", data)
    (src / "rules.json").write_text(json.dumps({"county": "涟源市", "rules": {
        "approval_level": {"two_committees_below": "500", "with_supervisors_below": "10000"},
        "disclosure_overdue": {"enabled": False}}}, ensure_ascii=False), encoding="utf-8")
    b = build_bundle(src, test_key, 1, tmp_path / "b")
    got = {(r[0], r[2]) for r in _flags(b)}
    assert got == {("approval_level", "F4")}  # 12,000 now needs 四议两公开 (F2 was reversed: not judged)
    con = sqlite3.connect(b / "data" / "village.sqlite")
    text = con.execute("SELECT text FROM rules WHERE id = 'approval_level'").fetchone()[0]
    assert "不到 500 元的" in text and dict(con.execute("SELECT key, value FROM meta"))["rules_county"] == "涟源市"
    con.close()


def test_several_villages_share_one_rule_table(tmp_path, test_key, capsys):
    root = tmp_path / "county"
    for code, name in (("431382111249", "a"), ("431382111202", "b")):
        data = small_source()
        data["village"]["code"] = code
        write_source(root / name, data)
    (root / "a" / "rules.json").write_text('{"rules": {"cash_payment": {"min_amount": "900"}}}', encoding="utf-8")
    (root / "b" / "rules.json").write_text('{"rules": {"cash_payment": {"min_amount": "800"}}}', encoding="utf-8")
    out = tmp_path / "out"
    rc = run_cli("bundle", "build", root, "--key", test_key / "signing.key", "--seq", 1, "--out", out, "--quiet")
    assert rc == Exit.SOURCE and "431382111249/rules.json: differs from the first village's" in capsys.readouterr().err
    (root / "rules.json").write_text('{"rules": {"cash_payment": {"min_amount": "800"}}}', encoding="utf-8")
    b = build_bundle(root, test_key, 1, tmp_path / "ok")
    ids = {r[2] for r in _flags(b)}
    assert "431382111202/F4" not in ids and "431382111249" in ids  # ids qualified; village flag under its code
    assert run_cli("flags", "check", b) == 0


# ---------------------------------------------------------------- the demo's planted cases

def test_every_planted_case_is_flagged_and_no_clean_record_is(demo_source, demo_bundle):
    planted = {}
    for kind in ("finance", "projects", "assets", "services"):
        for r in _lines(demo_source, kind):
            if "demo_planted" in r:
                planted[(kind, r["id"])] = r["demo_planted"]
    village = json.loads((demo_source / "village.json").read_text(encoding="utf-8"))
    for rule in village.get("demo_planted", []):
        planted[("village", village["code"])] = rule
    flags = _flags(demo_bundle)
    got = {(k, rid): rule for rule, k, rid, *_ in flags}
    assert len(got) == len(flags)  # one rule per planted record
    assert got == planted
    # a few realistic cases of each rule
    per_rule = Counter(planted.values())
    from kiosk.rules import RULES
    assert set(per_rule) == {r.id for r in RULES}
    notes = [r for r in flags if r[5]]
    assert len(notes) == 1 and notes[0][0] == "approval_level" and "乡镇人民政府同意" in notes[0][5]


def test_demo_bundle_flags_check(demo_bundle, test_key, capsys):
    assert run_cli("flags", "check", demo_bundle, "--pubkey", test_key / "signing.pub") == 0
    assert "OK: 22 flags in 1 village(s)" in capsys.readouterr().out


def test_demo_rules_json_is_the_default_table(demo_source):
    from kiosk.rules import defaults

    rules = json.loads((demo_source / "rules.json").read_text(encoding="utf-8"))
    assert rules["county"].endswith("（演示规则）")
    assert rules["rules"] == defaults().as_json()["rules"]


def test_an_older_export_builds_and_says_which_rules_could_not_run(small_bundle):
    """The small source has none of the new fields: the bundle builds, and the coverage says
    what could not be checked, in the words the 本县规则 page shows."""
    from kiosk.rules.words import coverage_line

    m = Mirror(small_bundle)
    try:
        lines = {r["id"]: coverage_line(r) for r in m.rules()}
    finally:
        m.close()
    assert lines["cash_payment"] == "这项检查暂时无法进行：本村数据没有注明付款方式（现金或转账）。"
    assert lines["early_final_payment"] == "这项检查暂时无法进行：本村数据的收支没有关联到工程项目。"
    assert lines["rent_arrears"] == "这项检查暂时无法进行：本村数据的租金收入没有关联到资产。"
    assert lines["approval_level"] is None and lines["stage_order"] is None and lines["land_term"] is None


def test_planted_cases_hold_for_a_month_end_as_of(tmp_path, test_key):
    """make demo ends the books on the last day of last month: each rule still has its
    planted cases, all flagged, and nothing else is (the disclosure-overdue village's books
    end two months before that date)."""
    import datetime as dt

    from kiosk.demo_data import write
    from kiosk.rules import RULES

    src = tmp_path / "src"
    write("431382111249", src, seed=1, as_of=dt.date(2026, 11, 30))
    bundle = build_bundle(src, test_key, 1, tmp_path / "bundle")
    planted = {(k, r["id"]): r["demo_planted"] for k in ("finance", "projects", "assets", "services")
               for r in _lines(src, k) if "demo_planted" in r}
    village = json.loads((src / "village.json").read_text(encoding="utf-8"))
    planted.update({("village", village["code"]): rule for rule in village["demo_planted"]})
    assert {(k, rid): rule for rule, k, rid, *_ in _flags(bundle)} == planted
    assert set(planted.values()) == {r.id for r in RULES}
    assert max(r["date"] for r in _lines(src, "finance")) <= "2026-09-30"
