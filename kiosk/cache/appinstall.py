"""Installing an app package (root): a new venv, an atomic switch, a health check, a rollback.

Layout (deploy/install.sh makes it)::

    /opt/cunwu-kiosk/venvs/<version>-<8 hex>/   one venv per version, never changed once made
                                                (``.installed`` names it when complete)
    /opt/cunwu-kiosk/current  -> venvs/…        what the units run; replaced with one rename
    /opt/cunwu-kiosk/previous -> venvs/…        the version before (health check, rollback)
    /var/lib/cunwu-kiosk-app/                   root's: trust/keys.json (app-signing keys,
                                                and the data keys that sign key lists),
                                                state.json (failed versions, history),
                                                trial.json (a switch not yet proven healthy),
                                                result.json (the last outcome, for the app),
                                                staging/ (verified copies)

:func:`install`: copy the package out of the kiosk user's reach (only the listed files,
never following a link), verify it there (signature by a trusted **app** key, every
hash, no extra file), refuse what must be refused (another machine or Python, not newer
than the running version, a version that failed before, too little space), build the new
venv offline from the package's wheels, check it imports, write ``trial.json``, switch
``current`` and ``previous``, restart the app and start the health check. Anything
refused leaves everything as it was.

:func:`health_check` (cunwu-kiosk-health.service, run from the *previous* version's
venv): the new version must send READY (after its first frame) with its version in the
status line within ``timeouts.app_update_health`` seconds and keep running for
``timeouts.app_update_settle``; a crash loop fails it at once. Otherwise
:func:`rollback` switches back, remembers the version as failed (never installed again)
and restarts the app. A power cut during the trial leaves ``trial.json``: the check runs
again at the next boot.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import os
import platform
import shutil
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from packaging.version import Version

from kiosk.cache import apppackage as P
from kiosk.cache import keys as K
from kiosk.cache.fsutil import atomic_write_json, fsync_dir, read_json
from kiosk.version import version_from_status

log = logging.getLogger("kiosk.appinstall")

APP_UNIT = "cunwu-kiosk.service"
PAUSED_UNIT = "cunwu-kiosk-paused.service"
HEALTH_UNIT = "cunwu-kiosk-health.service"
#: free space a new venv needs on /opt besides the package (Kivy and its libraries unpacked)
VENV_SPACE = 400 * 1024 * 1024


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Layout:
    """Where things are (tests use their own folders and stand-ins)."""

    opt: Path = Path("/opt/cunwu-kiosk")
    state: Path = Path("/var/lib/cunwu-kiosk-app")
    python: str = "/usr/bin/python3"
    #: ``systemctl(args) -> CompletedProcess``
    systemctl: Callable[[list[str]], subprocess.CompletedProcess] = field(default=None, repr=False)
    #: the command that proves a new venv works (run with the venv's python)
    smoke: tuple[str, ...] = ("-c", "import kiosk.cli, kivy, cryptography; kiosk.cli.build_parser()")

    @classmethod
    def from_env(cls) -> "Layout":
        return cls(Path(os.environ.get("KIOSK_APP_OPT", "/opt/cunwu-kiosk")),
                   Path(os.environ.get("KIOSK_APP_STATE", "/var/lib/cunwu-kiosk-app")))

    def run_systemctl(self, *args: str) -> subprocess.CompletedProcess:
        if self.systemctl:
            return self.systemctl(list(args))
        return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=120)

    @property
    def trust(self) -> K.TrustStore:
        return K.TrustStore(self.state)


# ---- what is installed -----------------------------------------------------------------------
def _installed(venv: Path) -> str | None:
    try:
        return (venv / ".installed").read_text().split()[0]
    except (OSError, IndexError):
        return None


def current_version(layout: Layout) -> str | None:
    return _installed(layout.opt / "current")


def _target(link: Path) -> str | None:
    try:
        return os.readlink(link)
    except OSError:
        return None


def _state(layout: Layout) -> dict:
    try:
        d = read_json(layout.state / "state.json", {})
    except ValueError:
        d = {}
    return d if isinstance(d, dict) else {}


def _record(layout: Layout, event: str, **kw) -> None:
    st = _state(layout)
    # mono: CLOCK_MONOTONIC, comparable with systemd's *TimestampMonotonic (timings)
    st["history"] = (st.get("history") or [])[-49:] + [{"at": _now(), "mono": round(time.monotonic(), 3),
                                                         "event": event, **kw}]
    atomic_write_json(layout.state / "state.json", st)


def status(layout: Layout) -> dict:
    """``current``, ``previous`` (versions), ``trial`` (the version on trial or None),
    ``failed`` (versions never to install again), ``result`` (the last outcome)."""
    st = _state(layout)
    trial = read_json(layout.state / "trial.json", None) if (layout.state / "trial.json").exists() else None
    return {"current": current_version(layout), "previous": _installed(layout.opt / "previous"),
            "trial": trial.get("version") if isinstance(trial, dict) else None,
            "failed": list(st.get("failed") or []), "result": read_json(layout.state / "result.json", None)}


def _result(layout: Layout, ok: bool, message_zh: str, message: str = "", **kw) -> None:
    layout.state.mkdir(parents=True, exist_ok=True)
    atomic_write_json(layout.state / "result.json", {"ok": ok, "at": _now(), "message_zh": message_zh,
                                                     "message": message, **kw})


# ---- checks ----------------------------------------------------------------------------------
def machine() -> str:
    m = platform.machine()
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(m.lower(), m)


def check(pkg: P.AppPackage, layout: Layout) -> None:
    """Refuse a package for another machine or Python, one not newer than what runs, and
    one that failed its health check before.

    Raises:
        AppPackageError: with the Chinese line for the technician.
    """
    if pkg.arch not in ("any", machine()):
        raise P.AppPackageError(f"the package is for {pkg.arch}, this kiosk is {machine()}",
                                f"软件更新包是为 {pkg.arch} 电脑制作的，本机是 {machine()}，未安装，原软件不变")
    here = f"{sys.version_info.major}.{sys.version_info.minor}"
    if pkg.python not in ("3", here):
        raise P.AppPackageError(f"the package needs Python {pkg.python}, this kiosk has {here}",
                                f"软件更新包需要 Python {pkg.python}，本机是 {here}，未安装，原软件不变")
    cur = current_version(layout)
    if cur and Version(pkg.version) <= Version(cur):
        raise P.AppPackageError(f"version {pkg.version} is not newer than the installed {cur}",
                                f"软件更新包的版本（{pkg.version}）不比本机的（{cur}）新，无需更新")
    if pkg.version in (_state(layout).get("failed") or []):
        raise P.AppPackageError(f"version {pkg.version} failed its health check before and was rolled back",
                                f"该版本（{pkg.version}）曾启动失败并已自动退回，不再安装")


def apply_keylist(pkg_dir: Path, layout: Layout) -> dict | None:
    """A package may carry the newest key list: apply it to root's store when newer."""
    kl = Path(pkg_dir) / P.KEYLIST
    if not (kl / K.KEYLIST).is_file():
        return None
    try:
        seq = json.loads((kl / K.KEYLIST).read_bytes())["seq"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(seq, int) or seq <= layout.trust.keylist_seq():
        return None
    doc = layout.trust.rotate(kl)
    log.info("applied key list %s from the package", doc["seq"])
    return doc


# ---- install ---------------------------------------------------------------------------------
def _copy_listed(src: Path, dest: Path) -> None:
    """Copy the manifest, its signature and the files it lists, each a plain file opened
    without following links (the source may be the kiosk user's spool folder)."""
    try:
        doc = json.loads(_read_plain(src / P.MANIFEST))
        names = [P.MANIFEST, P.SIG] + [e["path"] for e in doc["files"] if P._safe_rel(e["path"])]
    except (ValueError, KeyError, TypeError):
        raise P.AppPackageError(f"{src}: not a kiosk app package", "软件更新包格式错误") from None
    for rel in names:
        out = dest / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(_read_plain(src / rel))


def _read_plain(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError as exc:
        raise P.AppPackageError(f"{path}: {exc.strerror}", "软件更新包不完整，未安装，原软件不变") from None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise P.AppPackageError(f"{path}: not a plain file", "软件更新包不完整，未安装，原软件不变")
        return f.read()


def stage(src: Path, layout: Layout) -> P.AppPackage:
    """Copy ``src`` into root's staging folder and verify the copy (signature, fields,
    every hash, no extra file) and what it asks for (:func:`check`)."""
    staging = layout.state / "staging"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True, mode=0o700)
    copy = staging / "package"
    _copy_listed(Path(src), copy)
    apply_keylist(copy, layout)
    pkg = P.read(copy, layout.trust.keys(role=K.APP))
    check(pkg, layout)
    P.verify_files(pkg)
    return pkg


def _venv_env() -> dict:
    """A clean environment for pip and the smoke test (no user config, no Kivy files)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "KIVY_"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_CACHE_DIR="1", KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1",
               KIVY_NO_CONSOLELOG="1", KIVY_HOME=str(Path(env.get("TMPDIR", "/tmp")) / "kiosk-appinstall-kivy"))
    return env


def build_venv(pkg: P.AppPackage, layout: Layout) -> Path:
    """The new version's venv under ``venvs/`` (reused if already complete)."""
    venv = layout.opt / "venvs" / f"{pkg.version}-{pkg.digest[:8]}"
    if _installed(venv) == pkg.version:
        return venv
    free = shutil.disk_usage(layout.opt).free
    need = sum(e["size"] for e in pkg.manifest["files"]) + VENV_SPACE
    if free < need:
        raise P.AppPackageError(f"{free // 2**20} MB free on {layout.opt}, {need // 2**20} MB needed",
                                "本机磁盘空间不足，未安装新版本，原软件不变")
    shutil.rmtree(venv, ignore_errors=True)  # left half-made by a power cut
    env = _venv_env()
    steps = [[layout.python, "-m", "venv", str(venv)],
             [str(venv / "bin" / "python"), "-m", "pip", "install", "--isolated", "--no-index", "-q",
              "--find-links", str(pkg.path / P.WHEELS), f"{P.NAME}=={pkg.version}"],
             [str(venv / "bin" / "python"), *layout.smoke]]
    for cmd in steps:
        # cwd: the staging folder, so a package in the current folder can never shadow the venv's
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=1800, cwd=layout.state)
        if r.returncode != 0:
            shutil.rmtree(venv, ignore_errors=True)
            tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or [f"exit {r.returncode}"]
            raise P.AppPackageError(f"installing {pkg.version} failed at {Path(cmd[0]).name} {cmd[1]}: {tail[0]}",
                                    "新版本软件安装失败，原软件不变")
    (venv / ".installed").write_text(f"{pkg.version} {pkg.digest[:8]}\n")
    fsync_dir(venv)
    return venv


