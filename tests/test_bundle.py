"""Bundle build, verify, install and mirror queries on a small hand-written source."""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from kiosk.errors import Exit
from conftest import build_bundle, run_cli, tree_digest
from sourcekit import ID_A, ID_B, VILLAGE, small_source, write_source

from kiosk.cache import bundle as B
from kiosk.cache import install, keys
from kiosk.cache.verify import verify_bundle
from kiosk.cache.mirror import open_current
from kiosk.records import SourceError, load_source


def _copy(bundle: Path, dest: Path) -> Path:
    shutil.copytree(bundle, dest, symlinks=True)
    return dest


def test_build_writes_signed_manifest(small_bundle, test_key):
    m = json.loads((small_bundle / "manifest.json").read_bytes())
    assert m["format_version"] == 1 and m["scope"] == VILLAGE and m["seq"] == 1
    assert m["counts"] == {"finance": 5, "projects": 1, "assets": 2, "services": 1, "powers": 1, "payments": 2}
    assert m["data_as_of"] == "2025-05-31" and m["previous"] is None
    assert [f["path"] for f in m["files"]] == ["data/village.sqlite", "web/public.json", "web/public.sqlite",
                                             "web/public.sqlite.sha256"]
    assert len((small_bundle / "manifest.sig").read_bytes()) == 64
    pub = keys.load_public(test_key / "signing.pub")
    vm = verify_bundle(small_bundle, [keys.TrustedKey(keys.key_id(pub), pub)])
    mbytes = (small_bundle / "manifest.json").read_bytes()
    # the fingerprint is the first 8 lowercase hex digits of SHA-256 over the manifest's bytes
    assert vm.fingerprint == B.fingerprint(mbytes) == hashlib.sha256(mbytes).hexdigest()[:8]
    assert re.fullmatch(r"[0-9a-f]{8}", vm.fingerprint)
    assert (vm.scope, vm.seq, vm.data_as_of, dict(vm.counts)) == (VILLAGE, 1, "2025-05-31", m["counts"])


def test_bundle_holds_no_plain_id_number_or_private_name(small_bundle):
    db = (small_bundle / "data/village.sqlite").read_bytes()
    for secret in (ID_A, ID_B, "张三丰"):
        assert secret.encode() not in db
        assert secret.encode("utf-16-le") not in db
    assert "张*丰".encode() in db  # masked applicant is there


def test_import_and_status(home, small_bundle, capsys):
    assert run_cli("import", small_bundle) == 0
    capsys.readouterr()
    assert run_cli("status", "--json") == 0
    st = json.loads(capsys.readouterr().out)
    assert st["village_code"] == VILLAGE and st["village_name"] == "洪泉村" and st["seq"] == 1
    assert st["data_as_of"] == "2025-05-31"
    assert st["fingerprint"] == B.fingerprint((small_bundle / "manifest.json").read_bytes())
    assert st["counts"]["finance"] == 5 and st["counts"]["payments"] == 2


def test_mirror_queries(home, small_bundle):
    install.install(small_bundle, home)
    m = open_current(home)
    assert m.info.village_name == "洪泉村" and m.info.township_name == "白马镇" and m.info.county_name == "涟源市"
    assert m.info.footer().startswith("数据更新至 2025-05-31 · 第1版 · 指纹 ")
    assert m.finance_years() == [2025, 2024]
    assert m.finance_months(2025) == [1, 2]
    t = m.finance_totals(2025, 1)
    assert (t.income, t.expense, t.balance, t.count) == (Decimal("120000.00"), Decimal("0.00"), Decimal("120000.00"), 3)
    t = m.finance_totals(2025)
    assert t.expense == Decimal("12000.00") and t.balance == Decimal("108000.00")
    p1 = m.finance_page(2025, limit=2)
    assert [r["id"] for r in p1.rows] == ["F4", "F3"] and p1.next is not None
    p2 = m.finance_page(2025, after=p1.next, limit=2)
    assert [r["id"] for r in p2.rows] == ["F2", "F1"] and p2.next is None
    f3 = m.finance_get("F3")
    assert f3["amount"] == Decimal("-860.50") and f3["reverses"]["voucher_no"] == "记-002"
    assert f3["plain_name"] == "办公和管理开支"
    p = m.project_get("P1")
    assert [s["stage"] for s in p["stages"]] == ["立项", "设计", "招标", "合同", "施工"]
    assert p["fund_sources"][0] == {"source": "县财政衔接资金", "amount": "300000.00"} and p["stage"] == "施工"
    a = m.asset_get("A1")
    assert a["counterparty"] == "张*丰" and a["reserve_price"] == Decimal("18000.00")
    assert m.asset_get("A2")["counterparty"] == "涟源市示例林业专业合作社"
    assert [r["id"] for r in m.assets_page(kind="资源").rows] == ["A2"]
    s = m.services_page().rows[0]
    assert s["applicant"] == "张*丰" and "applicant_key" not in s
    pw = m.power_get("PW-C05")
    assert {(e["src"], e["dst"], e["label"]) for e in pw["edges"]} >= {("s2", "s3", "不通过")}
    assert m.info.power_list_sample is True
    key = m.holder_key(ID_A)
    assert [r["id"] for r in m.payments_for(key)] == ["PAY1"]
    assert [r["id"] for r in m.services_for(key)] == ["S1"]
    assert m.payments_for(m.holder_key(ID_B))[0]["amount"] == Decimal("356.40")
    m.close()


