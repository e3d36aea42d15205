"""CardWatcher: polls a reader in a thread and reports cards placed and removed.

Callbacks run on the watcher's thread. The app hands them to its main thread itself
(``Clock.schedule_once``); this module never imports Kivy.

Removal (docs/devices.md): after a read, ``find`` answers "no card" even while the card
stays, so the watcher asks ``30 03`` (read appended address) instead, which answers only
while the same card is still in the field. If a reader cannot tell (it rejects ``30 03``),
the watcher reports no removal; the personal screen then relies on its idle timer and on
退出, after which the app calls :meth:`CardWatcher.forget`.

Unplug: any reader failure closes the session, reports the card removed (personal data
must not outlive the reader), and reopens with backoff until the reader is back.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

from kiosk.devices.idcard.errors import (
    CardDataError,
    CardTypeRefused,
    FrameError,
    IdCardError,
    NoCard,
    ReaderStatusError,
    ReaderTimeout,
    ReaderUnavailable,
    SelectFailed,
)
from kiosk.devices.idcard.protocol import ReaderSession
from kiosk.devices.idcard.text import IdCard

log = logging.getLogger(__name__)

#: Consecutive time-outs / bad frames before the reader is closed and reopened.
MAX_LINK_ERRORS = 3


class CardWatcher:
    """Watch one reader.

    Args:
        reader_factory: opens a :class:`ReaderSession`; may raise :class:`ReaderUnavailable`.
        on_present: ``f(card: IdCard)`` when a resident card has been read.
        on_removed: ``f()`` when that card left the field, or the reader went away with it.
        poll_interval: seconds between polls (config ``timeouts.card_poll_interval``).
        on_error: ``f(err: IdCardError)`` for a refused card type or unreadable card
            (show ``err.message_zh``); optional.
        on_status: ``f(status: str)`` with ``"ready"`` / ``"unavailable"``; optional.
        backoff: (first, longest) seconds between reopen attempts; doubles each failure.
    """

    def __init__(self, reader_factory: Callable[[], ReaderSession],
                 on_present: Callable[[IdCard], None], on_removed: Callable[[], None],
                 poll_interval: float = 0.5, on_error: Callable[[IdCardError], None] | None = None,
                 on_status: Callable[[str], None] | None = None,
                 backoff: tuple[float, float] = (0.5, 5.0)):
        self.reader_factory = reader_factory
        self.on_present, self.on_removed = on_present, on_removed
        self.on_error, self.on_status = on_error, on_status
        self.poll_interval = poll_interval
        self.backoff = backoff
        self._stop = threading.Event()
        self._forget = threading.Event()
        self._thread: threading.Thread | None = None
        self.session: ReaderSession | None = None
        self.card: IdCard | None = None
        self.status = "starting"
        #: False once the reader showed it cannot tell removal (rejects 30 03).
        self.removal_detectable: bool | None = None
        self._last_error: tuple | None = None  # report one refused card once, not every poll

    # -- control -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="idcard-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout)
        self._close()

    def forget(self) -> None:
        """Drop the current card without an event (the app ended the personal screen by idle
        timer or 退出). A card still lying there is not read again until it is lifted."""
        self._forget.set()

    # -- loop ----------------------------------------------------------------------------
    def _set_status(self, status: str) -> None:
        if status != self.status:
            self.status = status
            if self.on_status:
                self._call(self.on_status, status)

    def _call(self, fn, *args) -> None:
        try:
            fn(*args)
        except Exception:  # noqa: BLE001 - a faulty callback must not kill the watcher
            log.exception("card watcher callback failed")

    def _close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None

    def _lost_card(self) -> None:
        if self.card is not None:
            self.card = None
            self._call(self.on_removed)

    def _run(self) -> None:
        delay = self.backoff[0]
        link_errors = 0
        while not self._stop.is_set():
            if self.session is None:
                try:
                    self.session = self.reader_factory()
                    self._set_status("ready")
                    delay, link_errors = self.backoff[0], 0
                except IdCardError as exc:
                    log.info("ID-card reader not available: %s", exc.message)
                    self._set_status("unavailable")
                    self._stop.wait(delay)
                    delay = min(delay * 2, self.backoff[1])
                    continue
            try:
                self._poll()
                link_errors = 0
            except ReaderUnavailable as exc:
                log.info("ID-card reader lost: %s", exc.message)
                self._close()
                self._lost_card()
                self._set_status("unavailable")
                continue  # reopen at once, then back off
            except (ReaderTimeout, FrameError) as exc:
                link_errors += 1
                log.info("ID-card reader link error %d: %s", link_errors, exc.message)
                if link_errors >= MAX_LINK_ERRORS:
                    self._close()
                    self._lost_card()
                    self._set_status("unavailable")
                    continue
            self._stop.wait(self.poll_interval)

    def _poll(self) -> None:
        assert self.session is not None
        if self._forget.is_set():
            self._forget.clear()
            self.card = None
        if self.card is None:
            try:
                card = self.session.read_card()
            except (NoCard, SelectFailed):
                self._last_error = None
                return
            except (CardTypeRefused, CardDataError, ReaderStatusError) as exc:
                # refused or unreadable card; 0x41: moved or removed mid-read
                key = (type(exc), exc.message)
                if self.on_error and key != self._last_error:
                    self._call(self.on_error, exc)
                self._last_error = key
                return
            self._last_error = None
            self.card = card
            self._call(self.on_present, card)
            return
        present = self.session.probe_present()
        if present is None:
            self.removal_detectable = False  # rely on the app's idle timer and 退出
            return
        self.removal_detectable = True
        if not present:
            self._lost_card()
