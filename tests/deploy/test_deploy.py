"""``make test-deploy``: install.sh for real in a throwaway Debian 12 root, booted with systemd
as PID 1 (systemd-nspawn, no network, Xvfb standing in for the panel), and what the box
must then do by itself: start the kiosk with no login (READY from its first frame), draw a
full-screen frame, restart a killed app, restart a frozen UI thread (watchdog), show
暂停服务 on a crash loop and on a malformed config.json, mount a technician's stick as the
kiosk's user, update the app from a signed stick and roll a broken update back, and keep
personal data out of the journal after a card lookup.

Needs root, debootstrap, systemd-nspawn, loop devices and network on the host (for
debootstrap and the wheelhouse; both cached under .cache/deploy-test). Timings are
printed as figures (and .cache/deploy-test/figures.json), never asserted.

The tests are steps of one story on one booted system and run in file order
(``-p no:randomly``, as ``make test-deploy`` does).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from box import CACHE, REPO, SCREEN, XVFB_DROPIN, Box, log, record, run, wait_until, wheelhouse  # noqa: E402

pytestmark = pytest.mark.deploy

KUSER = "cunwu-kiosk"
KIOSK = "/usr/local/bin/kiosk"
XENV = "DISPLAY=:0 XAUTHORITY=/run/cunwu-kiosk-x/Xauthority"
RESTARTS = 3  # recovery.crash_loop_restarts in the test config
CONFIG = {
    "idcard": {"device": "serial:/run/kiosk-test/reader"},
    "printer": {"device": "sim"},
    "recovery": {"crash_loop_restarts": RESTARTS, "crash_loop_minutes": 10},
    "timeouts": {"watchdog": 10, "paused_retry": 3600, "app_update_health": 120, "app_update_settle": 5},
    "display": {"open_hours": [["00:00", "23:59"]]},
}
FIGURES: dict = {}


def _host_kiosk(*args, env=None) -> None:
    run(REPO / ".venv" / "bin" / "kiosk", *args, env={**os.environ, **(env or {})}, timeout=900)


def _exfat_stick(img: Path, tree: Path) -> Path:
    """A 64 MB exFAT image holding ``tree`` (exFAT: FUSE shows real names where the kernel
    has no exfat driver; FAT would show 8.3 names through fusefat)."""
    run("truncate", "-s", "64M", img)
    run("mkfs.exfat", img)
    dev = run("losetup", "-f", "--show", img).stdout.strip()
    mnt = img.with_suffix(".mnt")
    mnt.mkdir()
    try:
        run("mount.exfat-fuse", dev, mnt)
        try:
            run("cp", "-r", *[str(p) for p in sorted(tree.iterdir())], mnt)
        finally:
            run("umount", mnt)
    finally:
        run("losetup", "-d", dev)
    return img


def _app_wheel(work: Path, version: str, broken: bool = False) -> Path:
    """The app's wheel from this source tree with another version (and, ``broken``, a
    ``kiosk run`` that exits at once: an update that never shows a frame)."""
    src = work / f"src-{version}"
    files = run("git", "-C", REPO, "ls-files", "-z").stdout.split("\0")
    for f in filter(None, files):
        if (REPO / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / f, src / f)
    for rel, old, new in (("pyproject.toml", 'version = "0.1.0"', f'version = "{version}"'),
                          ("kiosk/__init__.py", '__version__ = "0.1.0"', f'__version__ = "{version}"')):
        text = (src / rel).read_text(encoding="utf-8")
        assert old in text, rel
        (src / rel).write_text(text.replace(old, new), encoding="utf-8")
    if broken:
        ui = src / "kiosk/commands/ui.py"
        ui.write_text(ui.read_text(encoding="utf-8").replace(
            "def cmd_run(args) -> int:\n", "def cmd_run(args) -> int:\n    raise SystemExit('broken on purpose (test)')\n"),
            encoding="utf-8")
    run(REPO / ".venv/bin/pip", "wheel", "-q", "--no-deps", "-w", work / f"whl-{version}", src, timeout=600)
    return next((work / f"whl-{version}").glob("cunwu_kiosk-*.whl"))


def _app_package(k: Path, wh: Path, version: str, out: Path, broken: bool = False) -> Path:
    wheels = k / f"wheels-{version}"
    wheels.mkdir()
    for w in (wh / "x86_64" / "wheels").iterdir():
        if not w.name.startswith("cunwu_kiosk-"):
            os.link(w, wheels / w.name)
    shutil.copy(_app_wheel(k, version, broken), wheels)
    _host_kiosk("app", "build", wheels, "--key", k / "app-test-key/signing.key", "--out", out)
    return out


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> dict:
    """Everything made on the host before the box boots: keys, the demo village's bundles,
    the stick image, the test config, the wheelhouse."""
    k = tmp_path_factory.mktemp("kit")
    _host_kiosk("keygen", "--out", k / "county-test-key")
    _host_kiosk("keygen", "--out", k / "app-test-key")
    _host_kiosk("demo-data", "--village", "431382111249", "--out", k / "source", "--seed", "1")
    for seq in (1, 2):
        _host_kiosk("bundle", "build", k / "source", "--key", k / "county-test-key/signing.key", "--seq", str(seq),
                    "--out", k / f"bundle{seq}", "--id-hash-n", "1024", "--quiet")
    wh = wheelhouse()
    # stick 1: a data bundle and a good app update (0.1.1); stick 2: a broken one (0.1.2)
    stick = k / "stick-tree"
    stick.mkdir()
    _host_kiosk("publish", k / "bundle2", stick / "cunwu")
    _app_package(k, wh, "0.1.1", stick / "cunwu-kiosk-app" / "0.1.1-x86_64")
    broken = k / "stick2-tree"
    _app_package(k, wh, "0.1.2", broken / "cunwu-kiosk-app" / "0.1.2-x86_64", broken=True)
    (k / "config.json").write_text(json.dumps(CONFIG, ensure_ascii=False, indent=2), encoding="utf-8")
    shutil.copy(Path(__file__).parent / "fake_reader.py", k / "fake_reader.py")
    return {"dir": k, "wheelhouse": wh, "stick_img": _exfat_stick(k / "stick.img", stick),
            "stick2_img": _exfat_stick(k / "stick2.img", broken)}


@pytest.fixture(scope="module")
def loops(kit):
    """The stick images as read-only loop devices, bound into the box."""
    devs = {}
    for name in ("stick_img", "stick2_img"):
        devs[name] = run("losetup", "-r", "-f", "--show", kit[name]).stdout.strip()
    yield devs
    for d in devs.values():
        run("losetup", "-d", d, check=False)


@pytest.fixture(scope="module")
def box(kit, loops) -> Box:
    bx = Box(CACHE / "run", binds=list(loops.values()))
    log("making the root")
    bx.create()
    run("cp", "-al", kit["wheelhouse"], bx.root / "srv/wheelhouse")
    run("cp", "-a", REPO / "deploy", bx.root / "srv/deploy")
    (bx.root / "srv/kit").mkdir(mode=0o755)
    run("cp", "-a", kit["dir"] / "county-test-key", kit["dir"] / "app-test-key", kit["dir"] / "bundle1",
        kit["dir"] / "config.json", kit["dir"] / "fake_reader.py", bx.root / "srv/kit")
    bx.write("/etc/systemd/system/cunwu-kiosk-display.service.d/50-test-xvfb.conf", XVFB_DROPIN)
    record(FIGURES, "first_boot_s", bx.boot())
    try:
        yield bx
    finally:
        bx.poweroff()


def _install(box: Box) -> subprocess.CompletedProcess:
    return box.sh("/srv/deploy/install.sh --offline /srv/wheelhouse --no-bootloader --config /srv/kit/config.json "
                  "--county-key /srv/kit/county-test-key/signing.pub --app-key /srv/kit/app-test-key/signing.pub",
                  timeout=1800, check=False)


def _kiosk_state(box: Box) -> dict:
    return box.show("cunwu-kiosk.service", "ActiveState", "SubState", "MainPID", "NRestarts", "StatusText", "Result",
                    "ActiveEnterTimestampMonotonic")


def _ready(box: Box, not_pid: str | None = None):
    """The app is active (READY arrived) with a main PID other than ``not_pid``."""
    s = _kiosk_state(box)
    return s if s["ActiveState"] == "active" and s["MainPID"] not in ("0", not_pid) else None


def _screenshot(box: Box, name: str):
    from PIL import Image

    # /var/tmp: on the root's disk, so the host reads it (/run is the container's tmpfs)
    box.sh(f"env {XENV} /opt/cunwu-kiosk/current/bin/kiosk display screenshot --out /var/tmp/{name}.png", user=KUSER)
    out = CACHE / "screens" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    box.copy_out(f"/var/tmp/{name}.png", out)
    return Image.open(out).convert("RGB")


def _has_colour(im, rgb, tol=12) -> bool:
    return any(all(abs(a - b) < tol for a, b in zip(px, rgb)) for px in im.resize((480, 270)).getdata())


# ---- install -------------------------------------------------------------------------------------
def test_install_offline(box):
    t0 = time.monotonic()
    r = _install(box)
    record(FIGURES, "install_s", time.monotonic() - t0)
    (CACHE / "install.log").write_text(r.stdout + "\n--- stderr\n" + r.stderr)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    assert "== done: version 0.1.0" in r.stdout
    # xvfb, the test's panel, from the same offline repository (not part of install.sh)
    box.sh("d=$(mktemp -d); mkdir -p $d/lists/partial $d/parts; "
           "echo 'deb [trusted=yes] file:/srv/wheelhouse/x86_64/debs ./' > $d/sources.list; "
           "A=\"-o Dir::Etc::SourceList=$d/sources.list -o Dir::Etc::SourceParts=$d/parts -o Dir::State::Lists=$d/lists "
           "-o Acquire::Languages=none -o APT::Sandbox::User=root\"; apt-get -qq $A update && "
           "DEBIAN_FRONTEND=noninteractive apt-get -qq -y $A install --no-install-recommends xvfb", timeout=600)


def test_install_again_changes_nothing(box):
    r = _install(box)
    assert r.returncode == 0, r.stderr
    acted = [line for line in r.stdout.splitlines() if line.startswith(("+ ", "installed ", "wrote "))]
    assert acted == [], acted
    assert "version 0.1.0" in r.stdout and "already installed" in r.stdout


def test_installed_layout(box):
    st = box.sh("stat -c '%U:%G %a' /var/lib/cunwu-kiosk /var/lib/cunwu-kiosk-app /opt/cunwu-kiosk").stdout.split("\n")
    assert st[:3] == [f"{KUSER}:{KUSER} 750", "root:root 755", "root:root 755"]
    assert box.sh("readlink /opt/cunwu-kiosk/current").stdout.startswith("venvs/0.1.0-")
    assert {KUSER, "kiosk", "video", "audio", "dialout", "lp"} <= set(box.sh(f"id -nG {KUSER}").stdout.split())
    assert box.sh("getent passwd cunwu-kiosk | cut -d: -f7").stdout.strip() == "/usr/sbin/nologin"
    for u in ("cunwu-kiosk-display", "cunwu-kiosk", "cunwu-kiosk-blanking", "cunwu-kiosk-health"):
        assert box.sh(f"systemctl is-enabled {u}.service").stdout.strip() == "enabled"
    for u in ("getty@tty1.service", "ctrl-alt-del.target"):
        assert box.sh(f"systemctl is-enabled {u}", check=False).stdout.strip() == "masked"
    assert box.sh("systemctl get-default").stdout.strip() == "graphical.target"
    assert box.sh("readlink /etc/localtime").stdout.strip().endswith("Asia/Shanghai")


def test_first_setup_steps(box):
    """The documented steps: trusted keys (given to install.sh), the technician PIN, the first import."""
    keys = box.sh(f"{KIOSK} trust --list").stdout.splitlines()
    assert len(keys) == 2 and keys[0].split()[1] == "data" and keys[1] == "key list seq 0"
    app_keys = box.sh("/opt/cunwu-kiosk/current/bin/kiosk app trust --list").stdout
    assert " app " in app_keys and " data " in app_keys
    box.sh(f"{KIOSK} pin set technician --pin-stdin", input="246810\n")
    out = box.sh(f"{KIOSK} import /srv/kit/bundle1").stdout
    assert "installed 第1版" in out
    st = json.loads(box.sh(f"{KIOSK} status --json").stdout)
    assert st["seq"] == 1
    # every file the app wrote belongs to its user
    assert box.sh(f"find /var/lib/cunwu-kiosk ! -user {KUSER} | head -5").stdout.strip() == ""


# ---- boot ----------------------------------------------------------------------------------------
def test_boots_straight_into_the_kiosk(box):
    box.poweroff()
    box.boot()
    s = wait_until(lambda: _ready(box), 120, "the kiosk app to send READY")
    record(FIGURES, "boot_to_first_frame_s", int(s["ActiveEnterTimestampMonotonic"]) / 1e6 - box.boot_started)
    assert s["StatusText"] == "cunwu-kiosk 0.1.0 运行中"
    assert s["NRestarts"] == "0"
    # nothing else on any console: no getty, no display manager, no login session
    comms = box.sh("cat /proc/[0-9]*/comm 2>/dev/null", check=False).stdout.split()
    assert not {"login", "lightdm", "gdm3", "Xorg.wrap", "Xwayland", "cage"} & set(comms)
    assert box.sh("systemctl list-units 'getty@*' 'autovt@*' --state=active --no-legend", check=False).stdout.strip() == ""
    # the only getty is the container's console-getty (nspawn's /dev/console), never on a VT
    gettys = box.sh("for p in /proc/[0-9]*; do [ \"$(cat $p/comm 2>/dev/null)\" = agetty ] && "
                    "tr '\\0' ' ' < $p/cmdline && echo; done", check=False).stdout.split("\n")
    assert all(" tty" not in g.replace("/dev/", " ") or "console" in g for g in gettys if g.strip()), gettys
    assert box.sh("loginctl list-sessions --no-legend", check=False).stdout.strip() == ""
    assert box.sh("systemctl is-active cunwu-kiosk-display cunwu-kiosk-blanking").stdout.split() == ["active"] * 2


def test_a_full_screen_frame(box):
    from PIL import Image

    im = wait_until(lambda: (lambda i: i if _has_colour(i, (14, 58, 103)) else None)(_screenshot(box, "home")),
                    90, "the home screen's header")
    assert im.size == SCREEN
    # the page colour reaches the bottom-right corner: the window covers the whole screen
    assert im.getpixel((SCREEN[0] - 2, SCREEN[1] - 40)) != (0, 0, 0)
    assert im.getpixel((2, 2)) != (0, 0, 0)
    assert isinstance(im, Image.Image)


def test_kiosk_user_may_mount_sticks_and_nothing_else(box):
    # polkit: the kiosk's user may not stop the display, nor start arbitrary units
    denied = ("Interactive authentication required", "Access denied")
    for cmd in ("stop cunwu-kiosk-display.service", "start cunwu-kiosk-paused.service", "restart cunwu-kiosk.service",
                "stop cunwu-kiosk-stick@sda1.service.d", "start getty@tty2.service", "poweroff"):
        r = box.sh(f"systemctl {cmd}", user=KUSER, check=False)
        assert r.returncode != 0 and any(d in r.stderr for d in denied), (cmd, r.stderr)
    assert box.sh("systemctl is-active cunwu-kiosk-display cunwu-kiosk").stdout.split() == ["active", "active"]
    # allowed to ask for a stick mount, and the helper refuses a disk that is not a stick
    disk = box.sh("ls /sys/class/block | grep -v loop | head -1", check=False).stdout.strip()
    if disk:
        r = box.sh(f"systemctl start cunwu-kiosk-stick@{disk}.service", user=KUSER, check=False)
        assert r.returncode != 0 and not any(d in r.stderr for d in denied), r.stderr
        assert "not on USB" in box.journal(f"-u cunwu-kiosk-stick@{disk}.service")


def test_stick_import_as_the_kiosk_user(box, loops):
    """The data on a technician's stick, mounted read-only through the root helper unit
    (systemd + polkit) by the kiosk's user, imported, unmounted."""
    dev = loops["stick_img"]
    out = box.sh(f"{KIOSK} stick {dev}", timeout=300).stdout
    assert "installed 第2版" in out and "可以拔出U盘" in out
    name = os.path.basename(dev)
    assert box.sh(f"systemctl is-active cunwu-kiosk-stick@{name}.service", check=False).stdout.strip() == "inactive"
    assert box.sh("findmnt -rn -o TARGET | grep cunwu-kiosk-usb", check=False).stdout.strip() == ""
    j = box.journal(f"-u cunwu-kiosk-stick@{name}.service")
    assert f"stick {name} mounted read-only (exfat" in j and f"stick {name} unmounted" in j


