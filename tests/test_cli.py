"""The CLI's promise: every expected failure is one line on stderr and a non-zero exit."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli


def _one_line_error(capsys, rc: int, needle: str) -> str:
    err = capsys.readouterr().err
    assert rc != 0, err
    assert err.count("\n") == 1 and err.startswith("kiosk: error: "), err
    assert needle in err, err
    return err


@pytest.mark.parametrize("size", ["10x10", "abc", "1920"])
def test_screenshot_bad_size(capsys, size, tmp_path):
    _one_line_error(capsys, run_cli("screenshot", "home", "--out", tmp_path / "x.png", "--size", size), "--size")


def test_screenshot_out_in_missing_folder_creates_nothing(capsys, tmp_path):
    target = tmp_path / "nodir" / "sub" / "x.png"
    _one_line_error(capsys, run_cli("screenshot", "home", "--out", target), "does not exist")
    assert not (tmp_path / "nodir").exists()


def test_screenshot_out_must_be_png_file(capsys, tmp_path):
    _one_line_error(capsys, run_cli("screenshot", "home", "--out", tmp_path), "must name a .png file")


def test_trust_a_folder(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "h"))
    _one_line_error(capsys, run_cli("trust", tmp_path), "Is a directory")


def test_keygen_name_too_long(capsys, tmp_path):
    _one_line_error(capsys, run_cli("keygen", "--out", tmp_path / ("村" * 90)), "File name too long")


def test_unwritable_kiosk_home(capsys, monkeypatch, small_bundle):
    monkeypatch.setenv("KIOSK_HOME", "/proc/cunwu-kiosk-test")
    _one_line_error(capsys, run_cli("import", small_bundle), "/proc/cunwu-kiosk-test")


def test_missing_bundle_path(capsys, home, tmp_path):
    _one_line_error(capsys, run_cli("import", tmp_path / "nope"), "nope")


def test_help_lists_every_command():
    out = subprocess.run([sys.executable, "-m", "kiosk", "--help"], capture_output=True, text=True, check=True).stdout
    for cmd in ("demo-data", "keygen", "trust", "bundle", "import", "status", "run", "screenshot", "check", "pin",
                "keylist", "sync", "publish", "stick", "devices", "print-test", "read-card", "bench"):
        assert cmd in out, cmd
