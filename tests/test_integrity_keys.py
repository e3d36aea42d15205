"""Key rotation by signed key list or technician PIN; the PIN's lock-out survives a restart."""
from __future__ import annotations

import io
import json
import sys

import pytest
from conftest import build_bundle, run_cli, tree_digest

from kiosk.cache import install, keys, pin


def _stdin(monkeypatch, *lines: str) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("".join(l + "\n" for l in lines)))


def _trusted(home) -> set[str]:
    return {k.key_id for k in keys.TrustStore(home).keys()}


def _kid(keydir) -> str:
    return keys.key_id(keys.load_public(keydir / "signing.pub"))


def test_keylist_rotation(home, test_key, other_test_key, small_src, tmp_path, capsys):
    kl = tmp_path / "kl1"
    assert run_cli("keylist", "build", other_test_key / "signing.pub", "--key", test_key / "signing.key",
                   "--seq", 1, "--out", kl) == 0
    doc = json.loads((kl / "keylist.json").read_bytes())
    assert doc["type"] == "cunwu-kiosk-keylist" and doc["seq"] == 1 and doc["signer_key_id"] == _kid(test_key)
    assert len((kl / "keylist.sig").read_bytes()) == 64
    assert run_cli("trust", "--rotate", kl) == 0
    assert _trusted(home) == {_kid(other_test_key)}
    # the old key is retired: its bundles are refused, the new key's accepted
    capsys.readouterr()
    assert run_cli("import", build_bundle(small_src, test_key, 1, tmp_path / "old")) != 0
    assert "trusted key" in capsys.readouterr().err
    assert run_cli("import", build_bundle(small_src, other_test_key, 1, tmp_path / "new")) == 0
    # replaying the old key list (or any not newer) is refused and changes nothing
    kl_back = tmp_path / "kl-back"
    assert run_cli("keylist", "build", test_key / "signing.pub", "--key", other_test_key / "signing.key",
                   "--seq", 1, "--out", kl_back) == 0
    before = tree_digest(home)
    assert run_cli("trust", "--rotate", kl_back) != 0
    assert "not newer" in capsys.readouterr().err and tree_digest(home) == before


def test_keylist_refusals(home, test_key, other_test_key, tmp_path, capsys):
    by_untrusted = tmp_path / "u"
    assert run_cli("keylist", "build", other_test_key / "signing.pub", "--key", other_test_key / "signing.key",
                   "--seq", 5, "--out", by_untrusted) == 0
    tampered = tmp_path / "t"
    assert run_cli("keylist", "build", test_key / "signing.pub", "--key", test_key / "signing.key",
                   "--seq", 5, "--out", tampered) == 0
    data = (tampered / "keylist.json").read_bytes().replace(b'"seq": 5', b'"seq": 6')
    (tampered / "keylist.json").write_bytes(data)
    capsys.readouterr()
    before = tree_digest(home)
    for kl, needle in ((by_untrusted, "signature"), (tampered, "signature"), (tmp_path / "none", "cannot read")):
        assert run_cli("trust", "--rotate", kl) != 0
        err = capsys.readouterr().err
        assert needle in err and err.count("\n") == 1, err
        assert tree_digest(home) == before
    assert _trusted(home) == {_kid(test_key)}


def test_technician_pin_adds_and_removes_keys(home, test_key, other_test_key, monkeypatch, capsys):
    assert run_cli("trust", other_test_key / "signing.pub") != 0  # no PIN set: refused
    assert "already trusted" in capsys.readouterr().err
    _stdin(monkeypatch, "246810")
    assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    _stdin(monkeypatch, "000000")
    assert run_cli("trust", other_test_key / "signing.pub", "--pin-stdin") != 0
    assert "wrong technician PIN (4 tries left)" in capsys.readouterr().err
    assert _trusted(home) == {_kid(test_key)}
    _stdin(monkeypatch, "246810")
    assert run_cli("trust", other_test_key / "signing.pub", "--pin-stdin") == 0
    assert _trusted(home) == {_kid(test_key), _kid(other_test_key)}
    _stdin(monkeypatch, "246810")
    assert run_cli("trust", "--remove", _kid(test_key), "--pin-stdin") == 0
    assert _trusted(home) == {_kid(other_test_key)}
    # changing the PIN needs the current one
    _stdin(monkeypatch, "111111", "135791")
    assert run_cli("pin", "set", "technician", "--pin-stdin") != 0
    _stdin(monkeypatch, "246810", "135791")
    assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    assert pin.check("technician", "135791", home)


class FakeTime:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_pin_lockout_survives_restart(home):
    clock = FakeTime(1_800_000_000.0)
    pin.set_pin("technician", "24681012", home=home, now=clock)
    stored = (home / "trust/pins.json").read_text()
    assert "24681012" not in stored and '"algo": "scrypt"' in stored and '"salt"' in stored
    assert pin.check("technician", "24681012", home, clock) is True
    for _ in range(5):
        assert pin.check("technician", "999999", home, clock) is False
    with pytest.raises(pin.PinLocked) as e:
        pin.check("technician", "24681012", home, clock)  # even the right PIN is not compared
    assert e.value.seconds == 300 and e.value.message_zh == "密码输错5次，已锁定，请5分00秒后再试"
    # "power cycle": nothing in memory matters, the lock is on disk
    lock = json.loads((home / "trust/pin-lock.json").read_text())["technician"]
    assert lock["failures"] == 5 and lock["locked_until"] == clock.t + 300
    clock.t += 200
    with pytest.raises(pin.PinLocked) as e:
        pin.check("technician", "24681012", home, clock)
    assert e.value.seconds == 100
    assert pin.seconds_locked("technician", home, clock) == 100
    clock.t += 100
    assert pin.check("technician", "24681012", home, clock) is True
    assert pin.check("technician", "999999", home, clock) is False  # a fresh set of 5 tries
    assert pin.check("technician", "24681012", home, clock) is True


def test_pin_lock_restarts_when_clock_set_back(home):
    clock = FakeTime(1_800_000_000.0)
    pin.set_pin("technician", "246810", home=home, now=clock)
    for _ in range(5):
        pin.check("technician", "000000", home, clock)
    clock.t -= 86400 * 365  # RTC reset or clock moved back
    with pytest.raises(pin.PinLocked) as e:
        pin.check("technician", "246810", home, clock)
    assert e.value.seconds == 300
    clock.t += 301
    assert pin.check("technician", "246810", home, clock) is True


def test_pin_counts_the_try_before_comparing(home, monkeypatch):
    """A power cut right after a wrong answer was shown cannot undo the count."""
    pin.set_pin("technician", "246810", home=home)

    def cut(*a, **kw):
        raise SystemExit("power cut")

    monkeypatch.setattr(pin.hmac, "compare_digest", cut)
    with pytest.raises(SystemExit):
        pin.check("technician", "000000", home)
    assert json.loads((home / "trust/pin-lock.json").read_text())["technician"]["failures"] == 1


def test_pin_cli_needs_pin_stdin_off_a_terminal(home, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    assert run_cli("pin", "set", "technician") != 0
    assert "--pin-stdin" in capsys.readouterr().err
    _stdin(monkeypatch, "12ab")
    assert run_cli("pin", "set", "technician", "--pin-stdin") != 0
    assert "6 to 12 digits" in capsys.readouterr().err
    assert not pin.is_set("technician", home)
    assert install.read_state(home) == {}
