"""A throwaway Debian 12 system booted with systemd as PID 1 in ``systemd-nspawn``, for
``make test-deploy``: debootstrap (cached as a tarball), the offline wheelhouse
(deploy/make-wheelhouse.sh, cached), then boot, run commands inside (``nsenter`` into the
container's namespaces), power off.

The container has no network (``--private-network``): install.sh must work from the
wheelhouse alone. Xvfb stands in for the panel (a drop-in replaces the X server of
cunwu-kiosk-display.service and nothing else).
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("KIOSK_DEPLOY_CACHE", REPO / ".cache" / "deploy-test"))
MIRROR = os.environ.get("KIOSK_DEPLOY_MIRROR", "http://deb.debian.org/debian")
SCREEN = (1920, 1080)

XVFB_DROPIN = f"""# test only: Xvfb stands in for the panel's X server
[Service]
ExecStart=
ExecStart=/usr/bin/Xvfb :0 -screen 0 {SCREEN[0]}x{SCREEN[1]}x24 -nolisten tcp -auth /run/cunwu-kiosk-x/Xauthority -s 0 -dpms -br -nocursor -noreset
"""


def log(msg: str) -> None:
    print(f"[deploy-test {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*cmd, check: bool = True, timeout: float | None = None, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=timeout, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return r


def wait_until(pred: Callable[[], object], timeout: float, what: str, every: float = 0.5):
    """Poll ``pred`` until it returns something true; its value, or TimeoutError naming ``what``."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f} s waiting for: {what}")
        time.sleep(every)


def minbase_tarball() -> Path:
    """Debian 12 minbase with systemd and dbus (debootstrap once, then cached)."""
    tar = CACHE / "bookworm-minbase.tar"
    if tar.exists():
        return tar
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = CACHE / "debootstrap.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    log(f"debootstrap bookworm from {MIRROR}")
    run("debootstrap", "--variant=minbase", "--include=systemd,systemd-sysv,dbus", "bookworm", tmp, MIRROR, timeout=1800)
    run("tar", "-C", tmp, "-cf", f"{tar}.part", ".")
    os.replace(f"{tar}.part", tar)
    shutil.rmtree(tmp, ignore_errors=True)
    return tar


def wheelhouse() -> Path:
    """deploy/make-wheelhouse.sh for x86_64: wheels rebuilt every run (the app changes), the
    system packages (plus xvfb, the test's panel) downloaded once."""
    out = CACHE / "wheelhouse"
    args = ["--arch", "x86_64"]
    if not (out / "x86_64" / "debs" / "Packages").exists():
        args += ["--debs", "--extra-debs", "xvfb", "--mirror", MIRROR]
    log("make-wheelhouse.sh " + " ".join(args))
    run(REPO / "deploy" / "make-wheelhouse.sh", *args, out, timeout=1800)
    return out


