"""The services the App owns, made and started in one place.

The data service starts with the App (the first screen needs data); the others start once
the first screen with data is up (their imports — printer, diskcache, cryptography — cost
start-up time) and stop in reverse order.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from kiosk.services.bus import EventBus
from kiosk.services.data import DataService


class Services:
    """The kiosk's services, each made on first use.

    Args:
        bus: the event bus they all publish on.
        home: KIOSK_HOME. cfg: the loaded config.
        opener: the data service's opener (tests). overrides: ``{name: factory(bus)}``
            replacing a service (tests, the benchmark).
    """

    #: started after the first screen, in this order (stopped in reverse); appupdate right after
    #: updates (its first job is the rollback notice, a small file read); speech last: its
    #: warm-up (reading tables, one espeak-ng run) is not needed before a first tap on 朗读
    BACKGROUND = ("updates", "appupdate", "card", "printer", "integrity", "speech")

    def __init__(self, bus: EventBus, home: Path, cfg: dict, opener=None,
                 overrides: dict[str, Callable[[EventBus], object]] | None = None):
        self.bus, self.home, self.cfg = bus, Path(home), cfg
        self.data = DataService(bus, home, opener=opener, cfg=cfg)
        self._overrides = overrides or {}
        self._made: dict[str, object] = {}
        self.background_started = False

    def _make(self, name: str):
        if name in self._overrides:
            return self._overrides[name](self.bus)
        if name == "updates":
            from kiosk.services.updates import UpdateService

            return UpdateService(self.bus, self.home, self.cfg)
        if name == "card":
            from kiosk.services.card import CardService

            return CardService(self.bus, self.cfg)
        if name == "printer":
            from kiosk.services.printer import PrinterService

            return PrinterService(self.bus, self.home, self.cfg)
        if name == "integrity":
            from kiosk.services.integrity import IntegrityService

            return IntegrityService(self.bus, self.home)
        if name == "pin":
            from kiosk.services.pin import PinService

            return PinService(self.bus, self.home)
        if name == "speech":
            from kiosk.services.speech import SpeechService

            return SpeechService(self.bus, self.cfg)
        if name == "appupdate":
            # its start() announces a past rollback (AppRolledBack) once: the App shows it
            from kiosk.services.appupdate import AppUpdateService

            return AppUpdateService(self.bus, self.home)
        raise KeyError(name)

    def get(self, name: str):
        """Service ``name`` (made, not started, on first use)."""
        if name == "data":
            return self.data
        svc = self._made.get(name)
        if svc is None:
            svc = self._made[name] = self._make(name)
        return svc

    @property
    def updates(self):
        return self.get("updates")

    @property
    def card(self):
        return self.get("card")

    @property
    def printer(self):
        return self.get("printer")

    @property
    def integrity(self):
        return self.get("integrity")

    @property
    def pin(self):
        return self.get("pin")

    @property
    def speech(self):
        """朗读 (kiosk.services.speech.SpeechService): ``speak_fields``, ``cancel``."""
        return self.get("speech")

    @property
    def appupdate(self):
        return self.get("appupdate")

    def replace(self, name: str, svc):
        """Put ``svc`` in place of service ``name`` (stopping the old one; ``svc`` is started
        when the background services run). Returns the old one. For tests and the benchmark."""
        old = self._made.get(name)
        if old is not None:
            old.stop()
        self._made[name] = svc
        if self.background_started and name in self.BACKGROUND:
            svc.start()
        return old

    def start_background(self) -> None:
        """Start the services that may wait for the first screen (idempotent)."""
        if self.background_started:
            return
        self.background_started = True
        for name in self.BACKGROUND:
            self.get(name).start()

    def stop(self) -> None:
        """Stop every started service, the data service last."""
        for name in reversed(list(self._made)):
            self._made[name].stop()
        self.data.stop()
