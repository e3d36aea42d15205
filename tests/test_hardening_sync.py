"""HTTP sync against a hostile or private server (issue 16): a server trickling bytes no
longer holds background updates for good (a per-run deadline and a minimum rate), and a
county may keep its tree behind basic auth or a client certificate."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_cli
from http_faults import FaultServer, make_pki, server_tls

from kiosk.cache import install as I
from kiosk.cache import sync
from kiosk.county.publish import publish
from kiosk.errors import Exit

SCOPE = "431382111249"


@pytest.fixture()
def tree(tmp_path, small_bundle) -> Path:
    root = tmp_path / "www"
    publish(small_bundle, root)
    return root


def _config(home: Path, **sync_cfg) -> None:
    timeouts = sync_cfg.pop("timeouts", {})
    (home / "config.json").write_text(json.dumps({"scope": SCOPE, "sync": {"retries": 0, "backoff": 0, **sync_cfg},
                                                  "timeouts": timeouts}))


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_a_trickling_server_is_given_up_and_the_part_resumes(home, tree, capsys):
    _config(home, min_bytes_per_s=20000, timeouts={"sync_rate_window": 0.5})
    with FaultServer(tree, trickle_bps=100) as srv:
        assert run_cli("sync", srv.url, "--quiet") == Exit.NETWORK
    err = _err(capsys)
    assert "sync too slow" in err and "below the minimum 20000" in err and "传输过慢" in err
    assert I.read_state(home).get("current") is None
    part = next((home / "downloads").rglob("*.part"))
    assert part.stat().st_size > 0  # kept for the next run
    _config(home)
    with FaultServer(tree) as srv:
        assert run_cli("sync", srv.url, "--quiet") == 0
    assert I.read_state(home)["highest_seq"] == 1


def test_a_run_stops_at_its_deadline(home, tree, capsys):
    _config(home, min_bytes_per_s=0, timeouts={"sync_run_deadline": 0.5})
    with FaultServer(tree, trickle_bps=2000) as srv:
        assert run_cli("sync", srv.url, "--quiet") == Exit.NETWORK
    err = _err(capsys)
    assert "sync stopped after its deadline" in err
    assert "下载超时" in err


def test_the_budget_counts_a_window_of_bytes():
    t = [0.0]
    b = sync.Budget(100, min_rate=10, window_s=4, clock=lambda: t[0])
    for i in range(1, 20):  # 12 bytes/s: fine
        t[0] = float(i)
        b.check(12 * i)
    t[0] = 30.0
    with pytest.raises(sync.SyncStopped, match="too slow"):
        b.check(12 * 19 + 5)  # 5 bytes in the last 11 s
    late = sync.Budget(100, 0, 0, clock=iter([0.0, 99.0, 101.0]).__next__)
    late.check(0)
    with pytest.raises(sync.SyncStopped, match="deadline of 100 s"):
        late.check(0)


def test_basic_auth(home, tree, tmp_path, capsys):
    with FaultServer(tree, auth=("kiosk-431382111249", "s3cret pass")) as srv:
        _config(home)
        assert run_cli("sync", srv.url, "--quiet") == Exit.NETWORK
        assert "HTTP 401: the server refuses this kiosk" in _err(capsys)
        (home / "sync-password").write_text("s3cret pass\n")
        _config(home, username="kiosk-431382111249", password_file="sync-password")
        assert run_cli("sync", srv.url, "--quiet") == 0
    assert I.read_state(home)["highest_seq"] == 1


def test_client_certificate(home, tree, tmp_path, capsys):
    pki = make_pki(tmp_path / "pki")
    with FaultServer(tree, tls=server_tls(pki)) as srv:
        _config(home, ca_file=str(pki["ca"]))
        assert run_cli("sync", srv.url, "--quiet") == Exit.NETWORK  # no client certificate
        assert "cannot fetch" in _err(capsys)
        _config(home, ca_file=str(pki["ca"]), client_cert=str(pki["client_cert"]), client_key=str(pki["client_key"]))
        assert run_cli("sync", srv.url, "--quiet") == 0
    assert I.read_state(home)["highest_seq"] == 1


def test_a_missing_credential_file_is_one_line(home, capsys):
    _config(home, username="k", password_file="nowhere")
    assert run_cli("sync", "http://127.0.0.1:9/", "--quiet") == Exit.NETWORK
    assert "sync.password_file" in _err(capsys)
