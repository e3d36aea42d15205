"""SIGKILL ``kiosk import`` at ≥ 50 points spread over every phase; the kiosk then shows exactly
the old or the new version, ``kiosk status`` agrees with the screens, and the next import
succeeds or is refused correctly.

Each import runs in a forked child (``kiosk.cli.main(["import", ...])``). Kill points are
deterministic: the child counts every file-system call and progress chunk the install makes
(os.fsync/replace/write/mkdir, shutil.rmtree, each 2 KiB copied or hashed, each step) and
SIGKILLs itself at point N. A dry run counts the points and their phases first, then points
are drawn at random (fixed seed) from every phase. A SIGKILL does not drop the page cache,
so it cannot show a missing fsync: test_integrity_install.test_fsync_and_replace_order does.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import signal
from collections import defaultdict
from pathlib import Path

import pytest
from conftest import run_cli, tree_digest

from kiosk.cache import bundle as B
from kiosk.cache import verify as V
from kiosk.cache import install, integrity
from kiosk.cache.mirror import current_version_id, open_current
from kiosk.commands.bundles import status_dict

PHASES = ["precheck", "clean", "copy", "fsync", "verify", "check_db", "publish", "switch", "gc"]
POINTS_PER_PHASE = 7   # from each of the 9 phases (phases with fewer points are taken whole) ...
TOTAL_POINTS = 64      # ... topped up at random over all points


def _child(bundle: Path, home: Path, kill_at: int, log_fd: int) -> None:
    """Run in the forked child: instrument, import, exit (or die at ``kill_at``)."""
    os.environ["KIOSK_HOME"] = str(home)
    phase = ["start"]
    count = [0]
    log: list[str] = []

    def tick(label: str) -> None:
        count[0] += 1
        log.append(phase[0])
        if count[0] == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def wrap(obj, name):
        real = getattr(obj, name)

        def w(*a, **kw):
            tick(name)
            r = real(*a, **kw)
            tick(name)
            return r
        setattr(obj, name, w)

    for name in ("fsync", "replace", "write", "mkdir", "unlink"):
        wrap(os, name)
    wrap(shutil, "rmtree")
    for name in ("list_files", "read_manifest", "verify_manifest", "check_layout"):
        wrap(V, name)
    wrap(install, "check_database")
    install.COPY_CHUNK = B.HASH_CHUNK = 2048
    real_install = install.install

    def step(s: str) -> None:
        phase[0] = s
        tick(s)

    def instrumented(bundle_dir, home, scope=None, progress=None, on_step=None, clock=None):
        return real_install(bundle_dir, home, scope=scope, progress=lambda ph, d, t: tick(ph), on_step=step, clock=clock)

    install.install = instrumented
    from kiosk.cli import main

    rc = main(["import", str(bundle)])
    os.write(log_fd, json.dumps(log).encode())
    os._exit(rc)


def _run(bundle: Path, home: Path, kill_at: int) -> tuple[int, list[str]]:
    """Fork, import; returns (signal number or -exit code, phase log of a completed run)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            os.close(r)
            _child(bundle, home, kill_at, w)
        finally:
            os._exit(99)
    os.close(w)
    chunks = []
    while data := os.read(r, 1 << 16):
        chunks.append(data)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    log = json.loads(b"".join(chunks)) if chunks else []
    if os.WIFSIGNALED(status):
        return os.WTERMSIG(status), log
    return -os.WEXITSTATUS(status), log


def _shown(home: Path) -> int:
    """The version the screens show; asserts status agrees and the data is intact."""
    st = status_dict(home)
    m = open_current(home)
    assert m is not None and st["installed"]
    assert (st["seq"], st["fingerprint"], st["version"], st["banner"]) == \
        (m.info.seq, m.info.fingerprint, m.info.version_dir, m.info.banner)
    assert m.info.banner is None
    assert m.finance_totals(2025).count == 4  # real rows are readable
    m.close()
    assert current_version_id(home) == st["version"]
    assert integrity.recheck(home).status == "ok"
    return st["seq"]


