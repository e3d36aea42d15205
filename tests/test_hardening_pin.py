"""The technician PIN under attack (issue 16, "The technician PIN"): parallel guesses, a
lock-out switched off in config.json, readable hash files, and a deleted PIN file used to
trust a new key without anyone seeing it."""
from __future__ import annotations

import io
import json
import multiprocessing
import os
import stat
from pathlib import Path

import pytest
from conftest import run_cli

from kiosk.cache import highwater, pin, trustlog
from kiosk.errors import Exit

GOOD, WRONG = "135790", "000000"
MIN_LOCKOUT = 60  # seconds: the shortest lock-out, whatever config.json says (README)


def _try_once(home: str, barrier, out) -> None:  # in a child process
    barrier.wait(30)
    try:
        out.put("right" if pin.check("technician", WRONG, Path(home)) else "wrong")
    except pin.PinLocked:
        out.put("locked")


def test_parallel_wrong_tries_are_counted_one_by_one(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    ctx = multiprocessing.get_context("fork")
    n = 20
    barrier, out = ctx.Barrier(n), ctx.Queue()
    procs = [ctx.Process(target=_try_once, args=(str(tmp_path), barrier, out)) for _ in range(n)]
    for p in procs:
        p.start()
    results = sorted(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(30)
    # exactly MAX_TRIES guesses were compared; every other one met the lock
    assert results.count("wrong") == pin.MAX_TRIES and results.count("locked") == n - pin.MAX_TRIES
    rec = json.loads((tmp_path / "trust/pin-lock.json").read_text())["technician"]
    assert rec["failures"] == pin.MAX_TRIES and rec["locked_until"] > rec["locked_at"]


@pytest.mark.parametrize("lockout", [0, 1, 0.5])
def test_config_cannot_switch_the_lock_out_off(tmp_path, lockout):
    (tmp_path / "config.json").write_text(json.dumps({"timeouts": {"technician_pin_lockout": lockout}}))
    pin.set_pin("technician", GOOD, home=tmp_path)
    t = [1_000_000.0]
    for _ in range(pin.MAX_TRIES):
        assert pin.check("technician", WRONG, tmp_path, now=lambda: t[0]) is False
    t[0] += MIN_LOCKOUT - 1  # still locked a minute later, whatever config.json says
    with pytest.raises(pin.PinLocked) as ei:
        pin.check("technician", GOOD, tmp_path, now=lambda: t[0])
    assert ei.value.seconds == 1
    t[0] += 1
    assert pin.check("technician", GOOD, tmp_path, now=lambda: t[0]) is True
    assert pin.MIN_LOCKOUT == MIN_LOCKOUT


@pytest.mark.parametrize("config", [
    {"timeouts": {"technician_pin_lockout": "abc"}},
    {"timeouts": 5},
    {"timeouts": {"technician_pin_lockout": True}},
    {"timeouts": {"technician_pin_lockout": -300}},
])
def test_malformed_lockout_is_one_line(tmp_path, monkeypatch, capsys, config):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    pin.set_pin("technician", GOOD, home=tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    monkeypatch.setattr("sys.stdin", io.StringIO(WRONG + "\n"))
    assert run_cli("pin", "check", "technician", "--pin-stdin") == Exit.CONFIG
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "timeouts" in err and "终端配置文件" in err, err


def test_pin_files_are_readable_by_the_kiosk_user_only(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    pin.check("technician", WRONG, tmp_path)
    for f in ("pins.json", "pin-lock.json"):
        assert stat.S_IMODE((tmp_path / "trust" / f).stat().st_mode) == 0o600, f
    # files left world-readable by an older version are closed at the next try
    for f in ("pins.json", "pin-lock.json"):
        os.chmod(tmp_path / "trust" / f, 0o644)
    assert pin.check("technician", GOOD, tmp_path) is True
    for f in ("pins.json", "pin-lock.json"):
        assert stat.S_IMODE((tmp_path / "trust" / f).stat().st_mode) == 0o600, f


def _stdin(monkeypatch, *lines: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))


def test_deleted_pin_file_reset_and_new_key_are_recorded_until_a_signed_key_list(
        home, small_bundle, test_key, other_test_key, tmp_path, monkeypatch, capsys):
    _stdin(monkeypatch, GOOD)
    assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    assert trustlog.public_notice(home) is None and trustlog.events(home) == []
    assert run_cli("import", small_bundle) == 0
    # the attack: delete the PIN file, set a new PIN, trust one's own key
    (home / "trust/pins.json").unlink()
    _stdin(monkeypatch, "246802")
    assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    _stdin(monkeypatch, "246802")
    assert run_cli("trust", other_test_key / "signing.pub", "--pin-stdin") == 0
    capsys.readouterr()
    ev = trustlog.events(home)
    assert sorted((e.event, e.confirmed) for e in ev) == [("key_added", False), ("pin_reset", False)]
    added = next(e for e in ev if e.event == "key_added")
    assert added.detail == run_cli_key_id(other_test_key)
    notice = trustlog.public_notice(home)
    assert notice is not None and notice.startswith("注意：本机自") and notice.endswith(
        "起技术人员密码被重设、受信任密钥被更改，尚未经县平台签名确认")
    # both high-water copies hold the record: deleting one does not hide it
    (home / "mirror/highwater.json").unlink()
    assert trustlog.public_notice(home) == notice
    assert run_cli("status") == 0
    assert notice in capsys.readouterr().out
    # the technician menu's list (here through the CLI)
    assert run_cli("trust", "--list") == 0
    out = capsys.readouterr().out
    assert "技术人员密码被重设（尚未经县平台签名确认）" in out
    assert f"经技术人员密码新增受信任密钥 {added.detail}（尚未经县平台签名确认）" in out
    # the county confirms the trusted set with a signed key list: the notice goes
    kl = tmp_path / "kl"
    assert run_cli("keylist", "build", test_key / "signing.pub", other_test_key / "signing.pub",
                   "--key", test_key / "signing.key", "--seq", 1, "--out", kl) == 0
    assert run_cli("trust", "--rotate", kl) == 0
    assert trustlog.public_notice(home) is None
    assert {(e.event, e.confirmed_by) for e in trustlog.events(home)} == {("pin_reset", 1), ("key_added", 1)}
    assert "（已由第1号密钥清单确认）" in trustlog.events(home)[0].line_zh


def run_cli_key_id(key_dir: Path) -> str:
    from kiosk.cache import keys

    return keys.key_id(keys.load_public(key_dir / "signing.pub"))


def test_changing_the_pin_with_the_old_one_is_no_reset(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    pin.set_pin("technician", "246802", current=GOOD, home=tmp_path)
    assert trustlog.events(tmp_path) == [] and "technician" in highwater.read(tmp_path)["pins"]


def test_a_pin_set_before_the_record_existed_is_noted_at_its_next_check(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    for p in highwater.paths(tmp_path):  # a kiosk from before the record
        p.unlink(missing_ok=True)
    assert pin.check("technician", GOOD, tmp_path) is True
    (tmp_path / "trust/pins.json").unlink()
    pin.set_pin("technician", "246802", home=tmp_path)
    assert [e.event for e in trustlog.events(tmp_path)] == ["pin_reset"]


def test_damaged_pin_file_never_looks_unset(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    (tmp_path / "trust/pins.json").write_text("{not json")
    assert pin.is_set("technician", tmp_path)
    with pytest.raises(pin.PinError, match="damaged"):
        pin.check("technician", GOOD, tmp_path)
    with pytest.raises(pin.PinError):
        pin.set_pin("technician", "246802", home=tmp_path)


def test_a_damaged_count_file_leaves_one_try(tmp_path):
    pin.set_pin("technician", GOOD, home=tmp_path)
    (tmp_path / "trust/pin-lock.json").write_text("garbage")
    assert pin.check("technician", WRONG, tmp_path) is False
    with pytest.raises(pin.PinLocked):
        pin.check("technician", GOOD, tmp_path)
