"""What a village official with root on the kiosk's disk tried (new-user attack test), and
what the kiosk must do: report, refuse, never show forged or older data silently."""
from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sqlite3
import stat
import threading
from pathlib import Path

import pytest
from conftest import run_cli, tree_digest

from kiosk.cache import install, integrity
from kiosk.cache.mirror import open_current
from kiosk.errors import Exit

DAMAGED_ZH = "本机数据记录（state.json）被删除、损坏或改动，请联系技术人员"


def _forge_row(db: Path) -> None:
    con = sqlite3.connect(db)
    con.execute("UPDATE finance SET summary = '伪造的摘要' WHERE rowid = (SELECT min(rowid) FROM finance)")
    con.commit()
    con.close()


def _err_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


# ---------------------------------------------------------------- 1. tampered database

def test_status_re_hashes_and_exits_non_zero_on_a_forged_row(home, two_versions, capsys):
    v1, v2 = two_versions
    db = home / "mirror/versions" / v2 / "data/village.sqlite"
    assert stat.S_IMODE(db.stat().st_mode) == 0o444 and stat.S_IMODE(db.parent.stat().st_mode) == 0o555
    assert run_cli("status") == 0
    assert "files: verified" in capsys.readouterr().out
    _forge_row(db)  # root ignores the read-only bits
    assert run_cli("status") == Exit.DATA_DAMAGED
    err = _err_line(capsys)
    assert "installed files do not match their manifest: data/village.sqlite: SHA-256 differs" in err


def test_every_start_re_checks_in_the_background(home, two_versions):
    v1, v2 = two_versions
    assert integrity.mark_started(home) is False
    integrity.mark_clean_exit(home)  # the last run ended cleanly
    integrity.recheck(home)          # and was checked a moment ago: not due for a day
    _forge_row(home / "mirror/versions" / v2 / "data/village.sqlite")
    got, done = [], threading.Event()
    mon = integrity.start_background_checks(home, lambda r: (got.append(r), done.set()), interval=10 ** 6)
    assert done.wait(30)
    mon.stop()
    assert (got[0].status, got[0].shown, got[0].failed_version) == ("fallback", v1, v2)


# ---------------------------------------------------------------- 2. nothing trustworthy / older: non-zero

def test_status_non_zero_when_nothing_trustworthy_or_older(home, two_versions, capsys):
    v1, v2 = two_versions
    st = install.read_state(home)
    install.write_state(home, {**st, "current": v1, "last_known_good": None})
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "本机曾安装较新的第2版" in capsys.readouterr().out
    install.write_state(home, st)
    for v in two_versions:
        _forge_row(home / "mirror/versions" / v / "data/village.sqlite")
    assert run_cli("check") == Exit.DATA_DAMAGED
    capsys.readouterr()
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "暂停显示" in capsys.readouterr().out


# ---------------------------------------------------------------- 3. state.json deleted, corrupted, lowered

@pytest.mark.parametrize("how", ["deleted", "corrupted", "lowered"])
def test_damaged_state_never_makes_the_kiosk_fresh(home, two_versions, small_bundle, capsys, how):
    v1, v2 = two_versions
    state = home / "mirror/state.json"
    if how == "deleted":
        state.unlink()
    elif how == "corrupted":
        state.write_text("{not json")
    else:
        st = json.loads(state.read_text())
        state.write_text(json.dumps({**st, "highest_seq": 0, "current": v1, "last_known_good": None}))
    assert run_cli("status") == Exit.DATA_DAMAGED
    out = capsys.readouterr().out
    assert "state.json" in out
    if how != "lowered":
        assert open_current(home) is None and integrity.status_line(home) == DAMAGED_ZH + "，暂停显示"
    # the older bundle is refused; the newer version folder is not deleted
    assert run_cli("import", small_bundle) == Exit.BUNDLE
    err = _err_line(capsys)
    assert "not newer than 2" in err or "already installed" in err, err
    assert (home / "mirror/versions" / v2).is_dir()
    if how != "lowered":  # rebuilt from the re-verified folders: 第2版 shown again, with the banner
        m = open_current(home)
        assert (m.info.seq, m.info.version_dir) == (2, v2) and m.info.banner.startswith(DAMAGED_ZH)
        m.close()
        assert install.read_state(home)["history"][-1]["event"] == "reconstructed"
    else:
        m = open_current(home)
        assert m.info.seq == 1 and "本机曾安装较新的第2版" in m.info.banner and DAMAGED_ZH in m.info.banner
        m.close()


def test_deleted_state_rebuilt_by_the_check(home, two_versions, capsys):
    v1, v2 = two_versions
    (home / "mirror/state.json").unlink()
    res = integrity.recheck(home)
    assert (res.status, res.shown, res.seq) == ("repaired", v2, 2) and res.banner == DAMAGED_ZH
    st = install.read_state(home)
    assert (st["current"], st["last_known_good"], st["highest_seq"]) == (v2, v1, 2)
    assert integrity.recheck(home).status == "ok"