def test_install_records_steps_in_safe_order(home, small_bundle):
    steps: list[str] = []
    install.install(small_bundle, home, on_step=steps.append)
    assert steps == ["precheck", "clean", "copy", "fsync", "verify", "check_db", "publish", "switch", "gc"]


def test_second_version_keeps_last_known_good(home, small_src, small_bundle, test_key, tmp_path):
    install.install(small_bundle, home)
    b2 = build_bundle(small_src, test_key, 2, tmp_path / "b2")
    res = install.install(b2, home)
    assert (res.old_seq, res.new_seq) == (1, 2)
    st = install.read_state(home)
    assert st["highest_seq"] == 2 and st["last_known_good"].startswith("v000001-")
    assert sorted(p.name for p in (home / "mirror/versions").iterdir()) == sorted([st["current"], st["last_known_good"]])


# ---------------------------------------------------------------- refusals leave KIOSK_HOME untouched

def _refused(home: Path, bundle: Path, capsys, needle: str) -> None:
    before = tree_digest(home)
    rc = run_cli("import", bundle)
    err = capsys.readouterr().err
    assert rc != 0
    assert needle in err, err
    assert err.count("\n") == 1  # one line
    assert tree_digest(home) == before


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("target,offset", [("manifest.json", 10), ("manifest.sig", 5), ("data/village.sqlite", 5000)])
def test_changed_byte_refused(home, small_bundle, tmp_path, capsys, target, offset):
    b = _copy(small_bundle, tmp_path / "b")
    _flip(b / target, offset)
    needle = "SHA-256" if target.startswith("data") else "signature"
    _refused(home, b, capsys, needle)


def test_missing_extra_truncated_refused(home, small_bundle, tmp_path, capsys):
    b = _copy(small_bundle, tmp_path / "missing")
    (b / "data/village.sqlite").unlink()
    _refused(home, b, capsys, "missing")
    b = _copy(small_bundle, tmp_path / "extra")
    (b / "data/notes.txt").write_text("x")
    _refused(home, b, capsys, "unexpected file")
    b = _copy(small_bundle, tmp_path / "trunc")
    db = b / "data/village.sqlite"
    db.write_bytes(db.read_bytes()[:-4096])
    _refused(home, b, capsys, "truncated")


def _resign(bundle: Path, key: Path, edit) -> None:
    m = json.loads((bundle / "manifest.json").read_bytes())
    edit(m)
    mb = json.dumps(m, ensure_ascii=False).encode()
    (bundle / "manifest.json").write_bytes(mb)
    (bundle / "manifest.sig").write_bytes(keys.load_private(key / "signing.key").sign(mb))


@pytest.mark.parametrize("name", ["../outside.sqlite", "/etc/passwd", "data/../../x", "data\\x"])
def test_escaping_names_refused(home, small_bundle, test_key, tmp_path, capsys, name):
    b = _copy(small_bundle, tmp_path / "b")
    _resign(b, test_key, lambda m: m["files"].append({"path": name, "size": 1, "sha256": "00" * 32}))
    _refused(home, b, capsys, "file name")


