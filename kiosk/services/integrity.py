"""The integrity service: re-hashes the installed data at start, after an unclean shutdown
and daily, on its own thread (kiosk.cache.integrity), and reports what it found.

:class:`IntegrityChecked` follows every check; :class:`IntegrityProblem` follows a check
that changed what may be shown (a fallback to the last known good version, state rebuilt,
or nothing trusted left). :meth:`IntegrityService.read_trust_notice` answers with
:class:`TrustNotice` (the public footer's line about unconfirmed PIN-based changes). The App then switches at the next safe moment, or at once to
尚无数据 when nothing trusted is left.
"""
from __future__ import annotations

import logging
from pathlib import Path

from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import IntegrityChecked, IntegrityProblem, TrustNotice

log = logging.getLogger("kiosk.services.integrity")


class IntegrityService(Service):
    """Background re-checks of the installed data.

    Args:
        bus: the event bus. home: KIOSK_HOME.
        interval: seconds between checks (default ``timeouts.integrity_recheck_interval``).
    """

    name = "integrity"

    def __init__(self, bus: EventBus, home: Path, interval: float | None = None, clock=None):
        super().__init__(bus)
        self.home = Path(home)
        self.interval = interval
        self.clock = clock
        self._monitor = None

    def start(self) -> None:
        if self.started:
            return
        super().start()
        from kiosk.cache import integrity

        # the monitor reports a changed outcome once (a fallback that could not be written is
        # retried every minute but said only again when the outcome differs)
        self._monitor = integrity.start_background_checks(
            self.home, interval=self.interval, clock=self.clock,
            on_result=lambda res: self.publish(IntegrityChecked(res)),
            on_change=lambda res: self.publish(IntegrityProblem(res)))

    def check_now(self) -> None:
        """Re-check at once (e.g. from the technician menu)."""
        if self._monitor is not None:
            self._monitor.check_now()

    def read_trust_notice(self) -> None:
        """Read the public footer's lasting notice (:func:`kiosk.cache.trustlog.public_notice`:
        a PIN reset or PIN-based key/scope change not yet confirmed by a county-signed key
        list) on a worker; :class:`TrustNotice` follows (``""`` when there is none). An
        unreadable record is logged and changes nothing (the integrity check reports it)."""

        def read() -> None:
            from kiosk.cache import trustlog

            try:
                text = trustlog.public_notice(self.home) or ""
            except Exception as exc:  # noqa: BLE001 - the footer keeps what it shows
                log.warning("cannot read the trust log: %s", exc)
                return
            self.publish(TrustNotice(text))

        self.spawn(read, "trust-notice")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop checking; a clean stop clears the run marker (the next start is not "unclean")."""
        if self._monitor is not None:
            self._monitor.stop(timeout=timeout)
            self._monitor = None
        super().stop(timeout)