@pytest.mark.slow
def test_sigkill_at_random_points(tmp_path, small_src, small_bundle, test_key, monkeypatch, capsys):
    b2, b3 = tmp_path / "b2", tmp_path / "b3"
    for seq, out, prev in ((2, b2, small_bundle), (3, b3, b2)):
        assert run_cli("bundle", "build", small_src, "--key", test_key / "signing.key", "--seq", seq, "--out", out,
                       "--id-hash-n", 1024, "--quiet", "--previous", prev / "manifest.json") == 0
    # the kiosk shows 第2版 (第1版 is last known good) and an earlier import left a half copy
    template = tmp_path / "template"
    template.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(template))
    assert run_cli("trust", test_key / "signing.pub") == 0
    install.install(small_bundle, template)
    install.install(b2, template)
    old = current_version_id(template)
    (template / "mirror/staging/import-1-9/data").mkdir(parents=True)
    (template / "mirror/staging/import-1-9/data/village.sqlite").write_bytes(b"half a copy")
    OLD, NEW = 2, 3
    b2 = b3  # the bundle imported under fire

    dry = tmp_path / "dry"
    shutil.copytree(template, dry)
    rc, log = _run(b2, dry, kill_at=0)
    assert rc == 0, "dry run failed"
    assert _shown(dry) == NEW
    by_phase: dict[str, list[int]] = defaultdict(list)
    for i, ph in enumerate(log, start=1):
        by_phase[ph].append(i)
    assert set(PHASES) <= set(by_phase), by_phase.keys()
    assert len(by_phase["copy"]) > 50 and len(by_phase["verify"]) > 50  # copy/verify are chunked finely
    rnd = random.Random(20260301)
    chosen = {p for ph in PHASES for p in rnd.sample(by_phase[ph], min(POINTS_PER_PHASE, len(by_phase[ph])))}
    rest = sorted(set(range(1, len(log) + 1)) - chosen)  # top up from all points to TOTAL_POINTS
    points = sorted(chosen | set(rnd.sample(rest, max(0, TOTAL_POINTS - len(chosen)))))
    assert len(points) >= 50

    outcomes: dict[str, list[int]] = defaultdict(list)
    for n in points:
        home = tmp_path / f"k{n}"
        shutil.copytree(template, home)
        monkeypatch.setenv("KIOSK_HOME", str(home))
        sig, _ = _run(b2, home, kill_at=n)
        assert sig == signal.SIGKILL, f"point {n} ({log[n - 1]}): child was not killed ({sig})"
        seq = _shown(home)
        assert seq in (OLD, NEW)
        outcomes[log[n - 1]].append(seq)
        # the next import: refused cleanly if the new version is already shown, else it succeeds
        if seq == NEW:
            before = tree_digest(home)
            assert run_cli("import", b2) != 0
            assert "is already installed" in capsys.readouterr().err
            assert tree_digest(home) == before
            assert install.cleanup(home)
        else:
            assert current_version_id(home) == old
            assert run_cli("import", b2) == 0
            capsys.readouterr()
            assert _shown(home) == NEW
        mdir = home / "mirror"
        st = install.read_state(home)
        assert list((mdir / "staging").iterdir()) == []
        assert sorted(p.name for p in (mdir / "versions").iterdir()) == sorted([st["current"], st["last_known_good"]])
        assert not list(mdir.glob(".state.json.tmp*"))
        shutil.rmtree(home)
    # before the switch the old version is shown, after it the new one
    for ph in ("precheck", "clean", "copy", "fsync", "verify", "check_db", "publish"):
        assert set(outcomes[ph]) == {OLD}, (ph, outcomes[ph])
    assert set(outcomes["gc"]) == {NEW} and set(outcomes["switch"]) == {OLD, NEW}
    print({ph: outcomes[ph] for ph in PHASES})
