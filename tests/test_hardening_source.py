"""``kiosk bundle build`` on a bad export (issue 16): every defect one line, odd values the
old builder took (ISO week dates, "1e3", notices that end before they begin, payments dated
decades ahead, amounts that overflow, nested JSON), and personal data in public text."""
from __future__ import annotations

import copy
import datetime as dt
import json

import pytest
from conftest import run_cli
from sourcekit import ID_A, small_source, write_source

from kiosk import idnumber, privacy
from kiosk.errors import Exit


def _build(tmp_path, test_key, data=None, raw: dict | None = None):
    src = write_source(tmp_path / "src", data or small_source())
    for name, text in (raw or {}).items():
        (src / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    rc = run_cli("bundle", "build", src, "--key", test_key / "signing.key", "--seq", 1, "--out", out, "--quiet",
                 "--id-hash-n", 1024)
    return rc, out


def _errors(capsys) -> list[str]:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert all(line.startswith("kiosk: error: ") for line in lines), err
    return [line[len("kiosk: error: "):] for line in lines]


def test_every_defect_is_one_line(tmp_path, test_key, capsys):
    d = small_source()
    d["finance"][1]["date"] = "2024-W01-1"           # ISO week date: a year, no month
    d["finance"][3]["amount"] = "1e3"                # exponent
    d["finance"][4]["amount"] = "1e30"               # used to be a traceback (decimal context)
    d["projects"][0]["budget"] = "92233720368547758.08"  # 分 overflow SQLite's integers
    d["services"][0]["notice_to"] = "2025-03-01"     # ends before it begins (2025-03-11)
    d["payments"][1]["paid_on"] = "2058-05-20"       # decades ahead
    d["assets"][0]["kind"] = "房子"                   # an ordinary defect in yet another file
    rc, out = _build(tmp_path, test_key, d)
    lines = _errors(capsys)
    assert rc == Exit.SOURCE and not out.exists()
    wanted = ["finance.jsonl:2: date: not an ISO date YYYY-MM-DD: '2024-W01-1'",
              "finance.jsonl:4: amount: not a number in plain decimal form",
              "finance.jsonl:5: amount: not a number in plain decimal form",
              "projects.jsonl:1: budget: not a number in plain decimal form",
              "assets.jsonl:1: kind: must be 资产 or 资源",
              "services.jsonl:1: notice_to: before notice_from",
              "payments.jsonl:2: paid_on: 2058-05-20 is after the export's data_as_of 2025-05-31"]
    assert len(lines) == len(wanted), lines
    for w in wanted:
        assert sum(line.startswith(w) for line in lines) == 1, (w, lines)


def test_a_reference_to_a_refused_record_is_not_a_second_defect(tmp_path, test_key, capsys):
    d = small_source()
    d["finance"][1]["attachments"] = 10 ** 30  # F2 is refused; F3 reverses F2
    rc, _ = _build(tmp_path, test_key, d)
    assert rc == Exit.SOURCE
    assert _errors(capsys) == ["finance.jsonl:2: attachments: number out of range (±1000000000) "
                               "(数据源有误：finance.jsonl:2 字段 attachments：number out of range (±1000000000))"]


def test_nested_json_and_broken_lines_are_one_line_each(tmp_path, test_key, capsys):
    d = small_source()
    fin = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in d["finance"])
    fin = fin.replace(json.dumps(d["finance"][2], ensure_ascii=False), "[" * 200000 + "]" * 200000)
    rc, _ = _build(tmp_path, test_key, d, raw={"finance.jsonl": fin + "{not json\n"})
    lines = _errors(capsys)
    assert rc == Exit.SOURCE
    assert [line.split(" (")[0] for line in lines] == ["finance.jsonl:3: -: JSON nested too deeply",
                                                       "finance.jsonl:6: -: invalid JSON"]


