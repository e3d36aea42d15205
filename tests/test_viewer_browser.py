"""The phone viewer in a real headless Chromium (Debian's chromium + chromium-driver, selenium) at a
390×844 phone viewport, reading the published demo village from a local nginx: every section,
a receipt's QR code (decoded with pyzbar from the simulated printer's PNG) opening its record at
the printed version with the notice of a newer one, refusal of a tampered chunk, manifest or
signature, and the same pages over a throttled link. One browser and one nginx per module."""
from __future__ import annotations

import json
import shutil
import sqlite3
import time

import pytest
from PIL import Image
from pyzbar.pyzbar import decode

from conftest import build_bundle, run_cli
from nginx_server import Nginx
from viewer_browser import Throttle, browser, fresh, go, open_page, publish, text, wait

from kiosk import viewer
from kiosk.county import public

VILLAGE = "431382111249"
FAILED = "数据校验失败，请勿采信"

pytestmark = pytest.mark.skipif(not viewer.built(), reason="phone viewer not built (make viewer)")


@pytest.fixture(scope="module")
def changed_id(demo_source):
    """A finance line whose summary and amount change in version 2."""
    return json.loads((demo_source / "finance.jsonl").read_text(encoding="utf-8").splitlines()[5])["id"]


@pytest.fixture(scope="module")
def bundle_v2(tmp_path_factory, demo_source, demo_bundle, test_key, changed_id):
    src = tmp_path_factory.mktemp("src2") / "src"
    shutil.copytree(demo_source, src)
    lines = (src / "finance.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for ln in lines:
        r = json.loads(ln)
        if r["id"] == changed_id:
            r["summary"] = r["summary"] + "（更正）"
            r["attachments"] = r["attachments"] + 1
        out.append(json.dumps(r, ensure_ascii=False))
    (src / "finance.jsonl").write_text("\n".join(out) + "\n", encoding="utf-8")
    b = tmp_path_factory.mktemp("b2") / "bundle"
    assert run_cli("bundle", "build", src, "--key", test_key / "signing.key", "--seq", 2, "--out", b,
                   "--previous", demo_bundle / "manifest.json", "--id-hash-n", 1024, "--quiet") == 0
    return b


@pytest.fixture(scope="module")
def site(tmp_path_factory, demo_bundle, bundle_v2, test_key):
    """nginx serving /ok/ (versions 1 and 2), /v1/ (version 1 only) and three tampered copies."""
    n = Nginx(tmp_path_factory.mktemp("nginx"))
    (n.root).mkdir(parents=True, exist_ok=True)
    publish([demo_bundle, bundle_v2], n.root / "ok", test_key / "signing.pub")
    publish([demo_bundle], n.root / "v1", test_key / "signing.pub")
    for name in ("chunk", "manifest", "signature"):
        shutil.copytree(n.root / "v1", n.root / name)
    s = n.root / "chunk" / VILLAGE / "v000001"
    # one byte in every leaf page of the finance table: the home page still verifies, a finance
    # record cannot
    db = s / public.DATABASE
    con = sqlite3.connect(f"file:{demo_bundle / public.DATABASE}?mode=ro", uri=True)
    pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'finance' AND pagetype = 'leaf'")]
    con.close()
    raw = bytearray(db.read_bytes())
    for p in pages:
        raw[(p - 1) * public.CHUNK + 2000] ^= 0x01
    db.write_bytes(bytes(raw))
    m = n.root / "manifest" / VILLAGE / "latest" / "manifest.json"
    m.write_bytes(m.read_bytes().replace(b'"data_as_of": "', b'"data_as_of":  "', 1))
    sig = n.root / "signature" / VILLAGE / "latest" / "manifest.sig"
    sig.write_bytes(bytes([sig.read_bytes()[0] ^ 1]) + sig.read_bytes()[1:])
    with n:
        yield n


@pytest.fixture(scope="module")
def d(site):
    drv = browser()
    yield drv
    drv.quit()


@pytest.fixture()
def phone(d):
    fresh(d)
    return d


def footer(seq, fp):
    return f"第{seq}版 · 指纹 {fp}"


def fp_of(bundle):
    from kiosk.cache.bundle import fingerprint

    return fingerprint((bundle / "manifest.json").read_bytes())


def test_browses_every_section(phone, site, bundle_v2):
    d = phone
    base = f"{site.url}/ok/{VILLAGE}/"
    assert open_page(d, base) == "ready:#/"
    assert "洪泉村" in text(d, "h1") and footer(2, fp_of(bundle_v2)) in text(d, "#footer")
    seen = {}
    for sec, want in [("finance", "结余"), ("projects", "立项"), ("assets", "资产"), ("services", "*"),
                      ("powers", "重大决策"), ("flags", "按规定需经四议两公开"), ("complaints", "12388"), ("about", fp_of(bundle_v2))]:
        go(d, base + "#/" + sec)
        body = text(d, "#main")
        assert want in body, (sec, body[:200])
        assert footer(2, fp_of(bundle_v2)) in text(d, "#footer")
        items = d.find_elements("css selector", "a.item")
        seen[sec] = len(items)
        if items and sec in ("finance", "projects", "assets", "services", "powers"):
            go(d, items[0].get_attribute("href"))
            rec = text(d, "#record")
            assert rec and FAILED not in rec
            if sec == "projects":
                assert "项目进度" in rec and "立项" in rec
            if sec == "powers":
                assert d.find_elements("css selector", "#flow .box.start") and "↓" in text(d, "#flow")
            if sec == "finance":
                assert "凭证号" in rec and "大写" not in rec and "元" in rec
            if sec == "services":
                assert "申请人" in rec and "*" in rec  # masked on the web as on the kiosk
    assert all(seen[s] > 0 for s in ("finance", "projects", "assets", "services", "powers"))
    # finance by year and month: the chips lead to a month with its totals and lines
    go(d, base + "#/finance/2025/3")
    assert "2025年3月 共" in text(d, ".totals") and d.find_elements("css selector", "a.item")
    assert "on" in d.find_element("css selector", "#m-3").get_attribute("class")
    # nothing personal is on the web: no payments table, no applicant keys
    assert "到户资金" not in text(d, "#main")


def test_receipt_qr_opens_the_printed_version_and_names_the_newer_one(phone, site, demo_home, tmp_path,
                                                                        monkeypatch, changed_id, bundle_v2):
    d = phone
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)  # the kiosk shows version 1
    monkeypatch.setenv("KIOSK_HOME", str(home))
    (home / "config.json").write_text(json.dumps({"viewer": {"base_url": f"{site.url}/ok"}}))
    png = tmp_path / "receipt.png"
    assert run_cli("print", "finance", changed_id, "--out", png) == 0
    [url] = [x.data.decode() for x in decode(Image.open(png))]
    assert url.startswith(f"{site.url}/ok/{VILLAGE}/#/r/finance/{changed_id}?v=1&fp=")
    assert open_page(d, url) == f"ready:#{url.split('#', 1)[1]}"
    rec = text(d, "#record")
    assert "（更正）" not in rec and changed_id and "凭证号" in rec
    assert "第1版" in text(d, "#footer")
    wait(d, lambda d: d.execute_script("return document.body.getAttribute('data-notice')") == "2")
    notice = text(d, "#notice")
    assert "此记录已有更新版本（第2版）" in notice
    diff = text(d, "#diff")
    assert "摘要" in diff and "（更正）" in diff and "附件" in diff and "2 处变化" in notice
    # an unchanged record says so
    from kiosk.cache.mirror import open_current

    m = open_current(home)
    other = m.project_get(m.projects_page(limit=1).rows[0]["id"])
    m.close()
    q = url.split("?", 1)[1]
    assert open_page(d, f"{site.url}/ok/{VILLAGE}/#/r/project/{other['id']}?{q}").startswith("ready:")
    wait(d, lambda d: d.find_elements("css selector", "#same"))
    assert "第2版中这条记录内容未变" in text(d, "#notice")