def test_link_refused(home, small_bundle, tmp_path, capsys):
    b = _copy(small_bundle, tmp_path / "b")
    (b / "data/link").symlink_to("/etc/hostname")
    _refused(home, b, capsys, "link")


def test_unknown_key_refused(home, small_src, other_test_key, tmp_path, capsys):
    b = build_bundle(small_src, other_test_key, 1, tmp_path / "b")
    _refused(home, b, capsys, "trusted key")


def test_other_scope_refused(home, small_bundle, test_key, tmp_path, capsys):
    install.install(small_bundle, home)
    data = small_source()
    data["village"]["code"] = "431382111202"  # 赵家村, same township
    src = write_source(tmp_path / "src2", data)
    b = build_bundle(src, test_key, 2, tmp_path / "b")
    _refused(home, b, capsys, "bundle is for 431382111202")


def test_older_or_same_seq_refused(home, small_src, small_bundle, test_key, tmp_path, capsys):
    b3 = build_bundle(small_src, test_key, 3, tmp_path / "b3")
    install.install(b3, home)
    _refused(home, small_bundle, capsys, "not newer")
    _refused(home, b3, capsys, "is already installed")  # the very same bundle


def test_same_bundle_again_says_already_installed(home, small_bundle, capsys):
    install.install(small_bundle, home)
    fp = B.fingerprint((small_bundle / "manifest.json").read_bytes())
    before = tree_digest(home)
    assert run_cli("import", small_bundle) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert err == f"kiosk: error: bundle 第1版 (指纹 {fp}) is already installed (本版数据已安装，无需重复导入)\n"
    assert tree_digest(home) == before


def test_unknown_format_version_refused(home, small_bundle, test_key, tmp_path, capsys):
    b = _copy(small_bundle, tmp_path / "b")
    _resign(b, test_key, lambda m: m.update(format_version=2))
    _refused(home, b, capsys, "unknown format_version")


def test_no_trusted_key_refused(tmp_path, monkeypatch, small_bundle, capsys):
    h = tmp_path / "fresh"
    h.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(h))
    _refused(h, small_bundle, capsys, "no trusted key")


def test_trust_only_while_none_trusted(home, other_test_key, capsys):
    assert run_cli("trust", other_test_key / "signing.pub") != 0
    assert "already trusted" in capsys.readouterr().err


# ---------------------------------------------------------------- malformed sources refused at build

def _mutate(kind: str, idx: int, **changes):
    def f(data):
        data[kind][idx].update(changes)
    return f


@pytest.mark.parametrize("mutate,needle", [
    (_mutate("finance", 0, date="2025-02-30"), "finance.jsonl:1: date: not an ISO date"),
    (_mutate("finance", 1, amount="八百"), "finance.jsonl:2: amount: not a number"),
    (_mutate("finance", 1, amount=860.5), "amount must be a decimal string"),
    (_mutate("finance", 1, amount="-860.50"), "negative amount that is not a reversal"),
    (_mutate("finance", 1, account_code="59901"), "not under a first-level code"),
    (_mutate("finance", 1, id="F1"), "duplicate id 'F1'"),
    (_mutate("finance", 3, approval_level="村长"), "finance.jsonl:4: approval_level: must be one of"),
    (_mutate("finance", 1, payment_method="微信"), "finance.jsonl:2: payment_method: must be one of 现金/转账"),
    (_mutate("finance", 3, project_id="P9"), "finance.jsonl:4: project_id: no project with id 'P9'"),
    (_mutate("finance", 3, project_payment="结算款"), "finance.jsonl:4: project_payment: given without project_id"),
    (_mutate("finance", 4, asset_id="A9"), "finance.jsonl:5: asset_id: no asset with id 'A9'"),
    (_mutate("assets", 0, bidders=-1), "assets.jsonl:1: bidders: negative"),
    (_mutate("assets", 0, bidders=0), "assets.jsonl:1: bidders: 0 bidders but a deal price"),
    (_mutate("assets", 0, rent_schedule={"first_due": "2024-01-01", "every_months": 5}),
     "assets.jsonl:1: rent_schedule.every_months: must be one of"),
    (_mutate("assets", 0, rent_schedule={"first_due": "2024-01-01"}), "assets.jsonl:1: rent_schedule.every_months: must be one of"),
    (_mutate("assets", 1, rent_schedule={"first_due": "2024-01-01", "every_months": 12}, annual_rent=None),
     "assets.jsonl:2: rent_schedule: given without annual_rent"),
    (_mutate("services", 0, notice_to="2025-03-01"), "services.jsonl:1: notice_to: before notice_from"),
    (_mutate("finance", 4, asset_id="A2", project_id="P1"), "finance.jsonl:5: asset_id: a line belongs to a project or to an asset"),
    (_mutate("finance", 2, reverses="F99"), "no line with id 'F99'"),
    (_mutate("payments", 0, holder_id_number=ID_A[:-1] + ("0" if ID_A[-1] != "0" else "1")), "check character"),
    (_mutate("services", 0, power_id="PW-X"), "no power item"),
    (_mutate("projects", 0, stages=[{"stage": "立项", "date": "2024-03-01", "note": ""}, {"stage": "立项", "date": "2024-02-01", "note": ""}]),
     "projects.jsonl:1: stages[1].stage: stage 立项 appears twice"),
    (_mutate("projects", 0, stages=[{"stage": "合同", "date": "2024-02-01", "note": ""}]),
     "projects.jsonl:1: stages: a project starts with 立项"),
])
def test_malformed_source_refused(tmp_path, test_key, capsys, mutate, needle):
    data = small_source()
    mutate(data)
    src = write_source(tmp_path / "src", data)
    out = tmp_path / "out"
    rc = run_cli("bundle", "build", src, "--key", test_key / "signing.key", "--seq", 1, "--out", out, "--quiet")
    err = capsys.readouterr().err
    assert rc != 0 and needle in err, err
    assert not out.exists() and not list(tmp_path.glob(".out.*"))
    assert ID_A not in err


