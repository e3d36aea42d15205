"""SIGKILL ``kiosk check`` while it falls back from a changed version (issue 16, "Tests": the
kill tests cover ``kiosk check`` during a fallback, as well as import). At every point the
screens and ``kiosk status`` agree, no forged byte is shown with a banner missing once the
switch is written, the next check completes the fallback, and the damaged copy is kept as
evidence in quarantine, never deleted.

Like tests/test_integrity_kill.py: the check runs in a forked child that counts every
file-system call and hashed chunk and SIGKILLs itself at point N.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import build_bundle, run_cli

from kiosk.cache import bundle as B
from kiosk.cache import install, integrity
from kiosk.cache.mirror import open_current
from kiosk.commands.bundles import status_dict

POINTS = 40


def _child(home: Path, kill_at: int, log_fd: int) -> None:
    os.environ["KIOSK_HOME"] = str(home)
    phase, count, log = ["start"], [0], []

    def tick() -> None:
        count[0] += 1
        log.append(phase[0])
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(obj, name, new_phase=None):
        real = getattr(obj, name)

        def w(*a, **kw):
            if new_phase:
                phase[0] = new_phase
            tick()
            r = real(*a, **kw)
            tick()
            return r
        setattr(obj, name, w)

    for name in ("fsync", "replace", "write", "mkdir", "unlink", "rename"):
        wrap(os, name)
    wrap(shutil, "rmtree")
    wrap(install, "cleanup", "cleanup")
    wrap(integrity, "verify_version", "verify")
    wrap(install, "write_state", "switch")
    wrap(integrity, "_record", "record")
    real_sha = B.sha256_file

    def sha(path, progress=None):
        return real_sha(path, lambda n: tick())
    B.sha256_file = sha
    B.HASH_CHUNK = 2048
    from kiosk.cli import main

    rc = main(["check"])
    os.write(log_fd, json.dumps(log).encode())
    os._exit(rc)


def _run(home: Path, kill_at: int) -> tuple[int, list[str]]:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            _child(home, kill_at, w)
        finally:
            os._exit(99)
    os.close(w)
    chunks = []
    while data := os.read(r, 1 << 16):
        chunks.append(data)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    log = json.loads(b"".join(chunks)) if chunks else []
    return (os.WTERMSIG(status) if os.WIFSIGNALED(status) else -os.WEXITSTATUS(status)), log


def _agree(home: Path):
    st = status_dict(home)
    m = open_current(home)
    if m is None:
        assert not st["installed"]
        return None, None
    assert (st["seq"], st["fingerprint"], st["version"], st["banner"]) == \
        (m.info.seq, m.info.fingerprint, m.info.version_dir, m.info.banner)
    out = (m.info.seq, m.info.banner)
    m.close()
    return out


@pytest.mark.slow
def test_sigkill_kiosk_check_during_a_fallback(tmp_path, small_src, small_bundle, test_key, monkeypatch, capsys):
    b2 = build_bundle(small_src, test_key, 2, tmp_path / "b2")
    template = tmp_path / "template"
    template.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(template))
    assert run_cli("trust", test_key / "signing.pub") == 0
    install.install(small_bundle, template)
    install.install(b2, template)
    st = install.read_state(template)
    v1, v2 = st["last_known_good"], st["current"]
    con = sqlite3.connect(template / "mirror/versions" / v2 / B.DB_PATH)  # root ignores the read-only bits
    con.execute("UPDATE finance SET summary = '伪造的摘要' WHERE rowid = 1")
    con.commit()
    con.close()

    dry = tmp_path / "dry"
    shutil.copytree(template, dry)
    rc, log = _run(dry, kill_at=0)
    assert rc == -16, f"dry run exit {rc}"  # Exit.DATA_DAMAGED: fell back
    assert install.read_state(dry)["current"] == v1
    by_phase: dict[str, list[int]] = defaultdict(list)
    for i, ph in enumerate(log, start=1):
        by_phase[ph].append(i)
    assert {"cleanup", "verify", "switch", "record"} <= set(by_phase), by_phase.keys()
    rnd = random.Random(20261207)
    points = sorted({p for ph, pts in by_phase.items() for p in rnd.sample(pts, min(8, len(pts)))}
                    | set(rnd.sample(range(1, len(log) + 1), min(POINTS, len(log)))))
    seen: dict[str, set] = defaultdict(set)
    for n in points:
        home = tmp_path / f"k{n}"
        shutil.copytree(template, home)
        monkeypatch.setenv("KIOSK_HOME", str(home))
        sig, _ = _run(home, kill_at=n)
        assert sig == signal.SIGKILL, f"point {n} ({log[n - 1]}): not killed ({sig})"
        shown = _agree(home)
        # before the switch: the old pointer (the next check falls back); after it: 第1版 with its banner
        assert shown[0] in (1, 2)
        if shown[0] == 1:
            assert shown[1].startswith("正在显示第1版（上一可信版本）")
        seen[log[n - 1]].add(shown[0])
        assert run_cli("check") in (0, 16)  # the next check completes the fallback
        capsys.readouterr()
        st = install.read_state(home)
        assert st["current"] == v1 and st["banner"].startswith("正在显示第1版（上一可信版本）：第2版数据校验失败")
        assert _agree(home)[0] == 1
        mdir = home / "mirror"
        assert sorted(p.name for p in (mdir / "versions").iterdir()) == [v1]
        assert (mdir / "quarantine" / v2).is_dir(), f"point {n} ({log[n - 1]}): the damaged copy was not kept"
        assert not list(mdir.glob(".state.json.tmp*"))
        assert integrity.recheck(home).status == "ok"
        shutil.rmtree(home)
    assert seen["verify"] == {2}
    print(dict(seen))
