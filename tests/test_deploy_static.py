"""Static checks of deploy/: shellcheck on every shell script, ``systemd-analyze verify`` on
every unit, ``install.sh --dry-run`` changes nothing, and the unit settings made from the
config table. The real install and boot are in tests/deploy (``make test-deploy``)."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from kiosk import config
from kiosk.commands.deploy import unit_settings

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def shell_scripts() -> list[Path]:
    out = []
    for p in sorted(list(DEPLOY.rglob("*")) + list((ROOT / "tests" / "deploy").rglob("*"))):
        if p.is_file() and not p.suffix == ".py":
            with open(p, "rb") as f:
                head = f.readline()
            if head.startswith(b"#!") and (b"sh" in head.split(b"/")[-1].split()[0] or b"bash" in head):
                out.append(p)
    return out


def test_every_script_passes_shellcheck():
    scripts = shell_scripts()
    names = {p.name for p in scripts}
    assert {"install.sh", "make-wheelhouse.sh", "x-auth", "wait-for-x", "paused-retry", "kiosk"} <= names
    r = subprocess.run(["shellcheck", "--severity=style", *map(str, scripts)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _exec_paths(unit: Path) -> set[str]:
    paths = set()
    for line in unit.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        if key.startswith("Exec") and value:
            cmd = value.lstrip("+-@:!").split()[0]
            if cmd.startswith("/"):
                paths.add(cmd)
    return paths


@pytest.fixture(scope="module")
def unit_root(tmp_path_factory) -> Path:
    """A root with systemd's own units, ours, and stand-ins for the programs they run
    (``systemd-analyze verify --root`` checks that each ExecStart= program exists)."""
    root = tmp_path_factory.mktemp("unitroot")
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    etc = root / "etc/systemd/system"
    etc.mkdir(parents=True)
    for u in UNITS:
        shutil.copy(u, etc / u.name)
        for exe in _exec_paths(u):
            p = root / exe.lstrip("/")
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text("#!/bin/sh\n")
            p.chmod(0o755)
    return root


@pytest.mark.parametrize("unit", [u.name for u in UNITS])
def test_unit_verifies(unit_root, unit):
    name = unit.replace("@.service", "@sdb1.service")
    r = subprocess.run(["systemd-analyze", "verify", f"--root={unit_root}", name], capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr


def test_units_are_the_ones_install_sh_installs():
    text = (DEPLOY / "install.sh").read_text(encoding="utf-8")
    for u in UNITS:
        assert u.name in text, f"install.sh does not install {u.name}"


def test_kiosk_unit_recovers_and_leaks_no_core():
    text = (DEPLOY / "systemd" / "cunwu-kiosk.service").read_text(encoding="utf-8")
    for line in ("Type=notify", "NotifyAccess=main", "Restart=always", "OnFailure=cunwu-kiosk-paused.service",
                 "RestartPreventExitStatus=15", "LimitCORE=0", "User=cunwu-kiosk"):
        assert line in text.splitlines(), line
    assert "Conflicts=cunwu-kiosk.service" in (DEPLOY / "systemd" / "cunwu-kiosk-paused.service").read_text()


def test_unit_settings_from_the_config_table(tmp_path):
    cfg = config.load(path=tmp_path / "absent.json")
    text = unit_settings(cfg)
    lines = text.splitlines()
    assert "StartLimitIntervalSec=600" in lines and "StartLimitBurst=6" in lines
    assert "WatchdogSec=30" in lines and "TimeoutStartSec=120" in lines and "RestartSec=2" in lines
    cfg["recovery"]["crash_loop_restarts"] = 3
    cfg["recovery"]["crash_loop_minutes"] = 2
    cfg["timeouts"]["watchdog"] = 12
    lines = unit_settings(cfg).splitlines()
    assert "StartLimitIntervalSec=120" in lines and "StartLimitBurst=4" in lines and "WatchdogSec=12" in lines


@pytest.mark.parametrize("table,key,value", [
    ("timeouts", "watchdog", "30"), ("timeouts", "watchdog", 1), ("timeouts", "app_start", 2.5),
    ("recovery", "crash_loop_restarts", True), ("recovery", "crash_loop_minutes", 0),
])
def test_unit_settings_refuse_bad_values(tmp_path, table, key, value):
    cfg = config.load(path=tmp_path / "absent.json")
    cfg[table][key] = value
    with pytest.raises(config.ConfigError, match=key):
        unit_settings(cfg)


def test_check_config_cli(tmp_path, capsys):
    from kiosk.cli import main

    good = tmp_path / "good.json"
    good.write_text('{"recovery": {"crash_loop_restarts": 3}}', encoding="utf-8")
    assert main(["deploy", "check-config", str(good)]) == 0
    bad = tmp_path / "bad.json"
    bad.write_text('{"recovery": ', encoding="utf-8")
    assert main(["deploy", "check-config", str(bad)]) == 15
    assert "cannot read" in capsys.readouterr().err
    worse = tmp_path / "worse.json"
    worse.write_text('{"timeouts": {"watchdog": "soon"}}', encoding="utf-8")
    assert main(["deploy", "check-config", str(worse)]) == 15


@pytest.mark.skipif(not Path("/etc/os-release").exists() or "bookworm" not in Path("/etc/os-release").read_text(),
                    reason="install.sh runs on Debian 12 / Raspberry Pi OS bookworm only")
def test_install_dry_run_changes_nothing(tmp_path):
    watched = [Path("/opt/cunwu-kiosk"), Path("/var/lib/cunwu-kiosk"), Path("/etc/systemd/system/cunwu-kiosk.service"),
               Path("/etc/polkit-1/rules.d/50-cunwu-kiosk.rules"), Path("/usr/local/bin/kiosk")]
    before = {p: p.exists() for p in watched}
    r = subprocess.run([str(DEPLOY / "install.sh"), "--dry-run", "--no-bootloader"], capture_output=True, text=True,
                       env={**os.environ, "LANG": "C.UTF-8"}, timeout=120)
    assert r.returncode == 0, r.stderr
    out = r.stdout
    for step in ("== system packages", "== user cunwu-kiosk", "== app", "== systemd units", "== trusted keys"):
        assert step in out
    if not before[Path("/etc/systemd/system/cunwu-kiosk.service")]:
        assert "would install /etc/systemd/system/cunwu-kiosk.service (mode 0644)" in out
        assert "would run: systemctl enable cunwu-kiosk.service" in out
        assert "would run: systemctl mask getty@tty1.service" in out
    assert {p: p.exists() for p in watched} == before