def _link(layout: Layout, name: str, target: str) -> None:
    """Point ``opt/name`` at ``target`` with one rename (atomic), durably."""
    tmp = layout.opt / f".{name}.new"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    os.replace(tmp, layout.opt / name)
    fsync_dir(layout.opt)


def switch(venv: Path, layout: Layout, version: str) -> dict:
    """Make ``venv`` current on trial: trial.json first, then ``previous``, then ``current``."""
    old = _target(layout.opt / "current")
    trial = {"version": version, "venv": f"venvs/{venv.name}", "previous": old,
             "previous_version": current_version(layout), "switched_at": _now()}
    atomic_write_json(layout.state / "trial.json", trial)
    if old:
        _link(layout, "previous", old)
    _link(layout, "current", f"venvs/{venv.name}")
    log.info("switched to %s (was %s); on trial", version, trial["previous_version"])
    return trial


def install(src: Path, layout: Layout | None = None, restart: bool = True) -> dict:
    """Install the package at ``src`` and switch to it on trial (see the module doc).
    Returns the trial record. Writes ``result.json`` either way.

    Raises:
        AppPackageError: refused or failed; nothing changed.
    """
    layout = layout or Layout.from_env()
    if (layout.state / "trial.json").exists():
        raise P.AppPackageError("another app update is still on trial", "上一次软件更新尚在检查中，请稍后再试")
    old = current_version(layout)
    t0 = time.monotonic()
    try:
        pkg = stage(src, layout)
        venv = build_venv(pkg, layout)
    except P.AppPackageError as exc:
        log.warning("app package refused: %s", exc.message)
        _result(layout, False, exc.message_zh, exc.message)
        _record(layout, "refused", message=exc.message)
        raise
    finally:
        shutil.rmtree(layout.state / "staging", ignore_errors=True)
    trial = switch(venv, layout, pkg.version)
    trial["install_s"] = round(time.monotonic() - t0, 1)
    atomic_write_json(layout.state / "trial.json", trial)
    _record(layout, "switched", version=pkg.version, previous=old)
    _result(layout, True, f"正在启用新版本 {pkg.version}（原版本 {old or '无'}）", version=pkg.version, previous=old)
    if restart:
        layout.run_systemctl("reset-failed", APP_UNIT)
        layout.run_systemctl("stop", "--no-block", PAUSED_UNIT)
        layout.run_systemctl("restart", "--no-block", APP_UNIT)
        layout.run_systemctl("start", "--no-block", HEALTH_UNIT)
    return trial


