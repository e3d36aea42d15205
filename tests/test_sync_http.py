"""HTTP sync against a real nginx on 127.0.0.1 (tests/nginx_server.py)."""
from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest

from kiosk.errors import Exit

from conftest import build_bundle, run_cli, tree_digest
from nginx_server import CuttingProxy, Nginx, free_port
from kiosk.cache import bundle as B
from kiosk.cache import install as I
from kiosk.cache import sync
from kiosk.county.publish import publish
from kiosk.cache.safecache import open_cache
from kiosk.services.events import ImportProgress, SyncDone
from kiosk.services.updates import RETRY_FIRST_S, UpdateService, last_sync, next_due
from recorder import Recorder

SCOPE = "431382111249"
DB = B.DB_PATH


@pytest.fixture()
def nginx(tmp_path):
    with Nginx(tmp_path / "nginx") as n:
        yield n


@pytest.fixture()
def kiosk(home):
    """KIOSK_HOME with quick retries (no backoff sleeps in tests)."""
    (home / "config.json").write_text(json.dumps({"sync": {"retries": 1, "backoff": 0}}))
    return home


@pytest.fixture(scope="session")
def small_bundle2(tmp_path_factory, small_src, test_key) -> Path:
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("b2") / "bundle")


def data_lines(n: Nginx):
    return [ln for ln in n.log() if ln.path.endswith("/data/village.sqlite")]


def installed_seq(home: Path) -> int | None:
    return I.read_state(home).get("highest_seq")


def test_publish_layout(tmp_path, small_bundle, small_bundle2):
    root = tmp_path / "www"
    v1 = publish(small_bundle, root)
    assert v1 == root / SCOPE / "v000001"
    assert (root / SCOPE / "latest" / "manifest.json").read_bytes() == (small_bundle / "manifest.json").read_bytes()
    publish(small_bundle2, root)
    publish(small_bundle, root)  # republishing an older one does not move latest back
    assert json.loads((root / SCOPE / "latest" / "manifest.json").read_text())["seq"] == 2
    idx = json.loads((root / "index.json").read_text())
    assert idx["scopes"][SCOPE]["latest_seq"] == 2
    assert idx["scopes"][SCOPE]["versions"] == ["v000001", "v000002"]
    assert sorted(p.name for p in (root / SCOPE).iterdir()) == ["latest", "v000001", "v000002"]


def listed_bytes(bundle: Path) -> int:
    """Bytes of every file the manifest lists (the kiosk database and the public files)."""
    return sum(f["size"] for f in json.loads((bundle / "manifest.json").read_bytes())["files"])


def test_first_sync_installs_then_unchanged_downloads_nothing(nginx, kiosk, small_bundle):
    publish(small_bundle, nginx.root)
    size = (small_bundle / DB).stat().st_size
    res = sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert res.status == "installed" and res.install.new_seq == 1 and res.downloaded == listed_bytes(small_bundle)
    assert [(ln.status, ln.bytes_sent) for ln in data_lines(nginx)] == [(200, size)]
    nginx.clear_log()

    res = sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert res.status == "unchanged" and res.downloaded == 0
    log = nginx.log()
    assert len(log) == 1, log
    assert log[0].path == f"/{SCOPE}/latest/manifest.json" and log[0].status == 304
    assert log[0].if_none_match.startswith('"')  # the ETag nginx gave the first time
    assert not (kiosk / "downloads" / SCOPE).exists()


def test_newer_version_is_installed_and_cli(nginx, kiosk, small_bundle, small_bundle2, capsys):
    publish(small_bundle, nginx.root)
    assert run_cli("sync", nginx.url, "--quiet") == Exit.NETWORK  # no scope yet: refuses, one clear line
    assert "本终端尚未设定所属村" in capsys.readouterr().err
    assert run_cli("sync", nginx.url, "--scope", SCOPE, "--quiet") == 0
    publish(small_bundle2, nginx.root)
    assert run_cli("sync", nginx.url, "--quiet") == 0
    assert "installed 第2版 (was 第1版)" in capsys.readouterr().out
    assert installed_seq(kiosk) == 2
    rec = last_sync(kiosk)
    assert rec["ok"] and rec["status"] == "installed" and rec["seq"] == 2 and "第1版 → 第2版" in rec["message_zh"]


def test_server_version_not_newer_downloads_no_data(nginx, kiosk, small_bundle, small_bundle2):
    assert run_cli("import", small_bundle2) == 0
    publish(small_bundle, nginx.root)
    res = sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert (res.status, res.seq) == ("not_newer", 1)
    assert data_lines(nginx) == []
    assert installed_seq(kiosk) == 2


def test_connection_dropped_mid_file_is_resumed(nginx, kiosk, demo_bundle):
    """The proxy resets the connection after 1.5 MB; the client resumes with Range +
    If-Range and nginx's log shows about one file's worth of bytes, not two."""
    publish(demo_bundle, nginx.root)
    size = (demo_bundle / DB).stat().st_size
    assert size > 3_000_000
    proxy = CuttingProxy(nginx.port, cut_after=1_500_000)
    try:
        res = sync.sync(proxy.url, kiosk, scope=SCOPE)
    finally:
        proxy.close()
    assert proxy.cuts == 1
    assert res.status == "installed" and res.install.new_seq == 1
    lines = data_lines(nginx)
    assert [ln.status for ln in lines] == [200, 206], lines
    first, second = lines
    offset = int(second.range.removeprefix("bytes=").rstrip("-"))
    assert 1_000_000 < offset <= 1_500_000
    assert second.if_range.startswith('"') and second.bytes_sent == size - offset
    sent = first.bytes_sent + second.bytes_sent
    print(f"file {size} bytes; nginx sent {first.bytes_sent} + {second.bytes_sent} = {sent}")
    assert size <= sent < 1.1 * size
    assert res.downloaded == listed_bytes(demo_bundle)