def test_state_and_versions_deleted_high_water_file_still_refuses(home, two_versions, small_bundle, capsys):
    shutil.rmtree(home / "mirror/versions")
    (home / "mirror/state.json").unlink()
    (home / "mirror/highwater.json").unlink()  # trust/highwater.json is the copy left
    assert run_cli("import", small_bundle) == Exit.BUNDLE
    assert "not newer than 2" in _err_line(capsys)


# ---------------------------------------------------------------- 4. trusted keys replaced

def test_deleting_keys_json_does_not_allow_a_new_first_trust(home, two_versions, other_test_key, capsys):
    (home / "trust/keys.json").unlink()
    before = tree_digest(home)
    assert run_cli("trust", other_test_key / "signing.pub") == Exit.KEYS
    assert "was set up before" in _err_line(capsys)
    assert tree_digest(home) == before
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "keys.json is missing" in capsys.readouterr().out


def test_keys_json_replaced_by_hand_is_reported(home, two_versions, other_test_key, tmp_path, monkeypatch, capsys):
    other = tmp_path / "other"
    other.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(other))
    assert run_cli("trust", other_test_key / "signing.pub") == 0
    monkeypatch.setenv("KIOSK_HOME", str(home))
    shutil.copyfile(other / "trust/keys.json", home / "trust/keys.json")
    capsys.readouterr()
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "trusted keys changed outside a signed rotation" in capsys.readouterr().out
    assert run_cli("check") == Exit.DATA_DAMAGED
    assert "keys_changed" in capsys.readouterr().out
    m = open_current(home)
    assert "受信任密钥未经签名轮换或技术人员密码被更改" in m.info.banner
    m.close()


def test_corrupt_keys_json_is_reported(home, two_versions, capsys):
    (home / "trust/keys.json").write_text('{"keys": [{"public_key": "!!"}]}')
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "keys.json is damaged" in capsys.readouterr().out
    assert run_cli("check") == Exit.DATA_DAMAGED


# ---------------------------------------------------------------- 5. missing current / last known good

def test_missing_current_version_falls_back_without_traceback(home, two_versions, capsys):
    v1, v2 = two_versions
    shutil.rmtree(home / "mirror/versions" / v2)
    m = open_current(home)
    assert m.info.seq == 1 and m.info.banner == "正在显示第1版（上一可信版本）：第2版数据无法读取，请联系技术人员"
    m.close()
    assert run_cli("status") == Exit.DATA_DAMAGED
    shutil.rmtree(home / "mirror/versions" / v1)
    assert open_current(home) is None
    assert integrity.status_line(home) == "第2版数据无法读取，且没有可用的上一可信版本，暂停显示，请联系技术人员"
    assert run_cli("status") == Exit.DATA_DAMAGED
    assert "暂停显示" in capsys.readouterr().out


# ---------------------------------------------------------------- 7. read-only KIOSK_HOME

def _read_only(monkeypatch, home: Path) -> None:
    """Every write under ``home`` fails with EROFS, as on a read-only mount (root ignores chmod)."""
    root = str(home.resolve())

    def guard(real, write_check):
        def f(path, *a, **kw):
            if str(Path(os.fspath(path)).resolve()).startswith(root) and write_check(a, kw):
                raise OSError(errno.EROFS, "Read-only file system", os.fspath(path))
            return real(path, *a, **kw)
        return f

    flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT
    monkeypatch.setattr(os, "open", guard(os.open, lambda a, kw: bool((a[0] if a else kw.get("flags", 0)) & flags)))
    for name in ("mkdir", "replace", "rename", "unlink", "rmdir", "chmod"):
        monkeypatch.setattr(os, name, guard(getattr(os, name), lambda a, kw: True))
    import builtins
    monkeypatch.setattr(builtins, "open", guard(builtins.open, lambda a, kw: any(c in (a[0] if a else kw.get("mode", "r"))
                                                                                 for c in "wax+")))


@pytest.mark.parametrize("cmd", ["check", "import", "trust"])
def test_read_only_home_gives_one_line(home, small_bundle, small_bundle_v2, other_test_key, monkeypatch, capsys, cmd):
    install.install(small_bundle, home)
    if cmd == "check":
        _forge_row(home / "mirror/versions" / install.read_state(home)["current"] / "data/village.sqlite")
    if cmd == "trust":  # adding a key needs the PIN; its try cannot even be counted on a read-only disk
        monkeypatch.setattr("sys.stdin", io.StringIO("135790\n135790\n"))
        assert run_cli("pin", "set", "technician", "--pin-stdin") == 0
    before = tree_digest(home)
    _read_only(monkeypatch, home)
    args = {"check": ["check"], "import": ["import", small_bundle_v2],
            "trust": ["trust", other_test_key / "signing.pub", "--pin-stdin"]}[cmd]
    rc = run_cli(*args)
    err = capsys.readouterr().err
    monkeypatch.undo()
    assert rc != 0 and err.count("\n") == 1, err
    assert "cannot write to KIOSK_HOME" in err and "read-only file system" in err and "终端数据目录无法写入" in err
    assert tree_digest(home) == before