def test_wrong_key_or_fingerprint_on_the_receipt_is_refused(phone, site):
    d = phone
    base = f"{site.url}/v1/{VILLAGE}/#/r/finance/x?v=1"
    assert open_page(d, base + "&k=0000000000000000") == "failed"
    assert FAILED in text(d) and not d.find_elements("css selector", "#footer")
    fresh(d)
    assert open_page(d, base + "&fp=00000000") == "failed"


@pytest.mark.parametrize("tree", ["manifest", "signature"])
def test_tampered_manifest_or_signature_shows_no_data(phone, site, tree):
    d = phone
    assert open_page(d, f"{site.url}/{tree}/{VILLAGE}/") == "failed"
    body = text(d)
    assert FAILED in body and "洪泉村" not in body and "数据更新至" not in body


def test_tampered_database_chunk_shows_no_data(phone, site, changed_id):
    d = phone
    base = f"{site.url}/chunk/{VILLAGE}/"
    assert open_page(d, base) == "ready:#/"  # page 1 and the villages table are intact
    assert go(d, base + f"#/r/finance/{changed_id}") == "failed"
    body = text(d)
    assert FAILED in body and "凭证号" not in body and "数据更新至" not in body
    assert "database chunk" in body
    # and nothing afterwards: navigating on shows the failure, not data
    d.execute_script("location.hash = '#/projects'")
    assert FAILED in text(d) and not d.find_elements("css selector", "a.item")


def test_record_over_a_slow_link(phone, site, changed_id):
    """1.6 Mbit/s, 150 ms latency (Chromium's network throttling): the record still opens, from a
    few chunks, not the whole database. Time and bytes are printed (kiosk bench figures them)."""
    d = phone
    slow = Throttle(d)
    url = f"{site.url}/v1/{VILLAGE}/#/r/finance/{changed_id}?v=1"
    site.clear_log()
    t = time.monotonic()
    assert open_page(d, url, timeout=60) == f"ready:#{url.split('#', 1)[1]}"
    took = time.monotonic() - t
    slow.close()
    assert "worker" in slow.workers  # the worker's requests were throttled too
    log = site.log()
    data = sum(ln.bytes_sent for ln in log if f"/{VILLAGE}/" in ln.path and not ln.path.endswith(".html")
               and not ln.path.endswith("/"))
    db_bytes = sum(ln.bytes_sent for ln in log if ln.path.endswith("public.sqlite"))
    size = (site.root / "v1" / VILLAGE / "v000001" / public.DATABASE).stat().st_size
    print(f"\nslow link: record shown after {took:.2f} s; data {data} B (database {db_bytes} of {size} B, "
          f"{sum(ln.path.endswith('public.sqlite') for ln in log)} ranges), all {sum(ln.bytes_sent for ln in log)} B")
    assert "凭证号" in text(d, "#record")
    assert all(ln.status == 206 for ln in log if ln.path.endswith("public.sqlite"))
    assert 0 < db_bytes < size / 4
