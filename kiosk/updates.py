"""Update service for the UI (no Kivy): USB stick imports and background HTTP syncs run on
worker threads; results come back through callbacks, passed through ``post`` (the app
gives ``Clock.schedule_once``) so screens only ever touch widgets on the main thread.

Stick flow (one stick at a time)::

    stick plugged → mount ro + find + choose + space check  → event "plan"  (ask the PIN)
    PIN ok        → copy + verify + switch (progress events) → unmount → event "done"
    any failure   → unmount → event "error" (Chinese message; nothing changed)
    stick pulled  → event "removed"

Background sync: :meth:`UpdateService.tick` (called every minute by a thread or the app)
starts a sync when ``sync.every_hours`` passed since the last success; after a failure it
retries sooner (15 min, doubling, at most ``every_hours``). The last result is kept in the
``sync`` cache (:func:`last_sync`) for the technician menu.
"""
from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from kiosk import config
from kiosk.cache.safecache import open_cache
from kiosk.errors import KioskError

log = logging.getLogger("kiosk.updates")
RETRY_FIRST_S = 15 * 60
LAST_SYNC_KEY = "last_sync"


def _now_iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc).astimezone().isoformat(timespec="seconds")


def describe(exc: BaseException) -> str:
    """The Chinese line for a failure (KioskError.message_zh, else a generic line)."""
    return exc.message_zh if isinstance(exc, KioskError) else "更新失败，原数据不变，请联系技术人员"


def record_sync(home: Path, res, exc: BaseException | None, now: float | None = None,
                failures_before: int | None = None) -> dict:
    """Store what a sync did (``res``: SyncResult or None, ``exc``: its error) and return
    the record: ``{"at", "ts", "ok", "status", "seq", "downloaded", "message_zh", "failures"}``."""
    now = time.time() if now is None else now
    prev = last_sync(home) or {}
    fails = (prev.get("failures", 0) if failures_before is None else failures_before) + 1 if exc else 0
    rec: dict[str, Any] = {"ts": now, "at": _now_iso(now), "ok": exc is None, "failures": fails,
                           "status": res.status if res else "failed", "seq": getattr(res, "seq", None),
                           "downloaded": getattr(res, "downloaded", 0)}
    if exc is not None:
        rec["message_zh"] = describe(exc)
        rec["message"] = getattr(exc, "message", str(exc))
    elif res.status == "installed":
        i = res.install
        rec["message_zh"] = f"已更新：第{i.old_seq or 0}版 → 第{i.new_seq}版（数据更新至 {i.data_as_of}）"
    elif res.status == "not_newer":
        rec["message_zh"] = f"服务器上的数据（第{res.seq}版）不比本机新，无需更新"
    else:
        rec["message_zh"] = "服务器上没有新数据，未下载"
    cache = open_cache(home, "sync")
    try:
        cache.set(LAST_SYNC_KEY, rec)
    finally:
        cache.close()
    return rec


def last_sync(home: Path) -> dict | None:
    """The last recorded sync (see :func:`record_sync`), or None."""
    cache = open_cache(home, "sync")
    try:
        rec = cache.get(LAST_SYNC_KEY)
    finally:
        cache.close()
    return rec if isinstance(rec, dict) else None


def next_due(rec: dict | None, every_hours: float) -> float:
    """Epoch seconds when the next background sync is due (0 = now)."""
    if not rec:
        return 0.0
    every = every_hours * 3600
    if rec.get("ok"):
        return rec["ts"] + every
    delay = min(every, RETRY_FIRST_S * 2 ** max(0, int(rec.get("failures", 1)) - 1))
    return rec["ts"] + delay


