"""The app updating itself from a technician's stick (the kiosk user's side). No Kivy.

The app runs as an unprivileged user and cannot write /opt. It finds a package on the
mounted stick (:meth:`AppUpdateService.offer`: signature by a trusted app key, this
machine, newer than what runs, never failed before; cheap, no hashing), and after the
technician PIN copies it to its spool folder (:meth:`install`, with progress) and asks
systemd to start cunwu-kiosk-appupdate.service (polkit allows the kiosk's user exactly
that). That root unit copies the package out of the spool, verifies everything again and
switches (kiosk.cache.appinstall); systemd then restarts the app, and the health check
keeps the new version or rolls back by itself.

One stick may carry both a data bundle and an app package: the App offers the data import
first and the app update after it (both need the PIN; the App may ask it once).

Events: :class:`AppUpdateOffered`, :class:`AppUpdateProgress`, :class:`AppUpdateRefused`,
:class:`AppUpdateSwitching`, and :class:`AppRolledBack` once after a rollback.
"""
from __future__ import annotations

import json
import logging
import shutil
import subprocess
import time
from pathlib import Path

from packaging.version import Version

from kiosk.cache import appinstall as I
from kiosk.cache import apppackage as P
from kiosk.cache import keys as K
from kiosk.cache.fsutil import atomic_write_json, read_json
from kiosk.services.base import Service
from kiosk.services.events import (AppRolledBack, AppUpdateOffered, AppUpdateProgress, AppUpdateRefused,
                                   AppUpdateSwitching)
from kiosk.version import installed_version

log = logging.getLogger("kiosk.services.appupdate")

UPDATE_UNIT = "cunwu-kiosk-appupdate.service"
INSTALL_TEXT = "正在安装新版本，请勿断电，也不要拔出U盘（约需 1～3 分钟）"
UNREADABLE_ZH = "无法读取U盘上的软件更新包，未安装，原软件不变"


