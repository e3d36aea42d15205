"""Integrity (issue 16, items 1–4): edits that passed every check, a full disk that switched
the check off, sequence numbers of a million and more, and a signed database trusted as it
was (views, triggers, dropped columns, endless queries)."""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from conftest import build_bundle, run_cli, tree_digest

from kiosk.cache import bundle as B
from kiosk.cache import install, integrity, keys
from kiosk.cache.mirror import open_current
from kiosk.errors import Exit


def _writable(p: Path) -> None:
    for d, _, fs in os.walk(p):
        os.chmod(d, 0o755)
        for f in fs:
            os.chmod(Path(d) / f, 0o644)


def resign(bundle: Path, key_dir: Path, edit_db=None, edit_manifest=None) -> None:
    """Change a bundle as a third-party builder (who holds a trusted key) would: edit its
    database, then write a manifest that matches it, signed again."""
    _writable(bundle)
    db = bundle / B.DB_PATH
    if edit_db:
        con = sqlite3.connect(db)
        edit_db(con)
        con.commit()
        con.close()
    m = json.loads((bundle / B.MANIFEST).read_bytes())
    m["files"][0].update(size=db.stat().st_size, sha256=B.sha256_file(db))
    if edit_manifest:
        edit_manifest(m)
    raw = (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
    (bundle / B.MANIFEST).write_bytes(raw)
    (bundle / B.SIGNATURE).write_bytes(keys.load_private(key_dir / "signing.key").sign(raw))


# ---------------------------------------------------------------- 1. edits that passed every check

def _root_edit(home: Path, name: str) -> str:
    """The attack: delete a payment, rewrite the manifest's hash and size, rename the version
    folder to the new fingerprint, update state.json. Returns the new folder name."""
    vdir = home / "mirror/versions" / name
    _writable(vdir)
    db = vdir / B.DB_PATH
    con = sqlite3.connect(db)
    con.execute("DELETE FROM payments WHERE rowid = (SELECT max(rowid) FROM payments)")
    con.commit()
    con.execute("VACUUM")
    con.close()
    m = json.loads((vdir / B.MANIFEST).read_bytes())
    m["files"][0].update(size=db.stat().st_size, sha256=B.sha256_file(db))
    raw = (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
    (vdir / B.MANIFEST).write_bytes(raw)
    new = f"v{m['seq']:06d}-{B.fingerprint(raw)}"
    os.rename(vdir, home / "mirror/versions" / new)
    st = json.loads((home / "mirror/state.json").read_text())
    sha = hashlib.sha256(raw).hexdigest()
    st["current"] = new
    st["manifests"] = {**{k: v for k, v in st["manifests"].items() if k != name}, new: sha}
    st["highest_manifest_sha256"] = sha
    (home / "mirror/state.json").write_text(json.dumps(st))
    return new


def test_a_consistent_root_edit_is_caught_by_status_check_and_start_up(home, two_versions, capsys):
    v1, v2 = two_versions
    forged = _root_edit(home, v2)
    assert run_cli("status") == Exit.DATA_DAMAGED
    err = capsys.readouterr().err
    assert "signature does not verify" in err
    res = integrity.recheck(home)  # what the start-up and the daily check run
    assert (res.status, res.shown, res.failed_version) == ("fallback", v1, forged)
    assert "signature does not verify" in res.reason
    m = open_current(home)
    assert m.info.version_dir == v1 and m.info.banner.startswith("正在显示第1版（上一可信版本）")
    m.close()


def test_kiosk_check_catches_it_too(home, two_versions, capsys):
    v1, v2 = two_versions
    _root_edit(home, v2)
    assert run_cli("check") == Exit.DATA_DAMAGED
    out = capsys.readouterr().out
    assert out.startswith("fallback: ") and "signature does not verify" in out


def test_another_signed_bundle_of_the_same_version_differs_from_the_high_water_record(
        home, two_versions, small_src, test_key, tmp_path, capsys):
    """A county-signed bundle of the same seq (another build: a fork) swapped in with
    state.json rewritten: signature and hashes pass; the record outside state.json does not."""
    v1, v2 = two_versions
    other = build_bundle(small_src, test_key, 2, tmp_path / "fork")
    fork = B.Manifest.parse((other / B.MANIFEST).read_bytes())
    name = f"v000002-{fork.fingerprint}"
    _writable(home / "mirror/versions" / v2)
    shutil.rmtree(home / "mirror/versions" / v2)
    shutil.copytree(other, home / "mirror/versions" / name)
    st = json.loads((home / "mirror/state.json").read_text())
    st.update(current=name, manifests={v1: st["manifests"][v1], name: fork.sha256}, highest_manifest_sha256=fork.sha256)
    (home / "mirror/state.json").write_text(json.dumps(st))
    res = integrity.recheck(home)
    assert res.status == "fallback" and "high-water record" in res.reason


def test_record_counts_are_compared_with_the_manifest(home, small_bundle, small_bundle_v2, test_key, tmp_path, monkeypatch):
    """A signed version whose database lacks a record its manifest counts (installed by a
    kiosk that did not count) is caught by the re-check."""
    install.install(small_bundle, home)
    short = tmp_path / "short"
    shutil.copytree(small_bundle_v2, short)
    resign(short, test_key, edit_db=lambda con: con.execute("DELETE FROM payments WHERE id = 'PAY2'"))
    monkeypatch.setattr(install, "check_database", lambda *a, **k: None)
    install.install(short, home)
    monkeypatch.undo()
    res = integrity.recheck(home)
    assert res.status == "fallback" and "database has 1 payments records, manifest says 2" in res.reason


def test_a_key_rotation_keeps_installed_data_verifiable(home, two_versions, test_key, other_test_key, tmp_path):
    """Re-verifying signatures must not make the data of a retired key unverifiable."""
    v1, v2 = two_versions
    kl1, kl2 = tmp_path / "kl1", tmp_path / "kl2"
    assert run_cli("keylist", "build", test_key / "signing.pub", other_test_key / "signing.pub",
                   "--key", test_key / "signing.key", "--seq", 1, "--out", kl1) == 0
    assert run_cli("keylist", "build", other_test_key / "signing.pub", "--key", other_test_key / "signing.key",
                   "--seq", 2, "--out", kl2) == 0
    assert run_cli("trust", "--rotate", kl1) == 0 and run_cli("trust", "--rotate", kl2) == 0
    res = integrity.recheck(home)
    assert (res.status, res.shown) == ("ok", v2)
    assert run_cli("status") == 0


# ---------------------------------------------------------------- 2. a full disk

def _disk_full(monkeypatch, home: Path) -> None:
    """Every write under ``home`` fails with ENOSPC."""
    root = str(home.resolve())

    def guard(real, write_check):
        def f(path, *a, **kw):
            if str(Path(os.fspath(path)).resolve()).startswith(root) and write_check(a, kw):
                raise OSError(errno.ENOSPC, "No space left on device", os.fspath(path))
            return real(path, *a, **kw)
        return f

    flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT
    monkeypatch.setattr(os, "open", guard(os.open, lambda a, kw: bool((a[0] if a else kw.get("flags", 0)) & flags)))
    for name in ("mkdir", "replace", "rename"):
        monkeypatch.setattr(os, name, guard(getattr(os, name), lambda a, kw: True))
    import builtins
    monkeypatch.setattr(builtins, "open", guard(builtins.open, lambda a, kw: any(c in (a[0] if a else kw.get("mode", "r"))
                                                                                 for c in "wax+")))


def test_a_full_disk_never_switches_the_check_off(home, two_versions, monkeypatch):
    v1, v2 = two_versions
    integrity.mark_started(home)
    con = sqlite3.connect(home / "mirror/versions" / v2 / B.DB_PATH)
    con.execute("UPDATE finance SET summary = '伪造的摘要' WHERE rowid = 1")
    con.commit()
    con.close()
    state_before = (home / "mirror/state.json").read_bytes()
    _disk_full(monkeypatch, home)
    got, done = [], threading.Event()
    mon = integrity.start_background_checks(home, lambda r: (got.append(r), done.set()), interval=10 ** 6)
    try:
        assert done.wait(60), "the monitor reported nothing"
        res = got[0]
        assert (res.status, res.shown, res.failed_version) == ("fallback", v1, v2)
        assert (home / "mirror/state.json").read_bytes() == state_before  # nothing could be written ...
        m = open_current(home)  # ... and yet the screens show the last known good version, with a banner
        assert m.info.version_dir == v1 and "第2版数据校验失败" in m.info.banner and "存储空间" in m.info.banner
        m.close()
        assert len(got) == 1 and not res.saved
        n = len(mon.results)
        mon.check_now()  # the worker is alive and checks again (the same result is not reported twice)
        deadline = time.monotonic() + 60
        while len(mon.results) == n:
            assert time.monotonic() < deadline, "the monitor stopped checking"
            time.sleep(0.05)
        assert (mon.results[-1].status, mon.results[-1].saved) == ("fallback", False) and len(got) == 1
    finally:
        mon.stop(clean_exit=False)
        monkeypatch.undo()
    # with room again, the next check writes the fallback and the memory is no longer needed
    res = integrity.recheck(home)
    assert res.status in ("fallback", "ok") and install.read_state(home)["current"] == v1
    assert integrity.memory_override(home) is None


def test_record_writing_on_a_full_disk_is_no_error(home, two_versions, monkeypatch):
    _disk_full(monkeypatch, home)
    res = integrity.recheck(home)
    monkeypatch.undo()
    assert res.status == "ok"


# ---------------------------------------------------------------- 3. sequence numbers of a million and more

@pytest.mark.parametrize("seqs", [(999_999, 1_000_000, 1_000_001), (7, 2026120701, 2026120702)])
def test_large_sequence_numbers_keep_working(home, small_src, test_key, tmp_path, seqs, capsys):
    for seq in seqs:
        assert run_cli("import", build_bundle(small_src, test_key, seq, tmp_path / f"b{seq}")) == 0
        st = install.read_state(home)
        assert st["highest_seq"] == seq and install.seq_of(st["current"]) == seq
        assert integrity.recheck(home).status == "ok"
        assert run_cli("status") == 0
        capsys.readouterr()
    m = open_current(home)
    assert m.info.seq == seqs[-1] and m.info.banner is None
    m.close()
    # an older one is still refused (the mark counts the seven-digit folder names too)
    assert run_cli("import", tmp_path / f"b{seqs[1]}") == Exit.BUNDLE


def test_a_sequence_number_beyond_the_cap_is_refused_before_copying(home, small_bundle, test_key, tmp_path, capsys):
    big = tmp_path / "big"
    shutil.copytree(small_bundle, big)
    resign(big, test_key, edit_manifest=lambda m: m.update(seq=2 ** 53))
    before = tree_digest(home)
    assert run_cli("import", big) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "seq" in err and str(2 ** 53 - 1) in err
    assert tree_digest(home) == before


# ---------------------------------------------------------------- 4. the database inside a signed bundle

def _hide_f2(con):  # the finance table replaced by a view that hides a record
    con.executescript("ALTER TABLE finance RENAME TO finance_all;"
                      "CREATE VIEW finance AS SELECT * FROM finance_all WHERE id != 'F2';")


DB_EDITS = {
    "view": (_hide_f2, lambda m: m["counts"].update(finance=4)),
    "trigger": (lambda con: con.execute("CREATE TRIGGER t AFTER INSERT ON meta BEGIN SELECT 1; END"), None),
    "extra table": (lambda con: con.execute("CREATE TABLE notes (x TEXT)"), None),
    "index dropped": (lambda con: con.execute("DROP INDEX finance_by_date"), None),
    "column dropped": (lambda con: con.execute("ALTER TABLE finance DROP COLUMN approver"), None),
    "column type": (lambda con: con.executescript(
        "ALTER TABLE assets RENAME COLUMN deposit TO deposit_old; ALTER TABLE assets ADD COLUMN deposit REAL;"), None),
}


@pytest.mark.parametrize("what", sorted(DB_EDITS))
def test_a_signed_database_must_have_exactly_the_schema(home, small_bundle, test_key, tmp_path, capsys, what):
    bad = tmp_path / "bad"
    shutil.copytree(small_bundle, bad)
    edit_db, edit_m = DB_EDITS[what]
    resign(bad, test_key, edit_db=edit_db, edit_manifest=edit_m)
    before = tree_digest(home)
    assert run_cli("import", bad) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "schema" in err and "数据库结构" in err, err
    assert tree_digest(home) == before


def test_an_endless_view_does_not_hang_the_import(home, small_bundle, test_key, tmp_path):
    bad = tmp_path / "endless"
    shutil.copytree(small_bundle, bad)
    resign(bad, test_key, edit_db=lambda con: con.executescript(
        "ALTER TABLE finance RENAME TO finance_all;"
        "CREATE VIEW finance AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r) "
        "SELECT f.* FROM finance_all f, r WHERE r.x < 0;"))
    # in a child process, so that a hang shows as a timeout here and not as a stuck test run
    r = subprocess.run([sys.executable, "-m", "kiosk", "import", str(bad)], capture_output=True, text=True,
                       timeout=120, env={**os.environ, "KIOSK_HOME": str(home)})
    assert r.returncode == Exit.BUNDLE and "schema" in r.stderr
    assert install.read_state(home) == {}
    assert install.install  # the import lock is free again: the next import runs
    install.install(small_bundle, home)


def test_the_check_queries_have_a_time_limit(home, small_bundle, capsys):
    (home / "config.json").write_text(json.dumps({"timeouts": {"database_check": 0}}))
    assert run_cli("import", small_bundle) == Exit.BUNDLE
    err = capsys.readouterr().err
    assert "database check took longer than 0 s" in err


def test_a_dropped_column_installed_before_cannot_crash_a_detail_screen(home, small_bundle, small_bundle_v2, test_key, tmp_path,
                                                                        monkeypatch):
    install.install(small_bundle, home)
    bad = tmp_path / "dropped"
    shutil.copytree(small_bundle_v2, bad)
    resign(bad, test_key, edit_db=lambda con: con.execute("ALTER TABLE finance DROP COLUMN approver"))
    monkeypatch.setattr(install, "check_database", lambda *a, **k: None)  # a kiosk from before the check
    install.install(bad, home)
    monkeypatch.undo()
    m = open_current(home)  # the screens: the last known good version, with a banner; no crash
    assert m is not None and m.info.seq == 1 and "第2版数据无法读取" in m.info.banner
    assert m.finance_get("F1")["approver"] == "王德明"
    m.close()
    res = integrity.recheck(home)
    assert res.status == "fallback" and "schema" in res.reason


def test_a_key_added_to_keys_json_by_hand_does_not_verify_planted_data(home, two_versions, small_src, other_test_key,
                                                                        tmp_path):
    """root adds his own key to trust/keys.json (no PIN, no signed list) and plants a version
    signed with it: the signature is checked against the keys recorded beside the mark."""
    v1, v2 = two_versions
    kj = json.loads((home / "trust/keys.json").read_text())
    pub = keys.load_public(other_test_key / "signing.pub")
    kj["keys"].append({"key_id": keys.key_id(pub), "label": "x",
                       "public_key": __import__("base64").b64encode(keys.raw_public(pub)).decode()})
    (home / "trust/keys.json").write_text(json.dumps(kj))
    planted = build_bundle(small_src, other_test_key, 2, tmp_path / "planted")
    pm = B.Manifest.parse((planted / B.MANIFEST).read_bytes())
    name = f"v000002-{pm.fingerprint}"
    _writable(home / "mirror/versions" / v2)
    shutil.rmtree(home / "mirror/versions" / v2)
    shutil.copytree(planted, home / "mirror/versions" / name)
    st = json.loads((home / "mirror/state.json").read_text())
    st.update(current=name, manifests={v1: st["manifests"][v1], name: pm.sha256})
    (home / "mirror/state.json").write_text(json.dumps(st))
    res = integrity.recheck(home)
    assert res.status == "fallback" and "signature does not verify" in res.reason


def test_a_key_record_from_before_is_completed_at_the_next_check(home, two_versions):
    from kiosk.cache import highwater

    for p in highwater.paths(home):  # the record as older versions wrote it: ids only
        d = json.loads(p.read_text())
        d["keys"] = {k: v for k, v in d["keys"].items() if k not in ("public_keys", "retired")}
        d.pop("versions", None)
        p.write_text(json.dumps(d))
    assert integrity.recheck(home).status == "ok"
    hw = highwater.read(home)
    assert set(hw["keys"]["public_keys"]) == set(hw["keys"]["ids"]) and set(hw["versions"]) == set(two_versions)


def test_a_newer_revision_may_only_add_tables_and_indexes(home, small_bundle, test_key, tmp_path, capsys):
    from kiosk.cache import schemas

    newer = str(max(schemas.FILES) + 1)

    def add(extra_sql):
        def edit(con):
            con.executescript(extra_sql)
            con.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('schema_revision', ?)", (newer,))
        return edit

    ok = tmp_path / "newer"
    shutil.copytree(small_bundle, ok)
    resign(ok, test_key, edit_db=add("CREATE TABLE later_table (id TEXT PRIMARY KEY, note TEXT);"
                                     "CREATE INDEX later_by_note ON later_table (note);"))
    assert run_cli("import", ok) == 0  # an older kiosk reads a newer bundle (docs: revisions only add)
    capsys.readouterr()
    bad = tmp_path / "newer-view"
    shutil.copytree(small_bundle, bad)
    resign(bad, test_key, edit_db=add("CREATE VIEW later_view AS SELECT 1;"),
           edit_manifest=lambda m: m.update(seq=2))
    assert run_cli("import", bad) == Exit.BUNDLE
    assert "does not only add tables and indexes" in capsys.readouterr().err


def test_the_schema_text_may_be_laid_out_differently_but_not_changed():
    from kiosk.cache.dbcheck import normalise

    a = "CREATE TABLE t (  -- what it is\n  x TEXT NOT NULL CHECK (x IN ('a, b', 'c')),  /* note */ y INTEGER\n)"
    assert normalise(a) == normalise("CREATE TABLE t(x TEXT NOT NULL CHECK(x IN('a, b','c')),y INTEGER)")
    assert normalise(a) != normalise("CREATE TABLE t(x TEXT NOT NULL CHECK(x IN('a,b','c')),y INTEGER)")
    assert normalise(a) != normalise("CREATE TABLE t(x TEXT CHECK(x IN('a, b','c')),y INTEGER)")
