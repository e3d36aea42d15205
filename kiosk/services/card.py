"""The ID-card reader service: watches the configured reader and reports cards.

Config ``idcard.device``: ``""`` = the first reader found, ``"sim"`` = the simulated reader
serving the demo persons (the 我的查询 screen then shows demo buttons that place and take a
card: :attr:`CardService.simulator`), or a device spec (kiosk.devices.idcard.open_reader).

Privacy: the card (an ``IdCard`` with the full ID number) travels only in the
:class:`CardPresented` event; the App hands it straight to the holder lookup. Nothing here
logs the ID number or the name.
"""
from __future__ import annotations

from pathlib import Path

from kiosk import config
from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import CardPresented, CardRefused, CardRemoved, ReaderChecked, ReaderFound, ReaderLost


class CardService(Service):
    """Reports :class:`CardPresented`, :class:`CardRemoved`, :class:`CardRefused`,
    :class:`ReaderLost` and :class:`ReaderFound`.

    Args:
        bus: the event bus. cfg: config (``idcard.device``, ``timeouts.card_poll_interval``).
        reader_factory: opens a reader session (tests); default from the config.

    Attributes:
        simulator: the SimulatedReader when ``idcard.device`` is ``sim`` (demo), else None.
        available: the reader answered its last open (None before the first try).
    """

    name = "card"

    def __init__(self, bus: EventBus, cfg: dict, reader_factory=None, backoff: tuple[float, float] = (0.5, 5.0)):
        super().__init__(bus)
        self.cfg = cfg
        self.spec = (cfg.get("idcard") or {}).get("device") or "auto"
        self.simulator = None
        if self.spec.startswith("sim"):
            from kiosk.devices.idcard.simulator import SimulatedReader

            self.simulator = SimulatedReader()
        self._factory = reader_factory
        self._backoff = backoff
        self._watcher = None
        self.available: bool | None = None

    @classmethod
    def from_home(cls, bus: EventBus, home: Path) -> "CardService":
        return cls(bus, config.load(home))

    def start(self) -> None:
        """Start polling the reader on the watcher's thread."""
        if self.started:
            return
        super().start()
        from kiosk.devices.idcard import CardWatcher, open_reader

        factory = self._factory or (lambda: open_reader(self.spec, simulator=self.simulator))
        poll = float({**config.TIMEOUTS, **self.cfg.get("timeouts", {})}["card_poll_interval"])
        self._watcher = CardWatcher(factory, lambda card: self.publish(CardPresented(card)),
                                    lambda: self.publish(CardRemoved()), poll_interval=poll,
                                    on_error=lambda err: self.publish(CardRefused(err.message_zh)),
                                    on_status=self._status, backoff=self._backoff)
        self._watcher.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._watcher is not None:
            self._watcher.stop(timeout)
            self._watcher = None
        super().stop(timeout)

    def _status(self, status: str) -> None:
        self.available = status == "ready"
        self.publish(ReaderFound() if self.available else ReaderLost())

    def check(self) -> None:
        """设备状态 for the technician menu, on a worker; :class:`ReaderChecked` follows.
        Never talks to the reader (the watcher owns it): what the watcher last found, and
        which readers are attached (``kiosk devices``' discovery: USB and serial ports
        listed, not opened)."""
        self.spawn(lambda: self.publish(self.check_now()), "check")

    def check_now(self) -> ReaderChecked:
        """The answer :meth:`check` publishes; slow (lists USB and serial devices)."""
        if self.simulator is not None:
            if self.simulator.plugged and self.available is not False:
                return ReaderChecked("found", "已连接（模拟读卡器，演示用），工作正常")
            return ReaderChecked("missing", "模拟读卡器已拔出（演示）")
        try:
            from kiosk.devices.idcard import discover

            found = discover()
        except Exception:  # noqa: BLE001 - no USB/serial backend: nothing listed
            found = []
        if self.available:
            name = found[0]["name"] if found else self.spec
            return ReaderChecked("found", f"已连接（{name}），工作正常")
        if any(d["status"] == "no-permission" for d in found):
            return ReaderChecked("error", "已插入，但本机程序无权使用它（请安装读卡器的 udev 规则）")
        if found:
            return ReaderChecked("error", f"已插入（{found[0]['name']}），但没有应答（请重新插拔，或检查读卡器设置）")
        return ReaderChecked("missing", "未检测到身份证读卡器（请检查USB连线）")

    def forget(self) -> None:
        """Drop the card read last without an event (the holder's screen closed by 退出 or
        the idle timer); a card still lying on the reader is read again only once lifted."""
        if self._watcher is not None:
            self._watcher.forget()