@dataclass
class Meter:
    """Percent, MB/s and seconds left over install's two passes (copy, then verify: each
    reads every byte once, so the whole job is ``2 × total`` bytes), or a download."""

    clock: Callable[[], float] = time.monotonic
    passes: tuple = ("copy", "verify")

    def __post_init__(self):
        self.start = self.clock()
        self._phase_start: dict[str, tuple[float, int]] = {}
        self.percent = 0
        self.rate = 0.0
        self.left_s: float | None = None
        self.phase = ""

    def update(self, phase: str, done: int, total: int) -> None:
        now = self.clock()
        if phase not in self._phase_start:
            self._phase_start[phase] = (now, done)
        self.phase = phase
        t0, d0 = self._phase_start[phase]
        idx = self.passes.index(phase) if phase in self.passes else 0
        n = len(self.passes) if phase in self.passes else 1
        overall_total = max(1, total * n)
        overall_done = total * idx + done
        self.percent = min(100, int(overall_done * 100 / overall_total))
        if now - t0 > 0 and done > d0:
            self.rate = (done - d0) / (now - t0)
        self.left_s = (overall_total - overall_done) / self.rate if self.rate > 0 else None

    def text(self) -> str:
        """``"42%  · 18.5 MB/s · 还需约 12 秒"``"""
        parts = [f"{self.percent}%"]
        if self.rate > 0:
            parts.append(f"{self.rate / 1e6:.1f} MB/s")
        if self.left_s is not None:
            s = int(self.left_s + 0.5)
            parts.append(f"还需约 {s // 60} 分 {s % 60} 秒" if s >= 60 else f"还需约 {s} 秒")
        return " · ".join(parts)


