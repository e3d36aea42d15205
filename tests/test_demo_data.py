"""kiosk demo-data: counts, determinism, and the validation rules of docs/data-model.md."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk import cli, idnumber
from kiosk.rules import approval_level
from kiosk.rules.finance import APPROVAL_LEVELS
from kiosk.demo.refdata import chart
from kiosk.demo_data import DATA_AS_OF, FILES, demo_persons, generate, write

STAGES = ["立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示"]


@pytest.fixture(scope="module")
def data():
    return generate("431382111249", seed=1)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo") / "src"
    counts = write("431382111249", out, seed=1)
    return out, counts


def _read(out: Path, name: str):
    text = (out / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else [json.loads(x) for x in text.splitlines()]


def test_counts_meet_minimums(written):
    out, counts = written
    assert counts["finance"] >= 1500
    assert counts["projects"] >= 30
    assert counts["assets"] >= 60
    assert counts["services"] >= 800
    assert counts["payments"] >= 3000
    assert counts["powers"] == 28
    assert len(_read(out, "payments.jsonl")) == counts["payments"]
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, ".demo-data"])


def test_same_seed_same_bytes_other_seed_differs(written, tmp_path):
    out, _ = written
    again = tmp_path / "again"
    write("431382111249", again, seed=1)
    for name in FILES:
        assert (again / name).read_bytes() == (out / name).read_bytes(), name
    other = tmp_path / "other"
    write("431382111249", other, seed=2)
    assert (other / "finance.jsonl").read_bytes() != (out / "finance.jsonl").read_bytes()
    assert (other / "payments.jsonl").read_bytes() != (out / "payments.jsonl").read_bytes()


def test_files_are_plain_utf8_json_lines(written):
    out, _ = written
    raw = (out / "payments.jsonl").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    assert "\\u" not in raw.decode("utf-8")  # ensure_ascii=False
    v = _read(out, "village.json")
    assert v["code"] == "431382111249" and v["township"]["name"] == "白马镇"
    assert v["county"] == {"code": "431382", "name": "涟源市"}
    assert v["data_as_of"] == "2026-10-31"


def test_ids_unique_per_kind(data):
    for name in (n for n in FILES if n.endswith(".jsonl") and n != "explanations.jsonl"):
        ids = [r["id"] for r in data[name]]
        assert len(ids) == len(set(ids)), name


def test_every_id_number_valid_and_from_county(data):
    nums = {r["holder_id_number"] for r in data["payments.jsonl"]}
    nums |= {r["applicant_id_number"] for r in data["services.jsonl"]}
    assert len(nums) > 100
    for n in nums:
        assert idnumber.validate(n, today=DATA_AS_OF) == n
        assert n.startswith("431382")
        assert dt.date(1935, 1, 1) <= idnumber.birth_date(n) <= dt.date(2005, 12, 31)
    assert sum(n.endswith("X") for n in nums) >= 3


def test_finance_rules(data):
    lines = data["finance.jsonl"]
    by_id = {r["id"]: r for r in lines}
    codes = chart()
    reversals = [r for r in lines if Decimal(r["amount"]) < 0]
    assert 3 <= len(reversals) <= 12
    for r in lines:
        amt = Decimal(r["amount"])
        assert r["amount"] == f"{amt:.2f}"
        assert r["account_code"].isdigit() and r["account_code"][:3] in codes
        if len(r["account_code"]) == 3:
            assert r["account_name"] == codes[r["account_code"]]
        assert r["direction"] in ("income", "expense")
        assert r["approval_level"] in APPROVAL_LEVELS
        if r["direction"] == "expense" and r.get("demo_planted") != "approval_level":
            assert r["approval_level"] == approval_level(amt)
        assert (amt < 0) == (r["reverses"] is not None)
        assert "1" <= r["date"][:1] and r["date"] <= DATA_AS_OF.isoformat()
    for r in reversals:
        orig = by_id[r["reverses"]]
        assert Decimal(r["amount"]) == -Decimal(orig["amount"])
        assert orig["date"] <= r["date"] and orig["account_code"] == r["account_code"]
    levels = {r["approval_level"] for r in lines if r["direction"] == "expense"}
    assert levels == set(APPROVAL_LEVELS)
    assert {"51301", "50301"} <= {r["account_code"] for r in lines}


def test_project_stages_ordered(data):
    running = 0
    for p in data["projects.jsonl"]:
        names = [s["stage"] for s in p["stages"]]
        assert names[0] == "立项"
        assert [STAGES.index(n) for n in names] == sorted(STAGES.index(n) for n in names)
        if p["procurement_method"] in ("公开招标", "邀请招标") and "合同" in names:
            assert "招标" in names
        dates = [s["date"] for s in p["stages"]]
        if p.get("demo_planted") != "stage_order":  # planted: dates that fall (kiosk/demo/plants.py)
            assert dates == sorted(dates)
        assert max(dates) <= DATA_AS_OF.isoformat()
        assert sum(Decimal(f["amount"]) for f in p["fund_sources"]) == Decimal(p["budget"])
        running += names[-1] != "公示"
    assert running >= 3


def test_power_graphs(data):
    pw = data["powers.jsonl"]
    assert all(p["sample"] is True for p in pw)
    assert [p["class"] for p in pw].count("便民服务") == 15
    for p in pw:
        kinds = {s["id"]: s["kind"] for s in p["steps"]}
        starts = [k for k, v in kinds.items() if v == "start"]
        assert len(starts) == 1 and "end" in kinds.values()
        seen, todo = set(), [starts[0]]
        while todo:
            s = todo.pop()
            if s not in seen:
                seen.add(s)
                todo += [e["to"] for e in p["edges"] if e["from"] == s]
        assert seen == set(kinds), p["id"]
        for d in (k for k, v in kinds.items() if v == "decision"):
            out = [e for e in p["edges"] if e["from"] == d]
            assert len(out) >= 2 and all(e["label"] for e in out)
        if p["class"] == "便民服务":
            assert p["materials"] and p["time_limit"]
    major = next(p for p in pw if p["class"] == "重大决策")
    assert [s["label"] for s in major["steps"]] == [
        "村党组织提议", "村“两委”会议商议", "党员大会审议", "村民（代表）会议决议", "决议公开", "实施结果公开"]


def test_services_reference_service_powers(data):
    service_powers = {p["id"] for p in data["powers.jsonl"] if p["class"] == "便民服务"}
    for s in data["services.jsonl"]:
        assert s["power_id"] in service_powers
        dates = [x["date"] for x in s["steps"]]
        assert dates == sorted(dates) and dates[-1] == s["decided_on"] <= DATA_AS_OF.isoformat()
        if s["notice_from"]:
            assert s["notice_from"] <= s["notice_to"] <= DATA_AS_OF.isoformat()


def test_no_address_in_any_source_file(written):
    out, _ = written
    persons = demo_persons("431382111249", seed=1)
    assert "村民小组" in persons[0].address and persons[0].address.endswith("号")
    for name in FILES:
        text = (out / name).read_text(encoding="utf-8")
        assert not any(p.address in text or p.address[len("湖南省涟源市白马镇"):] in text for p in persons), name


def test_demo_persons_match_payments(data):
    persons = demo_persons("431382111249", seed=1)
    pays, svcs = data["payments.jsonl"], data["services.jsonl"]
    by_id = {p.id_number: p for p in persons}
    assert len(by_id) == len(persons)
    assert {r["holder_id_number"] for r in pays} | {r["applicant_id_number"] for r in svcs} == set(by_id)
    for r in pays:
        assert by_id[r["holder_id_number"]].name == r["holder"]
    for p in persons[:5]:
        assert sum(r["holder_id_number"] == p.id_number for r in pays) >= 3
        assert sum(r["applicant_id_number"] == p.id_number for r in svcs) >= 3
    names = [p.name for p in persons[:5]]
    assert persons[0].id_number.endswith("X")
    assert any(n.startswith("欧阳") for n in names)
    assert any("\u4dae" in n for n in names) and any("\U0002020c" in n for n in names)
    assert any("·" in n and len(n) >= 8 for n in names)
    for p in persons:
        assert p.sex_code == ("1" if int(p.id_number[16]) % 2 else "2")
        assert p.birth == idnumber.birth_date(p.id_number)
        assert p.address.startswith("湖南省涟源市白马镇洪泉村") and p.group_name in p.address


def test_unknown_village_refused_nothing_written(tmp_path, capsys):
    out = tmp_path / "src"
    rc = cli.main(["demo-data", "--village", "431382999999", "--out", str(out)])
    assert rc != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "431382999999" in err
    assert list(tmp_path.iterdir()) == []


def test_refuses_foreign_folder_but_replaces_own(tmp_path, capsys):
    out = tmp_path / "src"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert cli.main(["demo-data", "--out", str(out), "--seed", "3"]) != 0
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert cli.main(["demo-data", "--out", str(out), "--seed", "3", "--force"]) == 0
    assert cli.main(["demo-data", "--out", str(out), "--seed", "3"]) == 0  # own output: replaced
    assert "finance" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]


def test_other_loudi_village(tmp_path):
    counts = write("431302001001", tmp_path / "x", seed=5)  # 娄星区乐坪街道街心社区
    v = _read(tmp_path / "x", "village.json")
    assert v["county"]["code"] == "431302" and counts["payments"] >= 3000
    assert _read(tmp_path / "x", "payments.jsonl")[0]["holder_id_number"].startswith("431302")


# ---------------------------------------------------------------- the data-as-of date

def test_as_of_month_end_and_dates():
    from kiosk.demo_data import AsOfError, parse_as_of

    assert parse_as_of("month-end", dt.date(2026, 12, 7)) == dt.date(2026, 11, 30)
    assert parse_as_of("month-end", dt.date(2026, 3, 1)) == dt.date(2026, 2, 28)
    assert parse_as_of("month-end", dt.date(2027, 1, 31)) == dt.date(2026, 12, 31)
    assert parse_as_of(" 2026-11-15 ", dt.date(2026, 12, 7)) == dt.date(2026, 11, 15)
    for bad in ("2026-13-01", "yesterday", "", "2026-12-08", "2024-12-31"):
        with pytest.raises(AsOfError) as e:
            parse_as_of(bad, dt.date(2026, 12, 7))
        assert e.value.exit_code == 2 and "\n" not in str(e.value)


def test_same_as_of_same_bytes_and_the_marker_says_it(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    when = dt.date(2026, 11, 30)
    write("431382111249", a, seed=1, as_of=when)
    write("431382111249", b, seed=1, as_of=when)
    write("431382111249", c, seed=1)
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert (a / "finance.jsonl").read_bytes() != (c / "finance.jsonl").read_bytes()
    assert json.loads((a / ".demo-data").read_text(encoding="utf-8")) == {
        "as_of": "2026-11-30", "seed": 1, "village": "431382111249"}
    assert _read(a, "village.json")["data_as_of"] == "2026-11-30"
    last = max(r["date"] for r in _read(a, "finance.jsonl"))
    assert "2026-09-01" <= last <= "2026-11-30"  # books end by the date (two months early: planted)


def test_cli_as_of_month_end_is_never_stale(tmp_path, capsys):
    out = tmp_path / "src"
    assert cli.main(["demo-data", "--out", str(out), "--as-of", "month-end"]) == 0
    as_of = dt.date.fromisoformat(_read(out, "village.json")["data_as_of"])
    today = dt.date.today()
    assert as_of == today.replace(day=1) - dt.timedelta(days=1)
    assert 1 <= (today - as_of).days <= 31 < 35  # the footer turns amber after 35 days
    assert f"(data as of {as_of})" in capsys.readouterr().out
    assert cli.main(["demo-data", "--out", str(tmp_path / "x"), "--as-of", "31.10.2026"]) == 2
    assert "--as-of" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_chinese_punctuation_in_every_text(data):
    """村“两委”, 村民（代表）会议, 张三（村务监督委员会主任）: no ASCII quotes, brackets or
    clause punctuation in any text with Chinese in it (digits keep 1,200.00 and 14:05)."""
    import re

    cjk = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")
    bad = re.compile(r'["\'();?!]|(?<!\d),|,(?!\d)|(?<!\d):|:(?!\d)')

    def texts(o, path):
        if isinstance(o, dict):
            for k, v in o.items():
                yield from texts(v, f"{path}.{k}")
        elif isinstance(o, list):
            for v in o:
                yield from texts(v, path)
        elif isinstance(o, str):
            yield path, o

    found = sorted({(path, s) for name, recs in data.items() for path, s in texts(recs, name)
                    if cjk.search(s) and bad.search(s)})
    assert not found, found[:5]
    powers = data["powers.jsonl"]
    assert any("村“两委”" in s["label"] for p in powers for s in p["steps"])
    assert all(s.endswith("）") for p in data["projects.jsonl"] for s in p["supervisors"])
