"""Install durability order, issue-time and chain rules, re-check and fallback to last known good."""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import threading
from pathlib import Path

import pytest
from conftest import build_bundle, run_cli, tree_digest

from kiosk.cache import bundle as B
from kiosk.cache import install, integrity, keys
from kiosk.cache.clock import Clock, parse_utc
from kiosk.cache.mirror import current_version_id, open_current
from kiosk.commands.bundles import status_dict


def _resign(src: Path, dest: Path, key: Path, **changes) -> Path:
    shutil.copytree(src, dest)
    m = json.loads((dest / "manifest.json").read_bytes())
    m.update(changes)
    mb = (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
    (dest / "manifest.json").write_bytes(mb)
    (dest / "manifest.sig").write_bytes(keys.load_private(key / "signing.key").sign(mb))
    return dest


def _refused(home: Path, bundle: Path, capsys, needle: str) -> None:
    before = tree_digest(home)
    rc = run_cli("import", bundle)
    err = capsys.readouterr().err
    assert rc != 0 and needle in err, err
    assert err.count("\n") == 1
    assert tree_digest(home) == before


@pytest.fixture(scope="module")
def b2(tmp_path_factory, small_src, small_bundle, test_key) -> Path:
    out = tmp_path_factory.mktemp("b2") / "bundle"
    assert run_cli("bundle", "build", small_src, "--key", test_key / "signing.key", "--seq", 2, "--out", out,
                   "--id-hash-n", 1024, "--quiet", "--previous", small_bundle / "manifest.json") == 0
    return out


# ---------------------------------------------------------------- durability order

def _record_fs_calls(monkeypatch, events: list) -> None:
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def replace(a, b, **kw):
        events.append(("replace", os.fspath(a), os.fspath(b)))
        return real_replace(a, b, **kw)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)


@pytest.mark.parametrize("first", [True, False])
def test_fsync_and_replace_order(home, small_bundle, b2, monkeypatch, first):
    if not first:
        install.install(small_bundle, home)
    bundle = small_bundle if first else b2
    events: list[tuple] = []
    _record_fs_calls(monkeypatch, events)
    install.install(bundle, home, on_step=lambda s: events.append(("step", s)))
    mdir = str((home / "mirror").resolve())
    replaces = [e for e in events if e[0] == "replace"]
    assert len(replaces) == 4, replaces
    (_, stage, target), (_, tmp_state, state), *hw = replaces
    # the independent high-water copies are written after the switch (state.json may be ahead, never behind)
    assert sorted(Path(e[2]).relative_to(home.resolve()).as_posix() for e in hw) == \
        ["mirror/highwater.json", "trust/highwater.json"]
    assert stage.startswith(mdir + "/staging/import-") and target.startswith(mdir + "/versions/v00000")
    assert tmp_state.startswith(mdir + "/.state.json.tmp") and state == mdir + "/state.json"
    i_pub, i_state = events.index(replaces[0]), events.index(replaces[1])
    fsynced = {e[1]: i for i, e in enumerate(events) if e[0] == "fsync"}  # last index per path
    first_fsync = {}
    for i, e in enumerate(events):
        if e[0] == "fsync":
            first_fsync.setdefault(e[1], i)
    # every staged file and folder is durable before verify reads it back and before publish
    i_verify = events.index(("step", "verify"))
    for rel in ("manifest.json", "manifest.sig", "data/village.sqlite"):
        assert first_fsync[f"{stage}/{rel}"] < i_verify
    for d in (stage, stage + "/data"):
        assert first_fsync[d] < i_verify
    assert events.index(("step", "check_db")) < i_pub
    # the published folder's directory entry is durable before the pointer moves
    assert i_pub < fsynced[mdir + "/versions"] < i_state
    # the new pointer's content is durable before the rename, the rename durable after it
    assert first_fsync[tmp_state] < i_state < fsynced[mdir]
    if first:  # the freshly made mirror/ folders are durable before anything is copied into them
        assert first_fsync[str(home.resolve())] < events.index(("step", "copy"))
    # nothing touched the bundle's own folder
    assert not any(str(bundle) in " ".join(e[1:]) for e in events if e[0] != "step")


# ---------------------------------------------------------------- issue time and clock

def _clock(now: dt.datetime, synced: bool) -> Clock:
    return Clock(now=lambda: now, synchronized=lambda: synced)