def test_id_number_mobile_and_private_name_in_public_text_are_refused(tmp_path, test_key, capsys):
    d = small_source()
    other = idnumber.make("431382", dt.date(1962, 8, 14), 77)
    d["services"][0]["result"] = f"同意纳入低保（身份证号{other}）"
    d["finance"][1]["summary"] = "购买办公用品，联系李四 139-0738-1234"
    wide = ID_A.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))  # full-width digits
    d["projects"][0]["stages"][2]["note"] = f"中标人代表证件{wide}"
    d["powers"][0]["materials"] = "身份证、户口簿，咨询 +86 13807381234"
    rc, _ = _build(tmp_path, test_key, d)
    lines = _errors(capsys)
    assert rc == Exit.SOURCE
    text = "\n".join(lines)
    assert other not in text and ID_A not in text and "13907381234" not in text and "李四" not in text
    assert sorted(line.split(" (数据源有误")[0] for line in lines) == sorted([
        f"services.jsonl:1: result: holds an ID number ({other[:4]}**************); public text must not",
        "finance.jsonl:2: summary: holds a mobile number (139****1234); public text must not",
        "finance.jsonl:2: summary: holds the full name of a private person from this export (李*); public text must not",
        f"projects.jsonl:1: stages[2].note: holds an ID number ({ID_A[:4]}**************); public text must not",
        "powers.jsonl:1: materials: holds a mobile number (138****1234); public text must not",
    ])


def test_what_is_not_personal_data_passes(tmp_path, test_key, capsys):
    d = small_source()
    d["finance"][1]["summary"] = "购买办公用品 张*丰 报账，电话 0738-4567890，凭证 20250109000123456789"
    d["finance"][1]["handler"] = "张三丰"                # an official of the same name, in office: shown in full
    bad = ID_A[:17] + ("0" if ID_A[17] != "0" else "1")  # 18 digits, wrong check character
    d["services"][0]["result"] = f"同意（档案号 {bad}）"
    rc, out = _build(tmp_path, test_key, d)
    assert rc == 0, capsys.readouterr().err
    assert out.exists()


def test_privacy_find_masks_what_it_reports():
    f = privacy.find(f"{ID_A} 18607381234 王小明", frozenset({"王小明"}))
    assert [(x.kind, x.shown) for x in f] == [("id_number", ID_A[:4] + "*" * 14), ("mobile", "186****1234"),
                                              ("name", "王*明")]
    assert privacy.find("陈军龙（村务监督委员会主任）现场监督", frozenset({"陈军"}), frozenset({"陈军龙"})) == []
    assert privacy.find(ID_A + "1", frozenset()) == []  # inside a longer run of digits


def test_load_source_still_raises_plainly_for_one_defect(tmp_path):
    from kiosk.records import SourceError, load_source

    d = copy.deepcopy(small_source())
    d["finance"][0]["date"] = "2025-13-01"
    with pytest.raises(SourceError) as ei:
        load_source(write_source(tmp_path / "s", d))
    assert ei.value.lines == [str(ei.value)] and str(ei.value).startswith("finance.jsonl:1: date:")


@pytest.mark.parametrize("kind, i, field, value, needle", [
    ("finance", 0, "date", "2024-W01-1", "date: not an ISO date"),
    ("finance", 0, "amount", "1e3", "amount: not a number in plain decimal form"),
    ("finance", 0, "amount", "1e30", "amount: not a number in plain decimal form"),
    ("payments", 0, "amount", "92233720368547758.08", "amount: not a number in plain decimal form"),
    ("services", 0, "notice_to", "2025-03-10", "notice_to: before notice_from"),
    ("payments", 0, "paid_on", "2049-01-15", "paid_on: 2049-01-15 is after the export's data_as_of"),
    ("finance", 0, "date", "2031-01-05", "date: 2031-01-05 is after the export's data_as_of"),
])
def test_each_odd_value_alone_is_refused(tmp_path, test_key, capsys, kind, i, field, value, needle):
    d = small_source()
    d[kind][i][field] = value
    rc, out = _build(tmp_path, test_key, d)
    lines = _errors(capsys)
    assert rc == Exit.SOURCE and not out.exists() and len(lines) == 1 and needle in lines[0], lines


def test_a_township_source_with_a_nested_village_json_is_one_line(tmp_path, test_key, capsys):
    root = tmp_path / "township"
    write_source(root / "a")
    (root / "b").mkdir()
    (root / "b" / "village.json").write_text("[" * 100000 + "]" * 100000)
    rc = run_cli("bundle", "build", root, "--key", test_key / "signing.key", "--seq", 1, "--out", tmp_path / "o",
                 "--quiet")
    lines = _errors(capsys)
    assert rc == Exit.SOURCE and lines == ["b/village.json: code: missing or invalid JSON (数据源 b/village.json 格式有误)"]
