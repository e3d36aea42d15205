"""A SIGKILLed ``kiosk bundle build`` leaves no hidden ``.OUT.building<pid>`` folder and no
hashing worker living on (issue 16, "Faults and bad input")."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest


def _children(pid: int) -> set[int]:
    out: set[int] = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out |= {int(x) for x in f.read().split()}
    except OSError:
        pass
    return out


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")  # a zombie has ended
    except OSError:
        return False


def _wait_for(cond, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="needs Linux /proc")
def test_sigkilled_build_leaves_no_folder_and_no_workers(tmp_path, demo_source, test_key):
    out = tmp_path / "bundle"
    proc = subprocess.Popen([sys.executable, "-m", "kiosk", "bundle", "build", str(demo_source), "--key",
                             str(test_key / "signing.key"), "--seq", "1", "--out", str(out), "--id-hash-n", "16384"],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    try:
        for line in proc.stderr:  # progress lines: wait until the ID numbers are being hashed
            if "hashing ID numbers" in line:
                break
        workers = min(2, os.cpu_count() or 1)
        _wait_for(lambda: len(_children(proc.pid)) >= workers, "the hashing workers")
        kids = _children(proc.pid)
        hidden = list(tmp_path.glob(".bundle.building*"))
        assert len(hidden) == 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stderr.close()
    _wait_for(lambda: not any(_alive(k) for k in kids), "the workers and the watcher to end")
    _wait_for(lambda: not hidden[0].exists(), "the hidden folder to go")
    assert list(tmp_path.iterdir()) == []


def test_an_ordinary_failure_dismisses_the_watcher(tmp_path, small_src, monkeypatch):
    from kiosk.cache import buildguard
    from kiosk.county import build as bundle

    monkeypatch.setattr(bundle, "write_database", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    from conftest import run_cli  # noqa: F401  (keys)
    from kiosk.cache import keys

    k, _ = keys.generate(tmp_path / "k")
    with pytest.raises(RuntimeError):
        bundle.build(small_src, k, 1, tmp_path / "out")
    assert buildguard.current() is None
    assert [p.name for p in tmp_path.iterdir()] == ["k"]
