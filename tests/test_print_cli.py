"""``kiosk print KIND ID``: the 打印 button's receipt from the command line, with a QR code to the
phone viewer only when ``viewer.base_url`` is set; the 监督投诉 channels and their slip; the
validation of the complaint-channel fields of a source export."""
from __future__ import annotations

import datetime as dt
import json
import shutil

import pytest
from pyzbar.pyzbar import decode
from PIL import Image

from conftest import run_cli
from kiosk import complaints
from kiosk.errors import Exit

BASE = "https://jiandu.example.org/cunwu"


@pytest.fixture()
def home(tmp_path, demo_home, monkeypatch):
    """A copy of the demo kiosk (so its config can change)."""
    h = tmp_path / "home"
    shutil.copytree(demo_home, h)
    monkeypatch.setenv("KIOSK_HOME", str(h))
    return h


def _config(home, **viewer):
    (home / "config.json").write_text(json.dumps({"viewer": viewer, "printer": {"device": "sim"}}))


def _ids(home):
    from kiosk.cache.mirror import open_current

    m = open_current(home)
    try:
        year = m.finance_years()[0]
        return m, m.finance_page(year, limit=1).rows[0]["id"], m.projects_page(limit=1).rows[0]["id"], \
            m.powers()[0]["id"]
    finally:
        m.close()


def _qr(png):
    return [d.data.decode() for d in decode(Image.open(png))]


def test_print_finance_line_with_the_viewer_link(home, tmp_path, capsys):
    _config(home, base_url=BASE + "/")
    m, fid, _, _ = _ids(home)
    out = tmp_path / "r.png"
    assert run_cli("print", "finance", fid, "--out", out) == 0
    from kiosk.cache.viewerlink import signer_key_id
    from kiosk.cache.mirror import open_current

    cur = open_current(home)
    kid = signer_key_id(home, cur.version_dir)
    cur.close()
    assert _qr(out) == [f"{BASE}/{m.info.village_code}/#/r/finance/{fid}?v={m.info.seq}&fp={m.info.fingerprint}&k={kid}"]
    assert "with a QR code" in capsys.readouterr().out


def test_without_base_url_no_qr_and_no_claim(home, tmp_path):
    _config(home)
    _, _, pid, _ = _ids(home)
    out = tmp_path / "p.png"
    assert run_cli("print", "project", pid, "--out", out) == 0
    assert _qr(out) == []
    from kiosk import receipts
    from kiosk.cache.mirror import open_current
    from kiosk.devices.printer import SimulatedPrinter, print_receipt

    m = open_current(home)
    sim = SimulatedPrinter("pos58")
    assert print_receipt(receipts.for_record(m, "project", pid), "pos58", sim).ok
    m.close()
    assert not [ln for ln in sim.text_lines() if "扫码" in ln]


def test_power_and_month_receipts(home, tmp_path):
    _config(home, base_url=BASE)
    m, fid, _, power = _ids(home)
    out = tmp_path / "w.png"
    assert run_cli("print", "power", power, "--out", out) == 0
    [url] = _qr(out)
    assert url.startswith(f"{BASE}/{m.info.village_code}/#/r/power/{power}?v=")
    assert run_cli("print", "finance-month", "2025-03", "--out", out) == 0
    assert _qr(out)[0].startswith(f"{BASE}/{m.info.village_code}/#/finance/2025/3?v=")


def test_bad_input_is_one_line(home, tmp_path, capsys):
    _config(home)
    assert run_cli("print", "finance", "NO-SUCH-ID", "--simulate") == Exit.FAILED
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "NO-SUCH-ID" in err[0]
    assert run_cli("print", "finance-month", "2025-3", "--simulate") == Exit.USAGE
    assert run_cli("print", "finance", "x", "--out", tmp_path / "r.txt") == Exit.USAGE
    assert run_cli("print", "project") == Exit.USAGE
    with pytest.raises(SystemExit) as e:
        run_cli("print", "payments", "x")
    assert e.value.code == Exit.USAGE


# ---------------------------------------------------------------- 监督投诉

PROFILE = {
    "discipline_office": {"name": "白马镇纪委", "phone": "0738-0000003"},
    "supervision_committee": [{"role": "主任", "name": "刘秀英", "phone": "0738-0000002"}],
    "complaints": {"platform_url": "https://example.invalid/complaint", "wechat_official_account": "涟源清风",
                   "wechat_official_account_url": "https://example.invalid/mp",
                   "viewer_url": "https://example.invalid/cunwu/431382111249/",
                   "village_group": {"name": "洪泉村村务监督群", "admin": "刘秀英", "qr_url": "https://example.invalid/g/1",
                                     "qr_expires_on": "2026-12-07"},
                   "county_discipline_office": {"name": "涟源市纪委监委", "phone": "0738-0000009"}},
}


