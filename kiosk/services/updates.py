"""The update service: USB stick imports and HTTP syncs, on the service's own threads.

Stick flow (one stick at a time)::

    stick plugged → StickFound → mount ro + find + choose + space check → ImportOffered (ask the PIN)
    PIN accepted (stick_install) → copy + verify + switch (ImportProgress) → unmount → ImportDone
    any failure → unmount → ImportRefused (Chinese line; nothing changed)
    stick pulled → StickRemoved

从U盘导入 (:meth:`UpdateService.stick_look`) starts the same flow for a stick attached
now, for a stick that was plugged in before, given back unused, or never reported.

A stick that also carries app packages (kiosk.cache.apppackage) stays mounted after its
data import is done or refused (state ``held``; the events carry ``app_root``) so the app
update service can offer and copy them; the App gives it back with
:meth:`~UpdateService.stick_app_end` or :meth:`~UpdateService.stick_cancel`.

A stick pulled while it is being prepared ends that preparation: whatever the preparation
finds afterwards (typically a read error) is dropped, so the screen stays at "removed"
(every change of the stick state happens under one lock, and each stick has its own
generation number).

Background sync: every ``check_every_s`` seconds the service starts a sync when
``sync.every_hours`` passed since the last success; after a failure it retries sooner
(15 min, doubling, at most ``every_hours``). The last result is kept in the ``sync`` cache
(:func:`last_sync`) for the technician menu.
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
from kiosk.errors import KioskError
from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import (ImportDone, ImportOffered, ImportProgress, ImportRefused, StickFound,
                                   StickRemoved, SyncDone, SyncStarted)

log = logging.getLogger("kiosk.services.updates")
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
    from kiosk.cache.safecache import open_cache

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
    from kiosk.cache.safecache import open_cache

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


class UpdateService(Service):
    """Stick imports and HTTP syncs, off the UI thread.

    Args:
        bus: where the import events (kiosk.services.events, "updates") are published.
        home: KIOSK_HOME. cfg: config (loaded when None).
        watch_sticks: start the stick watcher in :meth:`start` (tests drive
            :meth:`stick_added` / :meth:`stick_removed` themselves).
        sync_every_s: seconds between two looks whether a background sync is due (0: none).
        mount_base: where sticks are mounted (tests). clock: epoch seconds (tests).
        sync_fn: replaces ``kiosk.cache.sync.sync`` (tests).
        find_sticks: ``() -> [devnode | Path]``, the sticks attached now for
            :meth:`stick_look` (default: kiosk.devices.usbstick.watcher.sticks_now; tests
            give folders, which are used as mounted sticks).

    Attributes:
        stick_state: ``idle`` | ``preparing`` | ``need_pin`` | ``installing`` | ``done`` |
            ``failed`` | ``held`` (data part over, mounted for its app packages) | ``app``
            (an app package is being copied from it).
        syncing: a sync is running.
    """

    name = "updates"

    def __init__(self, bus: EventBus, home: Path, cfg: dict | None = None, watch_sticks: bool = True,
                 sync_every_s: float = 60.0, mount_base: Path | None = None,
                 clock: Callable[[], float] = time.time, sync_fn: Callable | None = None,
                 find_sticks: Callable[[], list] | None = None):
        super().__init__(bus)
        self.home = Path(home)
        self.cfg = cfg if cfg is not None else config.load(self.home)
        self.watch_sticks = watch_sticks
        self.sync_every_s = sync_every_s
        self.mount_base = mount_base
        self.clock = clock
        self._sync_fn = sync_fn
        self._find_sticks = find_sticks
        self._lock = threading.Lock()
        self.syncing = False
        self.stick_state = "idle"
        self._stick_gen = 0        # a new stick, or the stick pulled: older work is stale
        self._mounted = None
        self._plan = None
        self._app_root: Path | None = None  # the mounted stick's root, when it carries app packages
        self._watcher = None

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Start watching for sticks and the background sync timer."""
        if self.started:
            return
        super().start()
        if self.watch_sticks:
            try:
                from kiosk.devices.usbstick.watcher import StickWatcher

                self._watcher = StickWatcher(lambda stick: self.stick_added(stick.devnode), self.stick_removed).start()
            except Exception:  # noqa: BLE001 - no stick support on this box: sync still works
                log.exception("stick watcher not started")
        if self.sync_every_s > 0:
            self.spawn(self._sync_timer, "sync-timer")

    def stop(self, timeout: float = 5.0) -> None:
        if self._watcher is not None:
            self._watcher.stop()
            self._watcher = None
        super().stop(timeout)

    def _sync_timer(self) -> None:
        while not self.stopping.wait(self.sync_every_s):
            self.tick()

    # ---- HTTP sync ------------------------------------------------------------------------
    def base_url(self) -> str:
        return (self.cfg.get("sync") or {}).get("base_url", "")

    def every_hours(self) -> float:
        return float((self.cfg.get("sync") or {}).get("every_hours", 6))

    def last_sync(self) -> dict | None:
        return last_sync(self.home)

    def sync_due(self) -> bool:
        every = self.every_hours()
        return bool(self.base_url()) and every > 0 and self.clock() >= next_due(self.last_sync(), every)

    def sync_now(self, base_url: str | None = None) -> threading.Thread | None:
        """Start a sync on a worker thread (None if a sync or stick import is running).
        Publishes :class:`SyncStarted`, progress, then :class:`SyncDone`."""
        with self._lock:
            if self.syncing or self.stick_state in BUSY:
                return None
            self.syncing = True
        url = base_url or self.base_url()

        def work():
            from kiosk.cache import sync

            res, err = None, None
            meter = Meter(passes=("download", "copy", "verify"))
            try:
                self.publish(SyncStarted())
                res = (self._sync_fn or sync.sync)(url, self.home, scope=self.cfg.get("scope"),
                                                   progress=lambda ph, d, t: self._progress("sync", meter, ph, d, t))
            except Exception as exc:  # noqa: BLE001 - every failure is recorded and shown
                if not isinstance(exc, KioskError):
                    log.exception("sync failed")
                err = exc
            try:
                rec = record_sync(self.home, res, err, now=self.clock())
            finally:
                with self._lock:
                    self.syncing = False
            self.publish(SyncDone(rec, installed=res is not None and res.status == "installed"))

        return self.spawn(work, "sync")

    def tick(self) -> threading.Thread | None:
        """Start a background sync if one is due."""
        return self.sync_now() if self.sync_due() else None

    # ---- USB stick ------------------------------------------------------------------------
    def _progress(self, source: str, meter: Meter, phase: str, done: int, total: int) -> None:
        meter.update(phase, done, total)
        self.publish(ImportProgress(source, phase, meter.percent, meter.text(), done, total))

    def stick_added(self, devnode: str | None = None, root: Path | None = None) -> threading.Thread | None:
        """Mount ``devnode`` (or use the folder ``root``), find the bundle and check space on
        a worker; publishes :class:`StickFound`, then :class:`ImportOffered` (call
        :meth:`stick_install` once the PIN is accepted) or :class:`ImportRefused`.
        None when an import or sync is already running."""
        with self._lock:
            if self.stick_state in BUSY or self.syncing:
                return None
            self.stick_state = "preparing"
            self._stick_gen += 1
            gen = self._stick_gen
            # a stick given back late, or held for its app packages: unmounted before the new one
            previous, self._mounted, self._app_root, self._plan = self._mounted, None, None, None
        self.publish(StickFound(devnode or str(root)))

        def work():
            from kiosk.cache import stickimport as importer
            from kiosk.devices.usbstick import mount

            _unmount(previous)
            try:
                mounted = None
                if devnode:
                    mounted = mount.mount_ro(devnode, self.mount_base)
                    where = mounted.path
                else:
                    where = Path(root)
                app_root = where if _has_app_packages(where) else None
                with self._lock:
                    if gen != self._stick_gen:  # pulled while it was being mounted
                        stale = True
                    else:
                        stale, self._mounted, self._app_root = False, mounted, app_root
                if stale:
                    _unmount(mounted)
                    return
                plan = importer.plan(where, self.home, self.cfg.get("scope"))
                with self._lock:
                    if gen != self._stick_gen:
                        return
                    self._plan = plan
                    self.stick_state = "need_pin"
                self.publish(ImportOffered(plan, app_root))
            except Exception as exc:  # noqa: BLE001
                self._fail(exc, gen)

        return self.spawn(work, "stick")

    def stick_install(self) -> threading.Thread | None:
        """Install the offered bundle (the PIN was accepted); publishes progress, then
        :class:`ImportDone` or :class:`ImportRefused`. None when nothing was offered."""
        with self._lock:
            if self.stick_state != "need_pin" or self._plan is None:
                return None
            self.stick_state = "installing"
            plan, gen = self._plan, self._stick_gen

        def work():
            from kiosk.cache import stickimport as importer

            meters = [Meter()]  # a new one for each bundle tried: progress starts again from 0

            def refused(_folder, _exc) -> None:
                meters.append(Meter())

            try:
                rep = importer.run(plan, self.home, self.cfg.get("scope"), on_refused=refused,
                                   progress=lambda ph, d, t: self._progress("stick", meters[-1], ph, d, t))
            except Exception as exc:  # noqa: BLE001
                self._fail(exc, gen)
                return
            with self._lock:
                hold = self._app_root is not None and gen == self._stick_gen
                self.stick_state = "held" if hold else "done"
                self._plan = None
            safe = False if hold else self._release()
            self.publish(ImportDone(rep, safe))

        return self.spawn(work, "stick")

    def stick_cancel(self) -> bool:
        """Give up on the offered import (返回 on the PIN pad), or give back a stick held for
        its app packages; unmounts. True = safe to pull. False (nothing done) while an
        import or an app package copy runs."""
        with self._lock:
            if self.stick_state in ("installing", "app"):
                return False
            self._plan = None
            self._app_root = None
            self.stick_state = "idle"
        return self._release()

    def stick_look(self) -> str:
        """从U盘导入: start the stick flow (:meth:`stick_added`) with the first stick attached
        now. Returns ``started``, ``none`` (no stick attached) or ``busy`` (an import, an
        app package copy or a sync is running)."""
        with self._lock:
            if self.stick_state in BUSY or self.syncing:
                return "busy"
        try:
            found = list((self._find_sticks or _sticks_now)())
        except Exception:  # noqa: BLE001 - no way to list devices here: the same as none
            log.exception("listing the sticks attached failed")
            found = []
        if not found:
            return "none"
        first = found[0]  # one stick at a time; a second one attached waits for the next look
        t = self.stick_added(root=first) if isinstance(first, Path) else self.stick_added(str(first))
        return "busy" if t is None else "started"

    @property
    def stick_root(self) -> Path | None:
        """The mounted stick's root while it is held for its app packages, else None."""
        with self._lock:
            return self._app_root

    def stick_app_begin(self) -> Path | None:
        """An app package is about to be copied from the held stick: it stays mounted (and
        :meth:`stick_cancel` does nothing) until :meth:`stick_app_end`. Returns the stick's
        root, or None when no stick is held (pulled, or given back)."""
        with self._lock:
            if self.stick_state != "held" or self._app_root is None:
                return None
            self.stick_state = "app"
            return self._app_root

    def stick_app_end(self) -> bool:
        """The app update is over (copied and handed to the root side, or refused): give the
        stick back. True = safe to pull."""
        with self._lock:
            if self.stick_state == "app":
                self.stick_state = "held"
        return self.stick_cancel()

    def stick_removed(self, devnode: str | None = None) -> None:
        """The stick ``devnode`` was pulled. Preparation in progress is abandoned; an install
        in progress notices by itself (read error) and reports :class:`ImportRefused`."""
        with self._lock:
            if self._mounted is not None and devnode and self._mounted.dev != devnode:
                return
            installing = self.stick_state in ("installing", "app")  # the copy notices by itself
            if not installing:
                self._stick_gen += 1
                self._plan = None
                self._app_root = None
                self.stick_state = "idle"
        if not installing:
            self._release()
        self.publish(StickRemoved(devnode))

    def _release(self) -> bool:
        with self._lock:
            m, self._mounted = self._mounted, None
        return _unmount(m)

    def _fail(self, exc: BaseException, gen: int) -> None:
        from kiosk.cache.discovery import NoBundle

        with self._lock:
            if gen != self._stick_gen:  # the stick was pulled: "removed" was said already
                stale = True
            else:
                stale = False
                self._plan = None
                app_root = self._app_root
                self.stick_state = "held" if app_root is not None else "failed"
        if stale:  # its mount, if any, went with the removal (or belongs to a newer stick)
            log.info("stick work after removal ended: %s", getattr(exc, "message", type(exc).__name__))
            return
        if not isinstance(exc, KioskError):
            log.exception("stick import failed", exc_info=exc)
        safe = False if app_root is not None else self._release()
        self.publish(ImportRefused(describe(exc), getattr(exc, "message", str(exc)), safe,
                                   app_root=app_root, no_bundle=isinstance(exc, NoBundle)))


#: stick states in which a new stick, 从U盘导入 or a sync must wait
BUSY = ("preparing", "installing", "app")


def _sticks_now() -> list[str]:
    from kiosk.devices.usbstick.watcher import sticks_now

    return sticks_now()


def _has_app_packages(root: Path) -> bool:
    """Whether the stick carries app packages (a cheap walk for their manifests)."""
    from kiosk.cache import apppackage

    try:
        return bool(apppackage.find(root))
    except OSError:
        return False


def _unmount(m) -> bool:
    """Unmount ``m`` (a mount from kiosk.devices.usbstick.mount, or None). True = safe to pull."""
    if m is None:
        return True
    try:
        return m.unmount() is not False
    except Exception:  # noqa: BLE001
        log.exception("unmount failed")
        return False
