"""Receipts for printed records (kiosk/receipts.py), printed on the simulated printer and
read back: text lines, amounts in 大写, the QR payload (pyzbar) and the footer."""
from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest

from kiosk import receipts
from printkit import printed
from kiosk.formatting import amount_in_capitals, money

NOW = dt.datetime(2026, 11, 30, 9, 15)
LINK = receipts.ViewerLink("https://jiandu.example.org/cunwu/", "1a2b3c4d5e6f7081")


def _url(info, route):
    return (f"https://jiandu.example.org/cunwu/{info.village_code}/#{route}"
            f"?v={info.seq}&fp={info.fingerprint}&k=1a2b3c4d5e6f7081")


@pytest.fixture(scope="module")
def mirror(demo_home):
    from kiosk.cache.mirror import open_current

    m = open_current(demo_home)
    yield m
    m.close()


def _print(receipt, profile="pos58"):
    lines, qr, _sim = printed(receipt, NOW, profile)
    return lines, qr, "\n".join(lines)


def _footer_ok(text, info):
    assert f"第{info.seq}版" in text and info.fingerprint in text and info.data_as_of in text
    assert "打印时间" in text


def test_finance_line(mirror):
    year = mirror.finance_years()[0]
    row = mirror.finance_page(year, limit=5).rows[0]
    rec = mirror.finance_get(row["id"])
    lines, qr, text = _print(receipts.finance_line(rec, mirror.info, LINK), "pos58")
    flat = "".join(lines)  # 58 mm wraps a long 摘要
    assert rec["voucher_no"] in text and rec["summary"] in flat
    assert money(rec["amount"]) in text
    assert amount_in_capitals(rec["amount"]) in flat
    assert mirror.info.village_name in text
    assert qr == [_url(mirror.info, f"/r/finance/{rec['id']}")]
    assert receipts.QR_CAPTION in flat
    _footer_ok(text, mirror.info)


def test_finance_month_totals(mirror, demo_source):
    src = [json.loads(x) for x in (demo_source / "finance.jsonl").read_text(encoding="utf-8").splitlines()]
    year = mirror.finance_years()[1]
    month = mirror.finance_months(year)[0]
    t = mirror.finance_totals(year, month)
    rows = mirror.finance_page(year, month, limit=500).rows
    want = [r for r in src if r["date"].startswith(f"{year}-{month:02d}")]
    assert len(rows) == len(want) == t.count
    lines, qr, text = _print(receipts.finance_month(rows, t, year, month, mirror.info, LINK), "xprinter80")
    inc = sum((Decimal(r["amount"]) for r in want if r["direction"] == "income"), Decimal(0))
    exp = sum((Decimal(r["amount"]) for r in want if r["direction"] == "expense"), Decimal(0))
    assert f"{year}年{month}月" in text
    assert any(ln.startswith("收入合计") and ln.endswith(money(inc)) for ln in lines), lines
    assert any(ln.startswith("支出合计") and ln.endswith(money(exp)) for ln in lines)
    assert amount_in_capitals(inc - exp) in text
    assert f"{len(want)} 笔" in text
    for r in want:
        assert money(Decimal(r["amount"]), unit=False) in text
    assert qr == [_url(mirror.info, f"/finance/{year}/{month}")]
    with pytest.raises(ValueError):
        receipts.finance_month(rows[:-1], t, year, month, mirror.info)


def test_project_asset_service(mirror):
    p = mirror.project_get(mirror.projects_page(limit=1).rows[0]["id"])
    lines, qr, text = _print(receipts.project(p, mirror.info, LINK), "xprinter80")
    assert amount_in_capitals(p["budget"]) in text and qr == [_url(mirror.info, f"/r/project/{p['id']}")]
    for s in p["stages"]:
        assert s["stage"] in text
    a = next(r for r in mirror.assets_page(limit=50).rows if r.get("annual_rent") is not None)
    lines, qr, text = _print(receipts.asset(mirror.asset_get(a["id"]), mirror.info, LINK), "xprinter80")
    assert amount_in_capitals(a["annual_rent"]) in text and qr == [_url(mirror.info, f"/r/asset/{a['id']}")]
    if a.get("counterparty"):  # named by the asset's status, as on screen (发包 → 承包方)
        from kiosk.formatting import counterparty_label

        assert counterparty_label(a["status"]) in text
    s = mirror.service_get(mirror.services_page(limit=1).rows[0]["id"])
    lines, qr, text = _print(receipts.service(s, mirror.info, LINK), "xprinter80")
    assert s["applicant"] in text  # as masked in the mirror, like on screen
    assert s["result"].replace(" ", "")[:6] in text.replace(" ", "")
    assert qr == [_url(mirror.info, f"/r/service/{s['id']}")]
    _footer_ok(text, mirror.info)