def test_future_issue_time_refused_only_with_synchronised_clock(home, small_bundle, test_key, tmp_path, capsys,
                                                                monkeypatch):
    issued = parse_utc(json.loads((small_bundle / "manifest.json").read_bytes())["issued_at"])
    future = _resign(small_bundle, tmp_path / "future", test_key,
                     issued_at=(issued + dt.timedelta(days=3)).isoformat().replace("+00:00", "Z"))
    monkeypatch.setattr(install, "SYSTEM", _clock(issued, True))
    _refused(home, future, capsys, "more than a day in the future")
    monkeypatch.setattr(install, "SYSTEM", _clock(issued + dt.timedelta(days=2, hours=1), True))
    assert run_cli("import", future) == 0  # within a day of a synchronised clock
    assert open_current(home).info.seq == 1


def test_unsynchronised_clock_does_not_refuse(home, small_bundle, test_key, tmp_path, monkeypatch):
    future = _resign(small_bundle, tmp_path / "future", test_key, issued_at="2099-01-01T00:00:00Z")
    monkeypatch.setattr(install, "SYSTEM", _clock(dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc), False))
    assert run_cli("import", future) == 0
    assert install.read_state(home)["newest_issued_at"] == "2099-01-01T00:00:00Z"


def test_clock_never_trusted_below_newest_issue_seen(home, small_bundle, b2, test_key, tmp_path, monkeypatch):
    t1 = parse_utc(json.loads((small_bundle / "manifest.json").read_bytes())["issued_at"])
    install.install(small_bundle, home)
    nxt = _resign(b2, tmp_path / "nxt", test_key, issued_at=(t1 + dt.timedelta(hours=20)).isoformat().replace("+00:00", "Z"))
    # a "synchronised" clock that reads two days before the newest issue time installed:
    # judged by it, 20 h after t1 would be 2 days in the future; judged from t1 it is not.
    clk = _clock(t1 - dt.timedelta(days=2), True)
    assert clk.trusted_now(install.read_state(home)["newest_issued_at"]) == t1
    assert install.install(nxt, home, clock=clk).new_seq == 2
    late = _resign(b2, tmp_path / "late", test_key, seq=3,
                   issued_at=(t1 + dt.timedelta(days=3)).isoformat().replace("+00:00", "Z"))
    with pytest.raises(B.BundleError, match="in the future"):
        install.install(late, home, clock=_clock(t1 - dt.timedelta(days=2), True))


# ---------------------------------------------------------------- the previous-manifest chain

def test_chain_linked_skipped_fork(home, small_src, small_bundle, b2, test_key, tmp_path, capsys):
    assert install.install(small_bundle, home).chain == "first"
    fork = _resign(b2, tmp_path / "fork", test_key, previous="ab" * 32)
    _refused(home, fork, capsys, "fork")
    assert install.install(b2, home).chain == "linked"
    skipped = _resign(b2, tmp_path / "skip", test_key, seq=4, previous="cd" * 32)
    assert install.install(skipped, home).chain == "skipped"
    unlinked = build_bundle(small_src, test_key, 5, tmp_path / "b5")
    assert install.install(unlinked, home).chain == "unlinked"
    hist = install.read_state(home)["history"]
    assert [(h["seq"], h["chain"]) for h in hist] == [(1, "first"), (2, "linked"), (4, "skipped"), (5, "unlinked")]
    bad = _resign(b2, tmp_path / "badprev", test_key, seq=6, previous="not-a-hash")
    _refused(home, bad, capsys, "previous must be null or 64")


# ---------------------------------------------------------------- re-check and fallback

def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def _status_matches_screens(home: Path) -> dict:
    st = status_dict(home)
    m = open_current(home)
    if m is None:
        assert st["installed"] is False
    else:
        assert (st["seq"], st["fingerprint"], st["version"], st["banner"]) == \
            (m.info.seq, m.info.fingerprint, m.info.version_dir, m.info.banner)
        m.close()
    return st