def test_channels_show_the_group_qr_only_while_current():
    now = complaints.channels(PROFILE, today=dt.date(2026, 12, 7))
    assert [c.label for c in now.with_qr] == ["县互联网+监督平台投诉", "微信公众号", "用手机查看本村公开", "村务监督微信群"]
    assert now.with_qr[-1].qr == "https://example.invalid/g/1" and "12月7日前有效" in now.with_qr[-1].note
    later = complaints.channels(PROFILE, today=dt.date(2026, 12, 8))
    assert "村务监督微信群" not in [c.label for c in later.with_qr]
    grp = next(c for c in later.lines if c.label == "村务监督微信群")
    assert grp.text == "洪泉村村务监督群" and "刘秀英" in grp.note
    texts = [c.text for c in later.lines]
    assert "12388" in texts and "白马镇纪委 0738-0000003" in texts and "涟源市纪委监委 0738-0000009" in texts
    # an older export without the new fields: the hotline still, nothing invented
    old = complaints.channels({"complaints": {"platform_url": "https://example.invalid/c"}})
    assert [c.label for c in old.with_qr] == ["县互联网+监督平台投诉"] and [c.text for c in old.lines] == ["12388"]


def test_complaints_slip_prints_every_channel(home, tmp_path):
    _config(home, base_url=BASE)
    out = tmp_path / "slip.png"
    assert run_cli("print", "complaints", "--out", out) == 0
    qrs = _qr(out)
    from kiosk.cache.mirror import open_current

    m = open_current(home)
    c = m.info.profile["complaints"]
    m.close()
    # the demo group's QR code has expired (7 days): platform, official account, viewer
    assert sorted(qrs) == sorted([c["platform_url"], c["wechat_official_account_url"], c["viewer_url"]])


def test_slip_text(demo_home):
    from kiosk.cache.mirror import open_current
    from kiosk.devices.printer import SimulatedPrinter, print_receipt

    m = open_current(demo_home)
    sim = SimulatedPrinter("xprinter80")
    assert print_receipt(complaints.slip(complaints.channels(PROFILE, m.info, today=dt.date(2026, 12, 1)), m.info),
                         "xprinter80", sim).ok
    text = "\n".join(sim.text_lines())
    m.close()
    assert "12388" in text and "白马镇纪委" in text and "涟源市纪委监委" in text and "刘秀英" in text
    assert len(decode(sim.render())) == 4


@pytest.mark.parametrize("patch, defect", [
    ({"platform_url": "jiandu.example.org"}, "complaints.platform_url: not an http(s):// address"),
    ({"viewer_url": "https://x/" + "a" * 300}, "complaints.viewer_url: longer than 300"),
    ({"wechat_official_account": " "}, "complaints.wechat_official_account: must be a non-empty string"),
    ({"hotline": "12388 ext"}, "complaints.hotline: not a phone number"),
    ({"village_group": {"name": "群", "qr_url": "https://x/g"}}, "qr_url and qr_expires_on go together"),
    ({"village_group": {"name": "群", "qr_url": "https://x/g", "qr_expires_on": "2026-13-01"}},
     "complaints.village_group.qr_expires_on: not a date"),
    ({"county_discipline_office": {"phone": "0738-1"}}, "complaints.county_discipline_office.name: must be a non-empty string"),
    ({"received": 2, "handled": 3}, "complaints.handled: more than received"),
    ({"received": -1}, "complaints.received: must be a whole number"),
])
def test_each_bad_complaint_field_is_one_line(patch, defect):
    v = {"complaints": {**PROFILE["complaints"], **patch}, "discipline_office": PROFILE["discipline_office"]}
    got = complaints.validate(v)
    assert len(got) == 1 and defect in got[0] and got[0].startswith("village.json: ")


def test_several_defects_one_line_each_and_absent_fields_pass(tmp_path, small_src):
    assert complaints.validate({}) == [] and complaints.validate({"complaints": {}}) == []
    from kiosk.records import SourceError, load_source

    src = tmp_path / "src"
    shutil.copytree(small_src, src)
    v = json.loads((src / "village.json").read_text())
    v["complaints"]["platform_url"] = "ftp://x"
    v["complaints"]["hotline"] = "?"
    (src / "village.json").write_text(json.dumps(v, ensure_ascii=False))
    with pytest.raises(SourceError) as e:
        load_source(src)
    lines = e.value.message.splitlines()
    assert len(lines) == 2 and "platform_url" in lines[0] and "hotline" in lines[1]