# ---- after the switch ------------------------------------------------------------------------
def unit_state(layout: Layout, unit: str = APP_UNIT) -> dict:
    r = layout.run_systemctl("show", unit, "-p", "ActiveState", "-p", "MainPID", "-p", "StatusText",
                             "-p", "NRestarts")
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def health_check(layout: Layout | None = None, timeout: float = 120, settle: float = 15,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> str:
    """Wait for the version on trial to be up and stay up; commit it, or roll back.
    Returns ``nothing`` (no trial), ``ok`` or ``rolled back``."""
    layout = layout or Layout.from_env()
    trial = read_json(layout.state / "trial.json", None)
    if not isinstance(trial, dict):
        return "nothing"
    want = trial["version"]
    deadline = clock() + timeout
    up_since, pid = None, None
    while clock() < deadline:
        s = unit_state(layout)
        if s.get("ActiveState") == "failed" or unit_state(layout, PAUSED_UNIT).get("ActiveState") == "active":
            rollback(layout, f"version {want} keeps failing to start (crash loop)")
            return "rolled back"
        if s.get("ActiveState") == "active" and version_from_status(s.get("StatusText")) == want:
            if pid != s.get("MainPID"):
                up_since, pid = clock(), s.get("MainPID")
            if clock() - up_since >= settle:
                commit(layout)
                return "ok"
        else:
            up_since, pid = None, None
        sleep(0.5)
    rollback(layout, f"version {want} did not show its first frame (READY) within {timeout:.0f} s")
    return "rolled back"


def commit(layout: Layout) -> None:
    """The version on trial is healthy: keep it, forget the trial, drop older venvs."""
    trial = read_json(layout.state / "trial.json", {})
    # the outcome first, the trial last: a power cut in between only repeats the check
    _record(layout, "healthy", version=trial.get("version"))
    _result(layout, True, f"已更新到新版本 {trial.get('version')}", version=trial.get("version"),
            previous=trial.get("previous_version"), committed=True)
    (layout.state / "trial.json").unlink()
    fsync_dir(layout.state)
    keep = {_target(layout.opt / "current"), _target(layout.opt / "previous")}
    for v in (layout.opt / "venvs").iterdir():
        if f"venvs/{v.name}" not in keep:
            shutil.rmtree(v, ignore_errors=True)
    log.info("version %s is healthy: kept", trial.get("version"))


def rollback(layout: Layout, reason: str) -> None:
    """Switch back to the version before the trial, remember the failed one, restart."""
    trial = read_json(layout.state / "trial.json", {})
    bad, good = trial.get("version"), trial.get("previous")
    if good:
        _link(layout, "current", good)
        _link(layout, "previous", good)
    st = _state(layout)
    st["failed"] = sorted(set(st.get("failed") or []) | {bad}) if bad else st.get("failed") or []
    atomic_write_json(layout.state / "state.json", st)
    # the outcome first, the trial last: a power cut in between only repeats the (idempotent) rollback
    _record(layout, "rolled back", version=bad, to=trial.get("previous_version"), reason=reason)
    _result(layout, False, f"新版本 {bad} 启动失败，已自动退回原版本 {trial.get('previous_version')}", reason,
            version=bad, previous=trial.get("previous_version"), rolled_back=True)
    (layout.state / "trial.json").unlink(missing_ok=True)
    fsync_dir(layout.state)
    if trial.get("venv") and trial.get("venv") != good:
        shutil.rmtree(layout.opt / trial["venv"], ignore_errors=True)
    log.warning("rolled back from %s to %s: %s", bad, trial.get("previous_version"), reason)
    layout.run_systemctl("stop", PAUSED_UNIT)
    layout.run_systemctl("reset-failed", APP_UNIT)
    layout.run_systemctl("restart", "--no-block", APP_UNIT)