def test_damaged_database_falls_back_with_banner(home, small_bundle, b2, capsys):
    install.install(small_bundle, home)
    install.install(b2, home)
    v1, v2 = install.read_state(home)["last_known_good"], install.read_state(home)["current"]
    assert integrity.recheck(home).status == "ok"
    _flip(home / "mirror/versions" / v2 / "data/village.sqlite", 3000)
    res = integrity.recheck(home)
    assert (res.status, res.shown, res.failed_version) == ("fallback", v1, v2)
    assert res.reason == "data/village.sqlite: SHA-256 differs from manifest"
    banner = "正在显示第1版（上一可信版本）：第2版数据校验失败，请联系技术人员"
    assert res.banner == banner and current_version_id(home) == v1
    st = _status_matches_screens(home)
    assert st["seq"] == 1 and st["banner"] == banner
    assert (home / "mirror/quarantine" / v2).is_dir() and not (home / "mirror/versions" / v2).exists()
    assert install.read_state(home)["highest_seq"] == 2
    # an older bundle is still refused; the exact bundle of the highest version repairs
    _refused(home, small_bundle, capsys, "already installed")  # it is the one shown now
    res = install.install(b2, home)
    assert res.chain == "repair" and current_version_id(home) == v2
    assert _status_matches_screens(home)["banner"] is None
    assert run_cli("check") == 0 and "OK" in capsys.readouterr().out


def test_rollback_by_copying_older_signed_files_is_detected(home, small_bundle, b2):
    install.install(small_bundle, home)
    install.install(b2, home)
    st = install.read_state(home)
    v1dir, v2dir = home / "mirror/versions" / st["last_known_good"], home / "mirror/versions" / st["current"]
    for rel in ("manifest.json", "manifest.sig", "data/village.sqlite"):
        shutil.copyfile(v1dir / rel, v2dir / rel)
    res = integrity.recheck(home)
    assert res.status == "fallback" and res.reason == "manifest.json differs from the one installed"


def test_pointer_edited_to_older_version_shows_banner(home, small_bundle, b2):
    install.install(small_bundle, home)
    install.install(b2, home)
    st = install.read_state(home)
    st["current"] = st["last_known_good"]
    install.write_state(home, st)
    m = open_current(home)
    assert m.info.seq == 1 and m.info.banner == "正在显示第1版，本机曾安装较新的第2版，请联系技术人员"
    m.close()


def test_both_versions_damaged_shows_nothing(home, small_bundle, b2, capsys):
    install.install(small_bundle, home)
    install.install(b2, home)
    for v in (home / "mirror/versions").iterdir():
        _flip(v / "data/village.sqlite", 3000)
    res = integrity.recheck(home)
    assert res.status == "no_trusted_version" and res.shown is None
    assert open_current(home) is None and current_version_id(home) is None
    st = _status_matches_screens(home)
    assert st["problem"] == "第2版数据校验失败，且没有可用的上一可信版本，暂停显示，请联系技术人员"
    assert integrity.recheck(home).status == "no_data"
    assert run_cli("check") != 0
    capsys.readouterr()


def test_background_check_after_unclean_shutdown(home, small_bundle, b2):
    install.install(small_bundle, home)
    install.install(b2, home)
    integrity.mark_started(home)  # the app started ... and the power went off (no clean exit)
    _flip(home / "mirror/versions" / install.read_state(home)["current"] / "data/village.sqlite", 3000)
    got: list = []
    done = threading.Event()
    mon = integrity.start_background_checks(home, lambda r: (got.append(r), done.set()), interval=10 ** 6)
    assert done.wait(30)
    mon.stop()
    assert got[0].status == "fallback" and got[0].seq == 1
    assert not (home / "run/running").exists()  # clean exit clears the marker
    assert integrity.mark_started(home) is False


def test_due_once_a_day(home, small_bundle):
    install.install(small_bundle, home)
    t = dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc)
    assert integrity.due(home, 86400, _clock(t, False))  # never checked
    integrity.recheck(home, _clock(t, False))
    assert not integrity.due(home, 86400, _clock(t + dt.timedelta(hours=23), False))
    assert integrity.due(home, 86400, _clock(t + dt.timedelta(hours=24), False))
    assert integrity.due(home, 86400, _clock(t - dt.timedelta(days=3), False))  # clock set back


def test_stale_staging_and_orphans_cleaned(home, small_bundle, b2):
    install.install(small_bundle, home)
    mdir = home / "mirror"
    (mdir / "staging/import-999-2/data").mkdir(parents=True)
    (mdir / "staging/import-999-2/data/village.sqlite").write_bytes(b"half")
    (mdir / "versions/v000002-deadbeef").mkdir()
    (mdir / ".state.json.tmp999").write_text("{")
    assert install.cleanup(home) is True
    assert list((mdir / "staging").iterdir()) == []
    assert [p.name for p in (mdir / "versions").iterdir()] == [install.read_state(home)["current"]]
    assert not (mdir / ".state.json.tmp999").exists()
