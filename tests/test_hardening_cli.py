"""Bad input and broken set-ups give one line, never a traceback (issue 16, "Faults and bad
input"), and the ID-card command prints nothing that rebuilds an ID number ("Privacy")."""
from __future__ import annotations

import errno
import json
import re
import sys
import types
from pathlib import Path

import pytest
from conftest import run_cli

from kiosk.cache import contact
from kiosk.devices.idcard.simulator import read_reply, synthetic_cards
from kiosk.devices.idcard.text import parse_text
from kiosk.errors import Exit

CARDS = synthetic_cards()


def _one_line(capsys) -> str:
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("kiosk: error: ") and "Traceback" not in err, err
    return err


# ---------------------------------------------------------------- read-card

def test_replay_with_an_odd_number_of_hex_digits_is_one_line(tmp_path, capsys):
    f = tmp_path / "reply.hex"
    f.write_text(read_reply(CARDS[0].text).hex(" ") + " a\n")
    assert run_cli("read-card", "--replay", f) != 0
    assert "odd number of hex digits" in _one_line(capsys)


@pytest.mark.parametrize("as_json", [False, True])
def test_read_card_prints_the_birth_year_at_most(tmp_path, capsys, as_json):
    f = tmp_path / "reply.bin"
    f.write_bytes(read_reply(CARDS[0].text))
    card = parse_text(CARDS[0].text)
    assert run_cli("read-card", "--replay", f, *(["--json"] if as_json else [])) == 0
    out = capsys.readouterr().out
    assert card.id_number[-4:] not in out and card.id_number[6:14] not in out
    b = card.birth
    for shown in (b.isoformat(), f"{b:%Y.%m.%d}", f"{b.year}年{b.month}月{b.day}日", f"{b:%Y%m%d}"):
        assert shown not in out
    assert str(b.year) in out and card.id_number[:4] + "*" * 14 in out


# ---------------------------------------------------------------- config.json

def _no_kivy(monkeypatch, run) -> None:
    """kiosk run without Kivy: the app's ``run()`` is ``run``."""
    class App:
        def __init__(self, home):
            pass

        def run(self):
            return run()

    monkeypatch.setitem(sys.modules, "kiosk.app", types.SimpleNamespace(KioskApp=App))
    monkeypatch.setitem(sys.modules, "kiosk.screens.kivyconfig", types.SimpleNamespace(configure_kivy=lambda *a, **k: None, kivy_env=lambda *a, **k: None))


BAD_CONFIGS = ['{"panel": 5}', '{"timeouts": []}', '{"scope": 431382}', '{"sync": {"every_hours": "often"}}',
               '{bad json', "[" * 100000 + "]" * 100000]


@pytest.mark.parametrize("cfg", BAD_CONFIGS, ids=["panel", "timeouts", "scope", "sync", "syntax", "nested"])
@pytest.mark.parametrize("cmd", ["run", "import", "screenshot", "sync"])
def test_malformed_config_is_one_line(tmp_path, monkeypatch, capsys, small_bundle, cfg, cmd):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    (tmp_path / "config.json").write_text(cfg)
    args = {"run": ["run"], "import": ["import", small_bundle], "screenshot": ["screenshot", "home", "--out",
            tmp_path / "x.png"], "sync": ["sync", "http://127.0.0.1:9/"]}[cmd]
    _no_kivy(monkeypatch, lambda: pytest.fail("started"))
    # kiosk run under systemd; started by hand it shows 暂停服务 first (test_ui_paused.py)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    assert run_cli(*args) == Exit.CONFIG
    assert "config.json" in _one_line(capsys)


@pytest.mark.parametrize("exc", [OSError(errno.EROFS, "Read-only file system", "/x/run/running"),
                                 RuntimeError("GL context lost"), TypeError("'int' object is not subscriptable")])
def test_run_never_dies_with_a_traceback(tmp_path, monkeypatch, capsys, exc):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))

    def crash():
        raise exc

    _no_kivy(monkeypatch, crash)
    assert run_cli("run") != 0
    err = _one_line(capsys)
    assert type(exc).__name__ in err or "Read-only file system" in err
    if not isinstance(exc, OSError):
        assert "Traceback" in (tmp_path / "run/last-crash.txt").read_text()


def test_config_scope_must_be_a_division_code(tmp_path):
    from kiosk import config

    (tmp_path / "config.json").write_text(json.dumps({"scope": "43138211124"}))
    with pytest.raises(config.ConfigError, match="scope must be a 6-, 9- or 12-digit division code"):
        config.load(tmp_path)
    cfg, problem = config.load_or_defaults(tmp_path)
    assert cfg == config.DEFAULTS and problem is not None


# ---------------------------------------------------------------- 暂停服务: the office phone

def test_office_phone_from_the_installed_data_without_config(demo_home, demo_source, tmp_path):
    import shutil

    village = json.loads((demo_source / "village.json").read_text(encoding="utf-8"))
    boss = village["cadres"][0]
    c = contact.office_contact(demo_home)
    assert (c.place, c.phone, c.person, c.role) == ("洪泉村村委会", boss["phone"], boss["name"], boss["role"])
    assert c.line_zh == f"如需帮助，请联系洪泉村村委会：{boss['phone']}（{boss['name']}，{boss['role']}）"
    # config.json and state.json both broken: still found in the version folder
    h = tmp_path / "h"
    shutil.copytree(demo_home, h)
    (h / "config.json").write_text("{bad")
    (h / "mirror/state.json").write_text("[" * 10000)
    assert contact.office_contact(h).phone == boss["phone"]
    assert contact.office_contact(tmp_path / "never-installed") is None


@pytest.mark.parametrize("cmd", [["check"], ["status"], ["flags", "list"]])
def test_a_config_typo_is_exit_15_and_never_sets_data_aside(home, capsys, small_bundle, cmd):
    """A typo in config.json ("35" for 35) once made `kiosk check` quarantine intact data and
    `kiosk status` call it damaged: it is a config error (15), and the data stay as they were."""
    assert run_cli("import", small_bundle) == 0
    before = sorted(p.name for p in (home / "mirror" / "versions").iterdir())
    capsys.readouterr()
    (home / "config.json").write_text('{"stale_after_days": "35"}')
    assert run_cli(*cmd) == Exit.CONFIG
    assert "stale_after_days" in _one_line(capsys)
    (home / "config.json").unlink()
    assert sorted(p.name for p in (home / "mirror" / "versions").iterdir()) == before
    assert not (home / "mirror" / "quarantine").exists() or not any((home / "mirror" / "quarantine").iterdir())
    assert run_cli("check") == 0


def test_screenshot_to_a_folder_that_cannot_be_written_is_exit_8(tmp_path, monkeypatch, capsys):
    """Once a 12-line traceback after Kivy had started (``--out /proc/a.png``)."""
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path))
    assert run_cli("screenshot", "home", "--out", "/proc/a.png") == Exit.NOT_WRITABLE
    assert "/proc" in _one_line(capsys)


@pytest.mark.parametrize("panel,needle", [({"width_px": 0}, "panel.width_px must be between 320 and 10000"),
                                          ({"diagonal_inch": 0}, "panel.diagonal_inch must be between 5 and 120")])
def test_a_zero_panel_size_is_a_config_error(tmp_path, panel, needle):
    from kiosk import config

    (tmp_path / "config.json").write_text(json.dumps({"panel": panel}))
    with pytest.raises(config.ConfigError, match=needle):
        config.load(tmp_path)