# ---- recovery ------------------------------------------------------------------------------------
def test_killed_app_is_restarted(box):
    s = _kiosk_state(box)
    box.sh("systemctl kill -s KILL cunwu-kiosk.service")
    t0 = time.monotonic()
    s2 = wait_until(lambda: _ready(box, s["MainPID"]), 60, "the killed app to be back")
    record(FIGURES, "restart_after_kill_s", time.monotonic() - t0)
    assert int(s2["NRestarts"]) == int(s["NRestarts"]) + 1


def test_frozen_ui_is_restarted_by_the_watchdog(box):
    s = _kiosk_state(box)
    box.sh(f"kill -STOP {s['MainPID']}")
    t0 = time.monotonic()
    wait_until(lambda: _ready(box, s["MainPID"]), 90, "the watchdog to restart the frozen app")
    record(FIGURES, "restart_after_freeze_s", time.monotonic() - t0)
    assert "Watchdog timeout" in box.journal("-u cunwu-kiosk.service")


def test_crash_loop_shows_paused(box):
    box.sh("systemctl reset-failed cunwu-kiosk.service")  # forget the restarts above
    killed: set[str] = set()

    def crash_each_start():
        s = _kiosk_state(box)
        if s["ActiveState"] == "failed":
            return True
        if s["MainPID"] not in ("0", *killed):  # a new process: crash it too
            killed.add(s["MainPID"])
            box.sh(f"kill -KILL {s['MainPID']}", check=False)
        return False

    wait_until(crash_each_start, 120, "systemd to give up restarting", every=0.2)
    # the process running before the reset, then RESTARTS + 1 starts (StartLimitBurst)
    assert len(killed) == RESTARTS + 2
    wait_until(lambda: box.sh("systemctl is-active cunwu-kiosk-paused", check=False).stdout.strip() == "active",
               60, "暂停服务 to start")
    assert _kiosk_state(box)["ActiveState"] == "failed"
    im = wait_until(lambda: (lambda i: i if _has_colour(i, (14, 58, 103)) and i.getpixel((5, 5)) == (247, 245, 239)
                             else None)(_screenshot(box, "paused")), 60, "the 暂停服务 page")
    assert im.size == SCREEN
    wait_until(lambda: "暂停服务: the app keeps failing to start" in box.journal("-u cunwu-kiosk-paused.service"),
               30, "暂停服务 to log why")