def test_interrupted_sync_resumes_on_next_run(nginx, kiosk, demo_bundle):
    """A sync killed mid-file (power cut) leaves a .part and its validator; the next run
    asks only for the rest."""
    publish(demo_bundle, nginx.root)
    size = (demo_bundle / DB).stat().st_size

    class PowerCut(Exception):
        pass

    def cut(phase, done, total):
        if phase == "download" and done >= 1_000_000:
            raise PowerCut()

    with pytest.raises(PowerCut):
        sync.sync(nginx.url, kiosk, scope=SCOPE, progress=cut)
    part = kiosk / "downloads" / SCOPE / "v000001" / "data" / "village.sqlite.part"
    have = part.stat().st_size
    assert have >= 1_000_000
    assert installed_seq(kiosk) is None
    res = sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert res.status == "installed" and res.resumed_from == have and res.downloaded == listed_bytes(demo_bundle) - have
    last = data_lines(nginx)[-1]
    assert (last.status, last.range, last.bytes_sent) == (206, f"bytes={have}-", size - have)


def test_tampered_file_on_server_is_refused(nginx, kiosk, small_bundle):
    publish(small_bundle, nginx.root)
    db = nginx.root / SCOPE / "v000001" / DB
    raw = bytearray(db.read_bytes())
    raw[-100] ^= 0xFF  # same size, different bytes
    db.write_bytes(bytes(raw))
    before = tree_digest(kiosk)
    with pytest.raises(B.BundleError) as ei:
        sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert "校验值不符" in ei.value.message_zh
    assert installed_seq(kiosk) is None
    assert not (kiosk / "mirror").exists()
    assert not (kiosk / "downloads" / SCOPE).exists()  # refused bytes are never resumed
    assert tree_digest(kiosk / "trust") and before  # trust store untouched
    assert len(data_lines(nginx)) == 1


def test_tampered_manifest_is_refused_before_any_data(nginx, kiosk, small_bundle):
    publish(small_bundle, nginx.root)
    m = nginx.root / SCOPE / "latest" / "manifest.json"
    m.write_text(m.read_text().replace('"seq": 1', '"seq": 99'))
    with pytest.raises(B.BundleError) as ei:
        sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert "签名验证失败" in ei.value.message_zh
    assert data_lines(nginx) == []


def test_file_larger_than_manifest_is_not_downloaded(nginx, kiosk, small_bundle):
    publish(small_bundle, nginx.root)
    db = nginx.root / SCOPE / "v000001" / DB
    with open(db, "ab") as f:
        f.write(b"\0" * 500_000)
    with pytest.raises(sync.SyncError) as ei:
        sync.sync(nginx.url, kiosk, scope=SCOPE)
    assert "比清单所列更大" in ei.value.message_zh
    assert not list((kiosk / "downloads").rglob("*.part"))
    assert installed_seq(kiosk) is None


def test_server_down_then_clean_retry_later(tmp_path, kiosk, small_bundle, small_bundle2):
    assert run_cli("import", small_bundle) == 0  # the kiosk's scope comes from its data
    port = free_port()
    cfg = {"sync": {"base_url": f"http://127.0.0.1:{port}", "every_hours": 6, "retries": 1, "backoff": 0},
           "timeouts": {"http_connect": 2, "http_read": 5}}
    (kiosk / "config.json").write_text(json.dumps(cfg))
    now = [1_000_000.0]
    rec_ = Recorder()
    svc = UpdateService(rec_.bus, kiosk, watch_sticks=False, clock=lambda: now[0])
    assert svc.sync_due()
    svc.tick().join(30)
    rec = last_sync(kiosk)
    assert rec["ok"] is False and rec["failures"] == 1 and "无法连接更新服务器" in rec["message_zh"]
    assert installed_seq(kiosk) == 1
    assert isinstance(rec_.events[-1], SyncDone) and not rec_.events[-1].installed and not svc.syncing
    assert next_due(rec, 6) == now[0] + RETRY_FIRST_S
    assert svc.tick() is None  # not yet due

    n = Nginx(tmp_path / "nginx2")
    n.port = port
    with n:
        publish(small_bundle2, n.root)
        now[0] += RETRY_FIRST_S + 1
        svc.tick().join(30)
    rec = last_sync(kiosk)
    assert rec["ok"] and rec["status"] == "installed" and rec["failures"] == 0
    assert installed_seq(kiosk) == 2
    assert next_due(rec, 6) == now[0] + 6 * 3600
    assert rec_.last(SyncDone).installed and rec_.last(SyncDone).record["status"] == "installed"
    pcts = [e.percent for e in rec_.of(ImportProgress) if e.source == "sync"]
    assert pcts and pcts[-1] == 100 and pcts == sorted(pcts)


def test_partial_state_lives_in_the_safe_cache(nginx, kiosk, small_bundle):
    publish(small_bundle, nginx.root)
    sync.sync(nginx.url, kiosk, scope=SCOPE)
    c = open_cache(kiosk, "sync")
    try:
        key = f"manifest:{nginx.url}/{SCOPE}/latest/manifest.json"
        assert c.get(key)["etag"].startswith('"')
        assert not [k for k in c.iterkeys() if str(k).startswith("part:")]  # finished: no partial state left
    finally:
        c.close()
