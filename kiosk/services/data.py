"""The data service: every query of the installed data runs on one worker thread.

Why one thread: SQLite connections belong to the thread that opened them, and a slow query
must never freeze the touch screen. Answers go back to the caller through the bus's
hand-off (the App's main thread), in the order the queries were asked.

Versions: the importer switches a pointer (kiosk/cache). Every :attr:`DataService.poll_s`
seconds the service opens the current version on its worker; if it differs from the one
shown it keeps it ready and publishes :class:`DataVersionChanged`. The App decides when it
is safe to switch (首页, idle, 尚无数据) and calls :meth:`DataService.switch`, which
publishes :class:`DataShown`.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import DataJobFailed, DataShown, DataVersionChanged, VillageChosen

log = logging.getLogger("kiosk.services.data")

#: seconds between two looks for a newly installed version
POLL_S = 10.0


def open_current(home: Path):
    # imported here, on the worker: the mirror's imports (bundle verification, cryptography)
    # took ~0.15 s of the main thread before the first frame
    from kiosk.cache.mirror import open_current as _open

    return _open(home)


class DataService(Service):
    """Queries of the installed data, one at a time on one worker thread.

    Args:
        bus: where :class:`DataShown`, :class:`VillageChosen`, :class:`DataVersionChanged`
            and :class:`DataJobFailed` are published, and through which answers come back.
        home: KIOSK_HOME.
        opener: ``opener(home) -> Mirror | None`` (default: the installed version).
        poll_s: seconds between two looks for a new version (0: only on :meth:`check`).
        cfg: the loaded config (``viewer.base_url`` for :attr:`viewer_link`); None: no
            viewer link, receipts print no QR code.
    """

    name = "data"

    def __init__(self, bus: EventBus, home: Path, opener: Callable[[Path], Any] | None = None,
                 poll_s: float = POLL_S, cfg: dict | None = None):
        super().__init__(bus)
        self.home = Path(home)
        self._opener = opener or open_current
        self.poll_s = poll_s
        self._executor: ThreadPoolExecutor | None = None
        self._pending_lock = threading.Lock()
        self._pending = 0
        self._checking = False   # a version check is queued or running
        self._mirror = None      # worker thread only
        self._next = None        # worker thread only: the version waiting to be switched to
        self.cfg = cfg
        self._link = None        # worker thread only: the viewer link of the version shown
        #: called where answers arrive once no query is left on its way (the App puts up a
        #: screen it held back for its data)
        self.on_idle: Callable[[], None] | None = None

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Open the installed version (publishes :class:`DataShown`) and start polling."""
        if self.started:
            return
        super().start()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-data")
        self.submit(self._w_open, lambda info: self.publish(DataShown(info)))
        if self.poll_s > 0:
            self.spawn(self._poll, "poll")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop polling, close the database on the worker and end the worker."""
        super().stop(timeout)
        ex, self._executor = self._executor, None
        if ex is not None:
            ex.submit(self._w_close)
            ex.shutdown(wait=True)

    def _poll(self) -> None:
        while not self.stopping.wait(self.poll_s):
            self.check()

    # ---- queries --------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether queries or their answers are still on their way."""
        with self._pending_lock:
            return self._pending > 0

    def submit(self, fn: Callable[[Any], Any], done: Callable[[Any], None] | None = None) -> None:
        """Run ``fn(mirror)`` on the worker (``mirror`` is None when nothing is installed),
        then ``done(result)`` through the bus's hand-off. An unexpected error is logged and
        published as :class:`DataJobFailed`; ``done`` is then not called."""
        ex = self._executor
        if ex is None:
            raise RuntimeError("the data service is not started")
        with self._pending_lock:
            self._pending += 1

        def job() -> None:
            try:
                res, err = fn(self._mirror), None
            except Exception as exc:  # noqa: BLE001 - logged and reported; the kiosk goes on
                log.exception("data job failed")
                res, err = None, exc
            self.bus.call(lambda: finish(res, err))

        def finish(res, err) -> None:
            try:
                if err is not None:
                    self.publish(DataJobFailed())
                elif done is not None:
                    done(res)
            finally:
                with self._pending_lock:
                    self._pending -= 1
                    idle = self._pending == 0
                if idle and self.on_idle is not None:
                    self.on_idle()

        try:
            ex.submit(job)
        except RuntimeError:  # shut down meanwhile (the App is stopping)
            with self._pending_lock:
                self._pending -= 1

    @property
    def viewer_link(self):
        """The receipts' link to the phone viewer for the version shown
        (:class:`kiosk.receipts.ViewerLink`), or None without ``viewer.base_url`` (no QR code).

        Computed once per version shown, on the worker, when the version is opened or
        switched in (it checks the manifest's signature against the trusted keys). Read it in
        a job on the worker: there it belongs to the same version as the job's mirror
        (``App.print_record`` hands it to every receipt builder)."""
        return self._link

    # ---- versions -------------------------------------------------------------------------
    def check(self) -> None:
        """Look for a newly installed (or fallen-back) version now; publishes
        :class:`DataVersionChanged` when there is one to switch to."""
        with self._pending_lock:
            if self._checking or self._executor is None:
                return
            self._checking = True

        def done(found):
            if found is not None:
                self.publish(DataVersionChanged(*found))

        def work(_m):
            try:
                return self._w_check()
            finally:
                with self._pending_lock:
                    self._checking = False

        self.submit(work, done)

    def switch(self) -> None:
        """Show the version :meth:`check` found (publishes :class:`DataShown`)."""
        self.submit(lambda _m: self._w_swap(), lambda info: self.publish(DataShown(info)))

    def close(self, reason_zh: str = "") -> None:
        """Show nothing (e.g. no trusted version is left): publishes ``DataShown(None)``."""
        self.submit(lambda _m: self._w_close(), lambda _r: self.publish(DataShown(None, reason_zh)))

    def choose_village(self, code: str | None) -> None:
        """Township/county kiosk: show village ``code`` only, or every village again (None);
        publishes :class:`VillageChosen`."""

        def work(m):
            if m is None:
                return None
            self._mirror = m.with_village(code)
            return self._mirror.info

        self.submit(work, lambda info: info is not None and self.publish(VillageChosen(info)))

    # ---- worker thread only ---------------------------------------------------------------
    def _w_open(self, _m):
        self._mirror = self._opener(self.home)
        self._w_link()
        return self._mirror.info if self._mirror else None

    def _w_link(self) -> None:
        """Compute :attr:`viewer_link` for the version shown (once per version shown)."""
        self._link = None
        if self._mirror is None or not self.cfg:
            return
        from kiosk.cache.viewerlink import for_mirror

        try:
            self._link = for_mirror(self.home, self._mirror, self.cfg)
        except Exception:  # noqa: BLE001 - an unreadable manifest or key list: a receipt without a QR code, not none
            log.exception("viewer link")

    def _w_close(self) -> None:
        for m in (self._mirror, self._next):
            if m is not None:
                m.close()
        self._mirror = self._next = self._link = None

    def _w_check(self) -> tuple[int, str] | None:
        new = self._opener(self.home)
        if new is None:
            return None
        cur = self._mirror.info if self._mirror else None
        if cur is not None and (new.info.fingerprint, new.info.seq) == (cur.fingerprint, cur.seq):
            new.close()
            return None
        if self._next is not None:
            self._next.close()
        self._next = new
        return new.info.seq, new.info.fingerprint

    def _w_swap(self):
        if self._next is None:
            self._w_link()  # the same version announced anew (e.g. after a config change)
            return self._mirror.info if self._mirror else None
        old, self._mirror, self._next = self._mirror, self._next, None
        if old is not None:
            old.close()
        self._w_link()
        return self._mirror.info