class UpdateService:
    """Runs stick imports and syncs off the UI thread.

    Args:
        home: KIOSK_HOME. cfg: config (loaded when None).
        post: ``post(fn)`` runs ``fn()`` on the UI thread (default: call directly).
        on_event: ``on_event(kind, **data)`` with kind in ``plan``, ``progress``, ``done``,
            ``error``, ``removed``, ``sync_started``, ``sync_done`` (called through ``post``).
        mount_base: where sticks are mounted (tests). clock: epoch seconds (tests).
    """

    def __init__(self, home: Path, cfg: dict | None = None, post: Callable | None = None,
                 on_event: Callable[..., None] | None = None, mount_base: Path | None = None,
                 clock: Callable[[], float] = time.time, sync_fn: Callable | None = None):
        self.home = Path(home)
        self.cfg = cfg if cfg is not None else config.load(self.home)
        self.post = post or (lambda fn: fn())
        self.on_event = on_event or (lambda kind, **kw: None)
        self.mount_base = mount_base
        self.clock = clock
        self._sync_fn = sync_fn
        self._lock = threading.Lock()
        self.syncing = False
        self.stick_state = "idle"  # idle | preparing | need_pin | installing | done | failed
        self._mounted = None
        self._plan = None
        self._stop = threading.Event()

    # ---- plumbing -------------------------------------------------------------------------
    def _emit(self, kind: str, **data) -> None:
        self.post(lambda: self.on_event(kind, **data))

    def _spawn(self, fn, name: str) -> threading.Thread:
        t = threading.Thread(target=fn, name=name, daemon=True)
        t.start()
        return t

    # ---- HTTP sync ------------------------------------------------------------------------
    def base_url(self) -> str:
        return (self.cfg.get("sync") or {}).get("base_url", "")

    def last_sync(self) -> dict | None:
        return last_sync(self.home)

    def sync_due(self) -> bool:
        every = float((self.cfg.get("sync") or {}).get("every_hours", 6))
        return bool(self.base_url()) and every > 0 and self.clock() >= next_due(self.last_sync(), every)

    def sync_now(self, base_url: str | None = None) -> threading.Thread | None:
        """Start a sync in a worker thread (None if a sync or stick import is running)."""
        with self._lock:
            if self.syncing or self.stick_state in ("preparing", "installing"):
                return None
            self.syncing = True
        url = base_url or self.base_url()

        def work():
            from kiosk.cache import sync

            res, err = None, None
            meter = Meter(passes=("download", "copy", "verify"))
            try:
                self._emit("sync_started")
                res = (self._sync_fn or sync.sync)(url, self.home, scope=self.cfg.get("scope"),
                                                   progress=lambda ph, d, t: self._progress(meter, ph, d, t))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded and shown
                if not isinstance(exc, KioskError):
                    log.exception("sync failed")
                err = exc
            try:
                rec = record_sync(self.home, res, err, now=self.clock())
            finally:
                with self._lock:
                    self.syncing = False
            self._emit("sync_done", record=rec, result=res)

        return self._spawn(work, "kiosk-sync")

    def tick(self) -> threading.Thread | None:
        """Start a background sync if one is due."""
        return self.sync_now() if self.sync_due() else None

    def start_background(self, check_every_s: float = 60) -> threading.Thread:
        def loop():
            while not self._stop.wait(check_every_s):
                try:
                    self.tick()
                except Exception:  # noqa: BLE001
                    log.exception("background sync tick failed")
        return self._spawn(loop, "kiosk-sync-timer")

    def stop(self) -> None:
        self._stop.set()

    # ---- USB stick ------------------------------------------------------------------------
    def _progress(self, meter: Meter, phase: str, done: int, total: int) -> None:
        meter.update(phase, done, total)
        self._emit("progress", phase=phase, percent=meter.percent, text=meter.text(),
                   done=done, total=total)

    def stick_added(self, devnode: str | None = None, root: Path | None = None) -> threading.Thread | None:
        """Mount ``devnode`` (or use the folder ``root``), find the bundle and check space in
        a worker; emits ``plan`` (then call :meth:`stick_install` after the PIN) or ``error``."""
        with self._lock:
            if self.stick_state in ("preparing", "installing") or self.syncing:
                return None
            self.stick_state = "preparing"

        def work():
            from kiosk.cache import stickimport as importer
            from kiosk.devices.usbstick import mount

            try:
                if devnode:
                    self._mounted = mount.mount_ro(devnode, self.mount_base)
                    where = self._mounted.path
                else:
                    where = Path(root)
                self._plan = importer.plan(where, self.home, self.cfg.get("scope"))
                self.stick_state = "need_pin"
                self._emit("plan", plan=self._plan)
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)

        return self._spawn(work, "kiosk-stick")

    def stick_install(self) -> threading.Thread | None:
        """Install the planned bundle (the PIN was accepted); emits progress, then done/error."""
        with self._lock:
            if self.stick_state != "need_pin" or self._plan is None:
                return None
            self.stick_state = "installing"
        plan = self._plan

        def work():
            from kiosk.cache import stickimport as importer

            meter = Meter()
            try:
                rep = importer.run(plan, self.home, self.cfg.get("scope"),
                                   progress=lambda ph, d, t: self._progress(meter, ph, d, t))
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
                return
            safe = self._release()
            self.stick_state = "done"
            self._emit("done", report=rep, safe_to_remove=safe)

        return self._spawn(work, "kiosk-stick")

    def stick_cancel(self) -> bool:
        """Give up on the planned import (返回 on the PIN pad); unmounts. True = safe to pull."""
        if self.stick_state == "installing":
            return False
        self._plan = None
        self.stick_state = "idle"
        return self._release()

    def stick_removed(self, devnode: str | None = None) -> None:
        if self._mounted is not None and devnode and self._mounted.dev != devnode:
            return
        if self.stick_state != "installing":  # an install notices by itself (read error)
            self._release()
            self._plan = None
            self.stick_state = "idle"
        self._emit("removed", devnode=devnode)

    def _release(self) -> bool:
        m, self._mounted = self._mounted, None
        if m is None:
            return True
        try:
            return m.unmount() is not False
        except Exception:  # noqa: BLE001
            log.exception("unmount failed")
            return False

    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, KioskError):
            log.exception("stick import failed", exc_info=exc)
        safe = self._release()
        self._plan = None
        self.stick_state = "failed"
        self._emit("error", message_zh=describe(exc), error=exc, safe_to_remove=safe)