def test_holder_payments_masked_and_no_id_number(mirror, demo_source):
    from kiosk.demo_data import demo_persons
    from kiosk.personal import lookup

    p = demo_persons("431382111249", seed=1)[0]

    class Card:
        name, id_number = p.name, p.id_number

    rec = lookup(mirror, Card)
    lines, qr, text = _print(receipts.payments(rec, mirror.info, LINK), "xprinter80")
    assert p.id_number not in text and p.id_number not in qr[0] and p.name not in text
    assert rec.masked_name in text
    assert amount_in_capitals(rec.total) in text
    y = rec.years[0]
    assert any(ln.startswith(f"{y.year}年合计") and ln.endswith(money(y.amount, unit=False)) for ln in lines)
    assert qr == [_url(mirror.info, "/")]  # the version's page: personal records are not on the web


def test_payments_receipt_refuses_nothing_to_print(mirror):
    from kiosk.personal import PersonalRecords

    with pytest.raises(ValueError):
        receipts.payments(PersonalRecords("张*"), mirror.info)


def test_holder_payments_newest_year_only_with_earlier_summary(mirror, demo_source):
    """Three years of lines were ~85 cm of paper: only the newest year in detail, earlier
    years as one count-and-total line; totals match the source export's Decimal sums."""
    from kiosk.demo_data import demo_persons
    from kiosk.personal import lookup

    p = demo_persons("431382111249", seed=1)[0]

    class Card:
        name, id_number = p.name, p.id_number

    src = [json.loads(x) for x in (demo_source / "payments.jsonl").read_text(encoding="utf-8").splitlines()]
    mine = [r for r in src if r["holder_id_number"] == p.id_number]
    newest = max(int(r["paid_on"][:4]) for r in mine)
    cur = [r for r in mine if int(r["paid_on"][:4]) == newest]
    old = [r for r in mine if int(r["paid_on"][:4]) < newest]
    assert cur and old  # the demo person has earlier years: the summary line is exercised
    cur_sum = sum((Decimal(r["amount"]) for r in cur), Decimal(0))
    old_sum = sum((Decimal(r["amount"]) for r in old), Decimal(0))

    rec = lookup(mirror, Card)
    lines, qr, text = _print(receipts.payments(rec, mirror.info), "xprinter80")
    assert f"{newest}年 共 {len(cur)} 笔" in text
    body = lines[:next(i for i, ln in enumerate(lines) if ln.startswith("更早年份"))]
    # one table row per newest-year payment (its 发放日期 column), and no other year anywhere
    paid = [m for ln in body for m in re.findall(r"\s(\d\d-\d\d)\s", ln + " ")]
    assert sorted(paid) == sorted(r["paid_on"][5:] for r in cur)
    assert {int(y) for y in re.findall(r"(20\d\d)", "\n".join(body))} == {newest}
    assert any(ln.startswith(f"{newest}年合计") and ln.endswith(money(cur_sum, unit=False)) for ln in lines), lines
    assert f"更早年份：{len(old)} 笔，合计 {money(old_sum)}" in text
    assert any(ln.startswith(f"全部 {len(mine)} 笔合计") and ln.endswith(money(cur_sum + old_sum)) for ln in lines)
    assert amount_in_capitals(cur_sum + old_sum) in text
    assert p.id_number not in text and p.name not in text and rec.masked_name in text
    assert qr == []  # no viewer.base_url: no QR code, and no line claiming one
    assert "扫码" not in text
