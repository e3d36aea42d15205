"""The printer service: receipts are printed one job at a time on the service's thread.

Config ``printer``: ``profile`` (kiosk.devices.printer profiles), ``device``: ``""`` = the
attached printer, discovered again for every job (so a replugged printer works without a
restart; ``vid_pid`` chooses one), ``"sim"`` = the simulated printer, which keeps each
printed receipt as a PNG under ``KIOSK_HOME/receipts/`` (the demo shows what was printed),
or a transport spec (``usb:VID:PID``, ``lp:/dev/usb/lp0``, ``tcp:HOST``).

``print(receipt)`` returns a job number at once; :class:`PrintDone` or :class:`PrintFailed`
with that number follows. A failure the staff can fix (paper out, cover open) is
``retryable``: ``retry(job)`` sends the same job again. ``print_test()`` prints the test
receipt of ``kiosk print-test`` the same way (技术员维护 › 打印测试页); ``check()`` asks the
printer for its state (技术员维护 › 设备状态): :class:`PrinterChecked` follows.
"""
from __future__ import annotations

import datetime as _dt
import itertools
import logging
import threading
from pathlib import Path

from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import PrintDone, PrintFailed, PrinterChecked

log = logging.getLogger("kiosk.services.printer")
UNPRINTABLE_ZH = "无法打印这条记录，请联系技术人员"


class PrinterService(Service):
    """Prints receipts with the configured printer.

    Args:
        bus: the event bus. home: KIOSK_HOME (simulated receipts go to ``home/receipts``).
        cfg: config (``printer`` table).

    Attributes:
        sim: the SimulatedPrinter when ``printer.device`` is ``sim``.
        last_png: the PNG of the last simulated receipt printed; last_lines: its text lines.
    """

    name = "printer"

    def __init__(self, bus: EventBus, home: Path, cfg: dict):
        super().__init__(bus)
        pc = cfg.get("printer") or {}
        self.home = Path(home)
        self.profile = pc.get("profile") or "pos58"
        self.device = pc.get("device") or ""
        self.vid_pid = pc.get("vid_pid") or ""
        self.sim = None
        if self.device == "sim":
            from kiosk.devices.printer import SimulatedPrinter

            self.sim = SimulatedPrinter(self.profile)
        self._lock = threading.Lock()  # one job at a time on the printer
        self._jobs = itertools.count(1)
        self._results: dict[int, object] = {}  # job → its last PrintResult (for retry)
        self.last_png: Path | None = None
        self.last_lines: list[str] = []

    # ---- jobs -----------------------------------------------------------------------------
    def print(self, receipt) -> int:
        """Print ``receipt`` (kiosk.receipts) on a worker; returns the job number."""
        job = next(self._jobs)
        self.spawn(lambda: self._run(job, receipt=receipt), f"job{job}")
        return job

    def print_test(self) -> int:
        """Print the test receipt of ``kiosk print-test`` (Chinese punctuation, rare
        characters, a table, a QR code: kiosk.devices.printer.testpage) on a worker; returns
        the job number, answered like :meth:`print`."""
        from kiosk.devices.printer.testpage import sample_receipt

        job = next(self._jobs)
        self.spawn(lambda: self._run(job, receipt=sample_receipt()), f"job{job}")
        return job

    def check(self) -> None:
        """Ask the printer for its state on a worker (after a job in progress);
        :class:`PrinterChecked` follows."""
        self.spawn(lambda: self.publish(self.check_now()), "check")

    def check_now(self, timeout: float = 0.5) -> PrinterChecked:
        """The printer's state, found the way jobs find it (``kiosk devices`` discovery for
        the attached printer, else the configured device), then ``DLE EOT`` status; slow.
        Never raises."""
        from kiosk.devices.printer import PrinterError, PrinterNotFound
        from kiosk.devices.printer.status import query_status

        with self._lock:
            try:
                name, t = self._named_transport()
                with t:
                    st = query_status(t, timeout)
            except PrinterNotFound:
                return PrinterChecked("missing", "未检测到小票打印机（请检查打印机电源和USB连线）")
            except PrinterError as exc:
                return PrinterChecked("error", f"{exc.message_zh}")
            except Exception as exc:  # noqa: BLE001 - e.g. libusb missing: said, never raised
                log.warning("printer check failed: %s", type(exc).__name__)
                return PrinterChecked("error", "无法检查打印机，请联系技术人员")
        bad = any((st.offline, st.cover_open, st.paper_end, st.cutter_error, st.error))
        return PrinterChecked("error" if bad else "found", f"已连接（{name}），{st.label_zh()}")

    def _named_transport(self):
        """(name shown to the technician, transport) for :meth:`check_now`.

        Raises:
            PrinterNotFound: nothing attached (or not the configured VID:PID).
        """
        if self.sim is not None:
            return "模拟打印机，演示用", self.sim
        if self.device:
            return self.device, self._transport()
        from kiosk.devices.printer.discovery import discover, open_default

        found = discover(self.vid_pid, probe=False)
        t = open_default(self.vid_pid)  # PrinterNotFound when nothing is attached
        return (found[0]["name"] if found else "打印机"), t

    def retry(self, job: int) -> bool:
        """Send failed job ``job`` again (same number). False when there is nothing to retry."""
        prev = self._results.get(job)
        if prev is None or getattr(prev, "ok", True):
            return False
        self.spawn(lambda: self._run(job, previous=prev), f"job{job}")
        return True

    def _run(self, job: int, receipt=None, previous=None) -> None:
        try:
            res = self.print_now(receipt, previous)
        except Exception as exc:  # noqa: BLE001 - e.g. UnprintableText: shown, never kills the kiosk
            log.error("print job %d failed: %s", job, type(exc).__name__)
            self.publish(PrintFailed(job, getattr(exc, "message_zh", None) or UNPRINTABLE_ZH))
            return
        self._results[job] = res
        if res.ok:
            self.publish(PrintDone(job, res, res.message_zh))
        else:
            self.publish(PrintFailed(job, res.message_zh, res.retryable, res))

    def print_now(self, receipt=None, previous=None):
        """Print ``receipt`` (or the job of a failed ``previous`` result again) on this
        thread; slow. Returns a ``PrintResult`` (printer faults are in it, not raised).

        Raises:
            PrinterError: the receipt cannot be composed (e.g. UnprintableText).
        """
        from kiosk.devices.printer import PrinterError, print_receipt, retry
        from kiosk.devices.printer.job import PrintResult, compose

        with self._lock:
            try:
                t = self._transport()
            except PrinterError as exc:  # e.g. PrinterNotFound for a configured VID:PID
                job = previous.job if previous else compose(receipt, self.profile)
                return PrintResult(ok=False, job=job, error=exc)
            res = retry(previous, t) if previous is not None else print_receipt(receipt, self.profile, t)
            if self.sim is not None:
                self._keep_simulated(res)
            return res

    def _transport(self):
        if self.sim is not None:
            return self.sim
        if self.device:
            from kiosk.devices.printer.transports import from_spec

            return from_spec(self.device)
        if self.vid_pid:
            from kiosk.devices.printer.discovery import open_default

            return open_default(self.vid_pid)
        return None  # print_receipt discovers the attached printer

    def _keep_simulated(self, res) -> None:
        """Tear the simulated receipt off: keep its text and, when printed, a PNG."""
        self.last_lines = self.sim.text_lines()
        if res.ok:
            out = self.home / "receipts"
            out.mkdir(parents=True, exist_ok=True)
            stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            self.last_png = out / f"receipt-{stamp}.png"
            self.sim.save_png(self.last_png)
        self.sim.new_paper()
