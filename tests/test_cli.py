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


def _error_classes():
    """Every KioskError subclass the kiosk defines (imported so they register)."""
    import importlib
    import pkgutil

    import kiosk
    from kiosk.errors import KioskError

    for mod in pkgutil.walk_packages(kiosk.__path__, "kiosk."):
        if not any(part in mod.name for part in (".screens", ".app", ".bench", ".tools", "kiosk.commands.ui", "__main__")):
            importlib.import_module(mod.name)
    seen, todo = [], [KioskError]
    while todo:
        c = todo.pop()
        seen.append(c)
        todo.extend(c.__subclasses__())
    return seen


def test_each_exit_code_has_one_meaning():
    """The exit-code table: every error family has its own code, and codes that used to
    collide (BundleError/ReaderUnavailable, PinError/DiskFull, PinLocked/StickError) differ."""
    from kiosk.cache.bundle import BundleError
    from kiosk.cache.pin import PinError, PinLocked
    from kiosk.cache.sync import DiskFull
    from kiosk.config import ConfigError
    from kiosk.devices.idcard.errors import ReaderUnavailable
    from kiosk.devices.usbstick.errors import StickError
    from kiosk.errors import Exit

    assert len({int(e) for e in Exit}) == len(Exit)
    assert len({BundleError.exit_code, ReaderUnavailable.exit_code, PinError.exit_code, DiskFull.exit_code,
                PinLocked.exit_code, StickError.exit_code, ConfigError.exit_code}) == 7
    families: dict[int, set[str]] = {}
    for cls in _error_classes():
        assert isinstance(cls.exit_code, Exit), f"{cls.__name__}.exit_code is not from kiosk.errors.Exit"
        root = next(c for c in reversed(cls.__mro__) if c.__dict__.get("exit_code") == cls.exit_code)
        families.setdefault(int(cls.exit_code), set()).add(root.__name__)
    clashes = {code: names for code, names in families.items() if len(names) > 1 and code != Exit.FAILED}
    assert not clashes, clashes


def test_malformed_config_is_one_line_with_its_own_code(tmp_path, monkeypatch, capsys):
    from kiosk.errors import Exit

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.json").write_text("{not json", encoding="utf-8")
    monkeypatch.setenv("KIOSK_HOME", str(home))
    rc = run_cli("sync", "http://127.0.0.1:9/")
    err = _one_line_error(capsys, rc, "config.json")
    assert rc == Exit.CONFIG, err
