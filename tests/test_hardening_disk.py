"""A full disk during ``kiosk import`` (issue 16): said as such (not blamed on the stick), the
CLI checks the space before copying anything, and KIOSK_HOME is left as it was."""
from __future__ import annotations

import builtins
import errno
import os
import shutil
import subprocess
from collections import namedtuple

import pytest
from conftest import run_cli, tree_digest

from kiosk.cache import fsutil
from kiosk.cache import install as I
from kiosk.errors import Exit


class _FillingFile:
    """A file object whose writes fail with ENOSPC after ``room`` bytes (a disk filling up)."""

    def __init__(self, f, room: int):
        self.f, self.room = f, room

    def write(self, b: bytes) -> int:
        if len(b) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device", self.f.name)
        self.room -= len(b)
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def _err(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_disk_filling_up_during_the_copy_is_said_so(home, small_bundle, monkeypatch, capsys):
    before = tree_digest(home)

    def filling_open(path, mode="r", *a, **kw):
        f = builtins.open(path, mode, *a, **kw)
        return _FillingFile(f, 4096) if "w" in mode and str(path).endswith(".sqlite") else f

    monkeypatch.setattr(I, "open", filling_open, raising=False)
    assert run_cli("import", small_bundle) == Exit.DISK_FULL
    err = _err(capsys)
    assert "disk is full" in err and "终端存储空间已满" in err and "U盘" not in err
    monkeypatch.undo()
    assert tree_digest(home) == before


def test_import_checks_free_space_before_copying(home, small_bundle, monkeypatch, capsys):
    before = tree_digest(home)
    usage = namedtuple("usage", "total used free")
    real = shutil.disk_usage
    monkeypatch.setattr(fsutil.shutil, "disk_usage",
                        lambda p: usage(10 << 30, 10 << 30, 1 << 20) if str(p).startswith(str(home)) else real(p))
    copied = []
    monkeypatch.setattr(I, "_copy", lambda *a, **k: copied.append(a))
    assert run_cli("import", small_bundle) == Exit.DISK_FULL
    err = _err(capsys)
    assert "not enough free space" in err and "终端存储空间不足" in err
    assert copied == [] and tree_digest(home) == before


def test_a_real_full_disk(tmp_path, test_key, small_bundle, monkeypatch, capsys):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    h = tmp_path / "tiny"
    h.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=40m", "tmpfs", h], capture_output=True).returncode:
        pytest.skip("tmpfs cannot be mounted here")
    try:
        monkeypatch.setenv("KIOSK_HOME", str(h))
        assert run_cli("trust", test_key / "signing.pub") == 0
        free = shutil.disk_usage(h).free
        with open(h / "filler", "wb") as f:
            f.write(b"\0" * (free - 64 * 1024))
        capsys.readouterr()
        before = tree_digest(h)
        assert run_cli("import", small_bundle) == Exit.DISK_FULL
        assert "not enough free space" in _err(capsys)
        monkeypatch.setattr(I, "check_free_space", lambda *a, **k: None)  # filled after the check
        assert run_cli("import", small_bundle) == Exit.DISK_FULL
        err = _err(capsys)
        assert "disk is full" in err and "U盘" not in err
        assert tree_digest(h) == before
    finally:
        subprocess.run(["umount", "-l", h], capture_output=True)