def test_app_comes_back_after_pause(box):
    box.sh("systemctl reset-failed cunwu-kiosk.service && systemctl start cunwu-kiosk.service")
    wait_until(lambda: _ready(box), 90, "the app after 暂停服务")
    # ordered after 暂停服务's stop: it is gone by the time the app is up
    assert box.sh("systemctl is-active cunwu-kiosk-paused", check=False).stdout.strip() == "inactive"


def test_malformed_config_shows_paused_at_once(box):
    box.sh("cp /var/lib/cunwu-kiosk/config.json /var/lib/cunwu-kiosk/config.good && "
           "printf '{\"printer\": ' > /var/lib/cunwu-kiosk/config.json", user=KUSER)
    before = int(_kiosk_state(box)["NRestarts"])
    try:
        box.sh("systemctl restart cunwu-kiosk.service", check=False)
        wait_until(lambda: box.sh("systemctl is-active cunwu-kiosk-paused", check=False).stdout.strip() == "active",
                   60, "暂停服务 for a malformed config")
        s = _kiosk_state(box)
        assert s["ActiveState"] == "failed" and int(s["NRestarts"]) == before  # not restarted: exit 15
        wait_until(lambda: "cannot read /var/lib/cunwu-kiosk/config.json" in box.journal("-u cunwu-kiosk-paused.service"),
                   60, "暂停服务 to name the malformed config")
        _screenshot(box, "paused-config")
    finally:
        box.sh("mv /var/lib/cunwu-kiosk/config.good /var/lib/cunwu-kiosk/config.json", user=KUSER)
        box.sh("systemctl reset-failed cunwu-kiosk.service && systemctl start cunwu-kiosk.service")
    wait_until(lambda: _ready(box), 90, "the app with its config repaired")


