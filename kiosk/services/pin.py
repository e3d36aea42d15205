"""The technician PIN service: PIN checks off the UI thread (scrypt takes tens of ms).

``check(name, pin)`` returns a request number at once; the answer arrives as
:class:`PinChecked` with that number, saying why a PIN was refused (wrong, with the tries
left; locked, with the time left; not set).
"""
from __future__ import annotations

import itertools
from pathlib import Path

from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import PinChecked

NO_PIN_ZH = "尚未设置技术员密码。请技术人员在终端上运行：kiosk pin set technician"


class PinService(Service):
    """Technician PIN checks (kiosk.cache.pin) on the service's threads."""

    name = "pin"

    def __init__(self, bus: EventBus, home: Path):
        super().__init__(bus)
        self.home = Path(home)
        self._requests = itertools.count(1)

    def is_set(self, name: str = "technician") -> bool:
        """Whether PIN ``name`` exists (one small JSON read). A damaged file counts as set,
        so the check says why."""
        from kiosk.cache import pin

        try:
            return pin.is_set(name, self.home)
        except Exception:  # noqa: BLE001 - unreadable pins.json: the check reports it
            return True

    def check(self, name: str, entered: str) -> int:
        """Check ``entered`` against PIN ``name`` on a worker; returns the request number
        that the :class:`PinChecked` answer carries."""
        req = next(self._requests)
        self.spawn(lambda: self.publish(self._check(name, entered, req)), "check")
        return req

    def _check(self, name: str, entered: str, req: int) -> PinChecked:
        from kiosk.cache import pin
        from kiosk.services.updates import describe

        try:
            if pin.check(name, entered, self.home):
                return PinChecked(name, req, True)
            left = pin.tries_left(name, self.home)
        except pin.PinLocked as exc:
            return PinChecked(name, req, False, exc.message_zh, 0, exc.seconds)
        except pin.PinNotSet:
            return PinChecked(name, req, False, NO_PIN_ZH)
        except Exception as exc:  # noqa: BLE001 - a damaged PIN file: say so, never crash
            return PinChecked(name, req, False, describe(exc))
        msg = f"密码错误，还可尝试{left}次" if left else "密码错误"
        return PinChecked(name, req, False, msg, left)
