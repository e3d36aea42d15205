"""``scope`` in config.json pointing at a neighbour no longer lets the neighbour's bundle
install (issue 16): a scope change after the first install needs the technician PIN and is
recorded like a key change."""
from __future__ import annotations

import io
import json

import pytest
from conftest import build_bundle, run_cli, tree_digest
from sourcekit import small_source, write_source

from kiosk.cache import install as I
from kiosk.cache import trustlog
from kiosk.errors import Exit

HOME_VILLAGE, NEIGHBOUR = "431382111249", "431382111202"
PIN = "135790"


@pytest.fixture(scope="module")
def neighbour_bundles(tmp_path_factory, test_key):
    d = small_source()
    d["village"]["code"] = NEIGHBOUR
    src = write_source(tmp_path_factory.mktemp("nsrc") / "src", d)
    root = tmp_path_factory.mktemp("nb")
    return [build_bundle(src, test_key, seq, root / f"b{seq}") for seq in (1, 2)]


@pytest.fixture(scope="module")
def home_b2(tmp_path_factory, small_src, test_key):
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("hb2") / "b2")


def _stdin(monkeypatch, *lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{x}\n" for x in lines)))


def test_config_scope_alone_cannot_move_the_kiosk(home, small_bundle, neighbour_bundles, monkeypatch, capsys):
    assert run_cli("import", small_bundle) == 0
    (home / "config.json").write_text(json.dumps({"scope": NEIGHBOUR}))
    capsys.readouterr()
    before = tree_digest(home)
    assert run_cli("import", neighbour_bundles[1]) == Exit.BUNDLE  # 第2版: newer than the kiosk's 第1版
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"config.json scope {NEIGHBOUR} differs from this kiosk's scope {HOME_VILLAGE}" in err
    assert tree_digest(home) == before and I.read_state(home)["scope"] == HOME_VILLAGE
    # nor over HTTP: refused before anything is fetched
    assert run_cli("sync", "http://127.0.0.1:9/") == Exit.BUNDLE
    assert "needs the technician PIN" in capsys.readouterr().err


def test_scope_change_with_the_pin_is_recorded_until_confirmed(home, small_bundle, home_b2, neighbour_bundles,
                                                               test_key, tmp_path, monkeypatch, capsys):
    _stdin(monkeypatch, PIN)
    assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    assert run_cli("import", small_bundle) == 0 and run_cli("import", home_b2) == 0
    (home / "config.json").write_text(json.dumps({"scope": HOME_VILLAGE, "stale_after_days": 40}))
    _stdin(monkeypatch, "000000")
    assert run_cli("scope", NEIGHBOUR, "--pin-stdin") == Exit.PIN  # a wrong PIN changes nothing
    assert I.recorded_scope(home) == HOME_VILLAGE and trustlog.events(home) == []
    _stdin(monkeypatch, PIN)
    assert run_cli("scope", NEIGHBOUR, "--pin-stdin") == 0
    assert json.loads((home / "config.json").read_text()) == {"scope": NEIGHBOUR, "stale_after_days": 40}
    ev = trustlog.events(home)
    assert [(e.event, e.detail, e.confirmed) for e in ev] == [("scope_changed", f"{HOME_VILLAGE}→{NEIGHBOUR}", False)]
    assert "经技术人员密码更改本机所属地区" in ev[0].line_zh
    assert trustlog.public_notice(home).endswith("起本机所属地区被更改，尚未经县平台签名确认")
    # the old village's data is kept as evidence, nothing is shown until the new one is imported
    assert I.read_state(home)["current"] is None and list((home / "mirror-retired").iterdir())
    assert run_cli("import", neighbour_bundles[1]) == 0
    assert I.read_state(home)["scope"] == NEIGHBOUR and I.read_state(home)["highest_seq"] == 2
    assert run_cli("import", neighbour_bundles[0]) == Exit.BUNDLE  # its own high-water mark holds
    # going back to the first village: its mark was kept, so its old bundle stays refused
    _stdin(monkeypatch, PIN)
    assert run_cli("scope", HOME_VILLAGE, "--pin-stdin") == 0
    capsys.readouterr()
    assert run_cli("import", small_bundle) == Exit.BUNDLE
    assert "is not newer than 2" in capsys.readouterr().err
    # a county-signed key list confirms the changes
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", test_key / "signing.pub", "--key", test_key / "signing.key", "--seq", 1,
                   "--out", kl) == 0
    assert run_cli("trust", "--rotate", kl) == 0
    assert trustlog.public_notice(home) is None


def test_scope_without_a_code_shows_it(home, small_bundle, capsys):
    assert run_cli("import", small_bundle) == 0
    capsys.readouterr()
    assert run_cli("scope") == 0
    assert capsys.readouterr().out.strip() == f"scope {HOME_VILLAGE}"