def test_invalid_utf8_refused(tmp_path):
    src = write_source(tmp_path / "src")
    with open(src / "finance.jsonl", "ab") as f:
        f.write(b'{"id": "\xff"}\n')
    with pytest.raises(SourceError, match=r"finance.jsonl:6: -: invalid UTF-8"):
        load_source(src)


def test_bundle_verify_cli(small_bundle, test_key, other_test_key, capsys):
    assert run_cli("bundle", "verify", small_bundle, "--pubkey", test_key / "signing.pub") == 0
    assert "OK" in capsys.readouterr().out
    assert run_cli("bundle", "verify", small_bundle, "--pubkey", other_test_key / "signing.pub") != 0


def test_invalid_utf8_refused_by_build_cli(tmp_path, test_key, capsys):
    src = write_source(tmp_path / "src")
    with open(src / "payments.jsonl", "ab") as f:
        f.write(b'{"id": "P\xc3"}\n')
    out = tmp_path / "out"
    rc = run_cli("bundle", "build", src, "--key", test_key / "signing.key", "--seq", 1, "--out", out, "--quiet")
    err = capsys.readouterr().err
    assert rc != 0 and "invalid UTF-8" in err and err.count("\n") == 1, err
    assert not out.exists()


def test_docs_embed_the_schema_verbatim():
    doc = (Path(__file__).parent.parent / "docs/bundle-format.md").read_text(encoding="utf-8")
    block = doc.split("<!-- schema:begin -->\n```sql\n", 1)[1].split("```\n<!-- schema:end -->", 1)[0]
    schema = (Path(B.__file__).parent / "schema.sql").read_text(encoding="utf-8")
    assert block == schema


@pytest.mark.parametrize("what", ["empty", "source"])
def test_import_of_a_folder_that_is_not_a_bundle_names_the_folder(home, small_src, tmp_path, capsys, what):
    folder = small_src if what == "source" else tmp_path / "empty"
    folder.mkdir(exist_ok=True)
    before = tree_digest(home)
    assert run_cli("import", folder) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert err.startswith(f"kiosk: error: no valid signed bundle in {folder}") and "stick" not in err, err
    assert f"{folder} 中没有找到有效的数据包" in err and err.count("\n") == 1
    assert tree_digest(home) == before


def test_verify_with_the_wrong_public_key_says_so(small_bundle, other_test_key, capsys):
    assert run_cli("bundle", "verify", small_bundle, "--pubkey", other_test_key / "signing.pub") == Exit.BUNDLE
    err = capsys.readouterr().err
    assert "does not verify with the given public key" in err and "trusted key" not in err, err
