"""问题反映单 (question slip) printed on the simulated printer from the demo village and read
back: the record, the data version, the flag with its rule and 说明, the writing lines, the
complaint channels and both QR codes."""
from __future__ import annotations

import datetime as dt

import pytest

from kiosk import receipts
from printkit import printed

NOW = dt.datetime(2026, 11, 30, 9, 15)


@pytest.fixture(scope="module")
def mirror(demo_home):
    from kiosk.cache.mirror import open_current

    m = open_current(demo_home)
    yield m
    m.close()


def _print(receipt, profile="pos58"):
    lines, qr, sim = printed(receipt, NOW, profile)
    return lines, sorted(qr), sim


LINK = receipts.ViewerLink("https://cunwu.example.org/kiosk", "0123456789abcdef")


def test_slip_of_a_flagged_line_with_the_countys_note(mirror):
    flagged = [r for r in mirror.flags_page(rule="approval_level").rows if r["note"]]
    rid = flagged[0]["record_id"]
    rec = mirror.finance_get(rid)
    lines, qr, _ = _print(receipts.question_slip_from(mirror, "finance", rid, LINK), "xprinter80")
    flat = "".join(ln.strip() for ln in lines)
    info, prof = mirror.info, mirror.info.profile
    assert lines[0].strip() == "问题反映单"
    assert f"反映的记录：财务收支（编号 {rid}）" in flat and rec["voucher_no"] in flat
    assert "支出86,000.00元" in flat.replace(" ", "")
    assert f"第{info.seq}版·指纹{info.fingerprint}" in flat.replace(" ", "")
    assert "监督提示：审批程序与金额不符" in flat
    assert "本条记录：金额86,000元，按规定需经四议两公开，本条记录为两委审批。" in flat.replace(" ", "")
    assert "县里的说明：" in flat and "乡镇人民政府同意" in flat
    assert sum(1 for ln in lines if set(ln.strip()) == {"_"}) == receipts.WRITING_LINES
    assert "反映人（可不填）：" in flat
    chief = next(p for p in prof["supervision_committee"] if p["role"] == "主任")
    assert chief["name"] in flat and chief["phone"] in flat
    assert prof["discipline_office"]["name"] in flat and "12388（外地加拨区号）" in flat
    assert qr == sorted([prof["complaints"]["platform_url"],
                         receipts.record_url(LINK, info, f"/r/finance/{rid}")])


def test_slip_of_a_clean_record_has_no_flag(mirror):
    year = mirror.finance_years()[0]
    row = next(r for r in mirror.finance_page(year, limit=50).rows if not mirror.flags_for("finance", r["id"]))
    lines, qr, _ = _print(receipts.question_slip_from(mirror, "finance", row["id"]))
    flat = "".join(ln.strip() for ln in lines)
    assert "监督提示" not in flat and "我的问题（请写在下面）：" in flat
    assert qr == [mirror.info.profile["complaints"]["platform_url"]]  # no viewer link: no record QR code


@pytest.mark.parametrize("kind", ["projects", "assets", "services", "village"])
def test_slip_of_each_kind_of_flag(mirror, kind):
    if kind == "village":
        rid = ""
    else:
        rid = next(r["record_id"] for r in mirror.flags_page(limit=100).rows if r["kind"] == kind)
    flags = mirror.village_flags() if kind == "village" else mirror.flags_for(kind, rid)
    lines, qr, _ = _print(receipts.question_slip_from(mirror, kind, rid, LINK))
    flat = "".join(ln.strip() for ln in lines)
    assert f"监督提示：{flags[0]['rule']['title']}" in flat
    assert ("反映的事项" if kind == "village" else f"编号{rid}") in flat.replace(" ", "")
    route = "/" if kind == "village" else f"/r/{receipts.SLIP_VIEWER_KINDS[kind]}/{rid}"
    assert receipts.record_url(LINK, mirror.info, route) in qr


def test_slip_refuses_an_unknown_record(mirror):
    with pytest.raises(ValueError, match="no finance record"):
        receipts.question_slip_from(mirror, "finance", "F-none")
    with pytest.raises(ValueError, match="unknown record kind"):
        receipts.question_slip_from(mirror, "payments", "D000001")


def test_slip_without_a_platform_address_has_one_qr(mirror):
    rec = mirror.finance_get(mirror.flags_page(rule="cash_payment").rows[0]["record_id"])
    prof = {k: v for k, v in mirror.info.profile.items() if k != "complaints"}
    lines, qr, _ = _print(receipts.question_slip("finance", rec, mirror.info, mirror.flags_for("finance", rec["id"]), prof,
                                                 LINK))
    assert qr == [receipts.record_url(LINK, mirror.info, f"/r/finance/{rec['id']}")]
    assert "县互联网+监督平台" not in "".join(lines)


def test_slip_for_one_flag_of_a_record(mirror):
    """The button in one 请关注 box prints that flag only (``rule``); a rule the record does not
    break leaves the slip without a flag."""
    rid = mirror.flags_page(rule="approval_level").rows[0]["record_id"]
    lines, _qr, _ = _print(receipts.question_slip_from(mirror, "finance", rid, rule="approval_level"))
    flat = "".join(ln.strip() for ln in lines)
    assert flat.count("监督提示：") == 1 and "监督提示：审批程序与金额不符" in flat
    lines, _qr, _ = _print(receipts.question_slip_from(mirror, "finance", rid, rule="cash_payment"))
    flat = "".join(ln.strip() for ln in lines)
    assert "监督提示：" not in flat and f"编号{rid}" in flat.replace(" ", "")