class Box:
    """One container root under ``workdir``; :meth:`boot` it, :meth:`sh` inside, :meth:`poweroff`."""

    def __init__(self, workdir: Path, binds: list[str] = ()):
        self.workdir = Path(workdir)
        self.root = self.workdir / "root"
        self.binds = list(binds)
        self.proc: subprocess.Popen | None = None
        self.leader: int | None = None
        self.boot_started = 0.0
        self.boots = 0

    # ---- making the root ----------------------------------------------------------------------
    def create(self) -> None:
        if self.root.exists():
            if run("rm", "-rf", "--one-file-system", self.root, check=False).returncode != 0:
                # something still wrote into it as it went (a journal file): set it aside
                aside = self.workdir / f"old-root-{time.time_ns()}"
                os.rename(self.root, aside)
                run("rm", "-rf", "--one-file-system", aside, check=False)
        self.root.mkdir(parents=True)
        run("tar", "-C", self.root, "-xf", minbase_tarball())
        # apt sources and CA certificates of the host (the install itself is offline)
        for src in ("/etc/apt/sources.list", "/etc/apt/sources.list.d"):
            if os.path.exists(src):
                run("cp", "-a", src, self.root / src.lstrip("/"))
        (self.root / "etc/ssl/certs").mkdir(parents=True, exist_ok=True)
        run("cp", "-L", "/etc/ssl/certs/ca-certificates.crt", self.root / "etc/ssl/certs/ca-certificates.crt")
        (self.root / "etc/hostname").write_text("kiosk-test\n")

    def write(self, path: str, text: str, mode: int = 0o644) -> Path:
        p = self.root / path.lstrip("/")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
        os.chmod(p, mode)
        return p

    # ---- running it ---------------------------------------------------------------------------
    def boot(self, timeout: float = 120) -> float:
        """Boot; returns when systemd finished starting up (running or degraded)."""
        assert self.proc is None
        self.boots += 1
        logf = open(self.workdir / f"console-{self.boots}.log", "wb")
        cmd = ["systemd-nspawn", "-D", str(self.root), "--boot", "--register=no", "--keep-unit",
               "--private-network", "--console=read-only", "--bind=/dev/fuse",
               *[f"--bind={b}" for b in self.binds]]
        self.boot_started = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT)
        self.leader = wait_until(self._find_leader, 30, "the container's init")
        wait_until(lambda: self.sh("systemctl is-system-running", check=False).stdout.strip()
                   in ("running", "degraded"), timeout, "systemd to finish starting up")
        return time.monotonic() - self.boot_started

    def _find_leader(self) -> int | None:
        if self.proc.poll() is not None:
            raise RuntimeError(f"systemd-nspawn exited with {self.proc.returncode}; see {self.workdir}/console-{self.boots}.log")
        # the container's PID 1 is nspawn's child once it has become systemd (nspawn forks
        # short-lived helpers too, which still live in the host's namespaces)
        r = run("pgrep", "-P", self.proc.pid, check=False)
        for pid in (int(p) for p in r.stdout.split()):
            try:
                if Path(f"/proc/{pid}/comm").read_text().strip() == "systemd":
                    return pid
            except OSError:
                pass
        return None

    def sh(self, script: str, check: bool = True, timeout: float = 600, user: str | None = None,
           input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``script`` with /bin/sh inside the container (as root, or as ``user``)."""
        inner = ["/bin/sh", "-c", script]
        if user:
            inner = ["runuser", "-u", user, "--", *inner]
        cmd = ["nsenter", "-t", str(self.leader), "-m", "-u", "-i", "-n", "-p", "-C", "--",
               "env", "-i", "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8",
               "SYSTEMD_PAGER=", "SYSTEMD_COLORS=0", *inner]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, input=input)
        if check and r.returncode != 0:
            raise RuntimeError(f"in the container: {script}\nexit {r.returncode}\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}")
        return r

    def show(self, unit: str, *props: str) -> dict[str, str]:
        """``systemctl show`` properties of ``unit``."""
        out = self.sh(f"systemctl show {unit} " + " ".join(f"-p {p}" for p in props)).stdout
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, *args: str) -> str:
        return self.sh("journalctl --no-pager -o cat " + " ".join(args), check=False).stdout

    def poweroff(self, timeout: float = 90) -> None:
        if self.proc is None:
            return
        try:
            self.sh("systemctl poweroff", check=False, timeout=30)
        except (subprocess.TimeoutExpired, OSError):
            pass
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            log("container did not power off in time: killing it")
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        self.proc, self.leader = None, None

    def copy_out(self, path: str, dest: Path) -> Path:
        shutil.copy(self.root / path.lstrip("/"), dest)
        return dest


def record(figures: dict, name: str, value: float) -> None:
    figures[name] = round(value, 2)
    (CACHE / "figures.json").write_text(json.dumps(figures, indent=2) + "\n")
    log(f"figure {name} = {value:.2f}")