class AppUpdateService(Service):
    """Offers and installs app packages from a mounted stick.

    Args:
        bus: the event bus.
        home: KIOSK_HOME (the spool folder is ``home/appupdate/spool``).
        layout: where the root side keeps its state (its trust store is read here).
        systemctl: ``systemctl(args) -> CompletedProcess`` (tests pass a stand-in).
    """

    name = "appupdate"

    def __init__(self, bus, home: Path, layout: I.Layout | None = None, systemctl=None):
        super().__init__(bus)
        self.home = Path(home)
        self.layout = layout or I.Layout.from_env()
        self._systemctl = systemctl
        self.spool = self.home / "appupdate" / "spool"

    def start(self) -> None:
        super().start()
        self.spawn(self.announce_rollback, "rollback-news")

    # ---- offer ---------------------------------------------------------------------------
    def offer(self, root: Path) -> AppUpdateOffered | None:
        """Look for app packages on a mounted stick (``root``). Publishes and returns an
        :class:`AppUpdateOffered` for the newest acceptable one; publishes
        :class:`AppUpdateRefused` when there are packages but none can be installed (the
        reason of the one closest to acceptable); returns None then and when there are none."""
        found = P.find(root)
        if not found:
            return None
        trusted = self.layout.trust.keys(role=K.APP)
        ok, refusals = [], []
        for path in found:
            pkg = None
            try:
                pkg = P.read(path, trusted)
                I.check(pkg, self.layout)
                ok.append(pkg)
            except P.AppPackageError as exc:
                refusals.append((Version(pkg.version) if pkg else Version("0"), exc))
            except K.KeyError_ as exc:  # root's trust store unreadable
                refusals.append((Version("0"), P.AppPackageError(exc.message, exc.message_zh)))
        if not ok:
            # "not newer" is the least alarming and most common: say it (of the newest) when it applies
            calm = [r for r in refusals if "无需更新" in r[1].message_zh]
            exc = max(calm, key=lambda r: r[0])[1] if calm else refusals[0][1]
            self.publish(AppUpdateRefused(exc.message_zh, exc.message))
            return None
        best = max(ok, key=lambda p: Version(p.version))
        ev = AppUpdateOffered(self.current_version(), best.version, best.path)
        self.publish(ev)
        return ev

    def look(self, root: Path):
        """:meth:`offer` on this service's thread, for the App (the stick is read off the UI
        thread). Always publishes exactly one :class:`AppUpdateOffered` or
        :class:`AppUpdateRefused`: the update service saw app packages on this stick, so
        finding none now (or failing to read them) means the stick went away."""

        def work():
            try:
                if self.offer(root) is None and not P.find(root):
                    self.publish(AppUpdateRefused(UNREADABLE_ZH, f"{root}: no app package found any more"))
            except Exception as exc:  # noqa: BLE001 - a stick pulled while read, a bad file system
                log.warning("reading app packages on %s failed: %s", root, exc)
                self.publish(AppUpdateRefused(UNREADABLE_ZH, f"{root}: {exc}"))

        return self.spawn(work, "offer")

    @staticmethod
    def current_version() -> str:
        return installed_version()

    # ---- install -------------------------------------------------------------------------
    def install(self, offer: AppUpdateOffered) -> None:
        """Copy the offered package to the spool and have the root unit install it (on a
        thread of this service; the outcome comes as events)."""
        self.spawn(lambda: self.install_now(offer), "install")

    def install_now(self, offer: AppUpdateOffered) -> bool:
        """:meth:`install`, in the calling thread. True when the switch was made."""
        try:
            self._to_spool(Path(offer.package))
        except (OSError, ValueError, P.AppPackageError) as exc:
            shutil.rmtree(self.spool, ignore_errors=True)  # nothing half-copied stays behind
            msg_zh = getattr(exc, "message_zh", "从U盘复制软件更新包失败，未安装，原软件不变")
            self.publish(AppUpdateRefused(msg_zh, str(exc)))
            return False
        self.publish(AppUpdateProgress("install", 100, INSTALL_TEXT))
        started = time.time()
        r = self._run_systemctl("start", UPDATE_UNIT)
        res = read_json(self.layout.state / "result.json", None) or {}
        fresh = isinstance(res, dict) and res.get("at", "") >= time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(started - 1))
        shutil.rmtree(self.spool, ignore_errors=True)
        if r.returncode == 0 and fresh and res.get("ok"):
            self.publish(AppUpdateSwitching(offer.current_version, offer.new_version))
            return True
        if fresh and res.get("message_zh"):
            self.publish(AppUpdateRefused(res["message_zh"], res.get("message", "")))
        else:
            self.publish(AppUpdateRefused("软件更新失败，原软件不变，请联系技术人员",
                                          f"{UPDATE_UNIT} failed (systemctl exit {r.returncode}): {r.stderr.strip()}"))
        return False

    def _to_spool(self, src: Path) -> None:
        """Copy the manifest, signature and listed files (progress by bytes)."""
        doc = json.loads((src / P.MANIFEST).read_bytes())
        files = [e for e in doc.get("files", []) if P._safe_rel(e.get("path", ""))]
        total = sum(int(e.get("size", 0)) for e in files) or 1
        shutil.rmtree(self.spool, ignore_errors=True)
        dest = self.spool / "package"
        dest.mkdir(parents=True)
        done, t0, last = 0, time.monotonic(), -1
        for rel in [P.MANIFEST, P.SIG] + [e["path"] for e in files]:
            out = dest / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with open(src / rel, "rb") as fi, open(out, "wb") as fo:
                while chunk := fi.read(1 << 20):
                    fo.write(chunk)
                    done += len(chunk) if rel not in (P.MANIFEST, P.SIG) else 0
                    pct = min(99, done * 100 // total)
                    if pct != last:
                        last = pct
                        rate = done / max(time.monotonic() - t0, 1e-3) / 1e6
                        self.publish(AppUpdateProgress("copy", pct, f"{pct}% · {rate:.1f} MB/s"))

    def _run_systemctl(self, *args: str) -> subprocess.CompletedProcess:
        if self._systemctl:
            return self._systemctl(list(args))
        try:
            return subprocess.run(["systemctl", *args], capture_output=True, text=True, timeout=1800)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return subprocess.CompletedProcess(["systemctl", *args], 1, "", str(exc))

    # ---- after a rollback ----------------------------------------------------------------
    def announce_rollback(self) -> AppRolledBack | None:
        """Publish :class:`AppRolledBack` once for the last automatic rollback."""
        res = read_json(self.layout.state / "result.json", None)
        if not (isinstance(res, dict) and res.get("rolled_back")):
            return None
        seen = self.home / "appupdate" / "rollback-seen.json"
        if (read_json(seen, None) or {}).get("at") == res.get("at"):
            return None
        ev = AppRolledBack(str(res.get("version")), self.current_version(), res.get("message_zh", ""))
        self.publish(ev)
        seen.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(seen, {"at": res.get("at")})
        return ev

    def status(self) -> dict:
        """For the technician screen: ``current``, ``previous``, ``trial``, ``failed``, ``result``."""
        return I.status(self.layout)