# ---- the app updates itself ----------------------------------------------------------------------
APPCMD = ("env KIOSK_HOME=/var/lib/cunwu-kiosk XDG_CACHE_HOME=/var/cache/cunwu-kiosk "
          "/opt/cunwu-kiosk/current/bin/kiosk app")


def _history(box: Box) -> list[dict]:
    return json.loads(box.sh("cat /var/lib/cunwu-kiosk-app/state.json").stdout)["history"]


def test_app_update_from_a_stick(box, loops):
    """As the kiosk's user (what the app does after the PIN): the stick mounted through the
    helper, the package spooled, the root unit verifies, installs into a new venv and
    switches; the app restarts as 0.1.1 and the health check keeps it."""
    t0 = time.monotonic()
    r = box.sh(f"{APPCMD} install {loops['stick_img']} --wait 400", user=KUSER, timeout=900, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "AppUpdateOffered: current_version=0.1.0, new_version=0.1.1" in r.stdout
    assert "kept: running 0.1.1" in r.stdout
    s = _kiosk_state(box)
    assert s["ActiveState"] == "active" and s["StatusText"] == "cunwu-kiosk 0.1.1 运行中"
    st = json.loads(box.sh(f"{APPCMD} status --json").stdout)
    assert (st["current"], st["previous"], st["trial"], st["failed"]) == ("0.1.1", "0.1.0", None, [])
    switched = next(h for h in reversed(_history(box)) if h["event"] == "switched")
    record(FIGURES, "app_update_total_s", time.monotonic() - t0)
    record(FIGURES, "app_update_switch_s", int(s["ActiveEnterTimestampMonotonic"]) / 1e6 - switched["mono"])
    assert box.sh("ls /opt/cunwu-kiosk/venvs | wc -l").stdout.strip() == "2"  # 0.1.0 and 0.1.1


def test_broken_app_update_rolls_back(box, loops):
    r = box.sh(f"{APPCMD} install {loops['stick2_img']} --wait 400", user=KUSER, timeout=900, check=False)
    assert r.returncode == 17, r.stdout + r.stderr
    assert "rolled back: running 0.1.1" in r.stdout
    s = wait_until(lambda: (lambda x: x if x["StatusText"] == "cunwu-kiosk 0.1.1 运行中" else None)(_ready(box) or
                                                                                               {"StatusText": ""}),
                   120, "0.1.1 to run again")
    st = json.loads(box.sh(f"{APPCMD} status --json").stdout)
    assert (st["current"], st["failed"]) == ("0.1.1", ["0.1.2"]) and st["result"]["rolled_back"] is True
    assert box.sh("systemctl is-active cunwu-kiosk-paused", check=False).stdout.strip() == "inactive"
    h = _history(box)
    switched = next(x for x in reversed(h) if x["event"] == "switched")
    rolled = next(x for x in reversed(h) if x["event"] == "rolled back")
    record(FIGURES, "app_rollback_detect_s", rolled["mono"] - switched["mono"])
    record(FIGURES, "app_rollback_back_up_s", int(s["ActiveEnterTimestampMonotonic"]) / 1e6 - rolled["mono"])
    assert "rolled back from 0.1.2 to 0.1.1" in box.journal("-u cunwu-kiosk-health.service")
    # offered again: refused, nothing changed
    r = box.sh(f"{APPCMD} install {loops['stick2_img']}", user=KUSER, timeout=300, check=False)
    assert r.returncode == 17 and "曾启动失败并已自动退回" in r.stderr
    assert box.sh("readlink /opt/cunwu-kiosk/current").stdout.startswith("venvs/0.1.1-")


# ---- personal data -------------------------------------------------------------------------------
def test_journal_holds_no_personal_data_after_a_card_lookup(box):
    before = _screenshot(box, "before-card")
    box.sh("systemd-run --unit=kiosk-test-reader /opt/cunwu-kiosk/current/bin/python /srv/kit/fake_reader.py "
           "/run/kiosk-test/reader /run/kiosk-test/card.json")
    wait_until(lambda: box.sh("cat /run/kiosk-test/card.json.log", check=False).stdout.strip(), 60,
               "the app to read the card")
    card = json.loads(box.sh("cat /run/kiosk-test/card.json").stdout)
    # the card holder's own page with their records: white rows below the header (the
    # "正在查询" page before it has none)
    def holder_rows():
        im = _screenshot(box, "card").crop((0, 200, SCREEN[0], SCREEN[1] - 150)).resize((384, 146))
        return sum(1 for px in im.getdata() if px == (255, 255, 255)) > 2000

    wait_until(holder_rows, 90, "the holder's records on screen")
    assert before.getpixel((5, 5)) != (255, 255, 255)
    box.sh("journalctl --sync")
    text = box.sh("journalctl --no-pager -o export").stdout
    birth = card["birth"].replace("-", "")
    leaks = [what for what, needle in [("ID number", card["id_number"]), ("ID number", card["id_number"].lower()),
                                       ("name", card["name"]), ("address", card["address"]),
                                       ("address", card["address"][6:18]), ("birth date", birth)]
             if needle and needle in text]
    assert leaks == [], f"the journal holds the card holder's {', '.join(leaks)}"
    box.sh("systemctl stop kiosk-test-reader", check=False)


def test_print_figures():
    """Not a test: the measured figures (also in .cache/deploy-test/figures.json)."""
    log("figures: " + json.dumps(FIGURES))
