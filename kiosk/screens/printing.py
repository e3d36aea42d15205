"""Staff printing from any screen: the 打印 button, the printer service (configured
profile/transport, or the simulated printer) and the result dialog (success, or the staff
message with 重试 when the fault can be fixed).

Flow: the receipt is built on the data worker (it may read the mirror, e.g. a month's lines),
then printed on a short-lived printer thread (a job takes seconds and must block neither the
touch screen nor data loads); the result returns with ``Clock.schedule_once``.

Config ``printer``: ``profile`` (kiosk.devices.printer profiles), ``device``: ``""`` = the
attached printer discovered per job (``vid_pid`` to choose), ``"sim"`` = the simulated
printer, which saves each printed receipt as PNG under ``KIOSK_HOME/receipts/`` (the demo
shows what was printed), or a transport spec (``usb:VID:PID``, ``lp:/dev/usb/lp0``, ``tcp:HOST``).
"""
from __future__ import annotations

import datetime as _dt
import logging
import os
import threading
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.screens.widgets import KButton

log = logging.getLogger("kiosk.printing")


class PrinterService:
    """Prints receipts with the configured printer; thread-safe (one job at a time)."""

    def __init__(self, home: Path, cfg: dict):
        pc = cfg.get("printer") or {}
        self.home = Path(home)
        self.profile = pc.get("profile") or "pos58"
        self.device = pc.get("device") or ""
        self.vid_pid = pc.get("vid_pid") or ""
        self.sim = None
        if self.device == "sim":
            from kiosk.devices.printer import SimulatedPrinter

            self.sim = SimulatedPrinter(self.profile)
        self._lock = threading.Lock()
        self.last_png: Path | None = None
        self.last_lines: list[str] = []

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

    def print(self, receipt=None, previous=None):
        """Print ``receipt`` (or the job of a failed ``previous`` result again). Slow: worker thread.

        Returns: a ``PrintResult`` (never raises a printer error).
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


def service(app) -> PrinterService:
    """The app's printer service (made on first use)."""
    svc = getattr(app, "printer", None)
    if svc is None:
        svc = app.printer = PrinterService(app.home, app.cfg)
    return svc


class PrintDialog(ModalView):
    """打印 result: ``state`` printing | ok | failed; 重试 shown when the failure is retryable."""

    state = StringProperty("printing")
    message = StringProperty("正在打印，请稍候…")
    can_retry = BooleanProperty(False)

    def __init__(self, **kw):
        kw.setdefault("auto_dismiss", False)
        super().__init__(**kw)
        self.result = None

    def show_result(self, res) -> None:
        self.result = res
        self.state = "ok" if res.ok else "failed"
        self.can_retry = (not res.ok) and res.retryable
        self.message = res.message_zh
        App.get_running_app().printing_pending = False

    def show_error(self, text: str) -> None:
        self.state, self.message, self.can_retry = "failed", text, False
        App.get_running_app().printing_pending = False

    def retry(self) -> None:
        if self.result is None:
            return
        prev = self.result
        self.state, self.message, self.can_retry = "printing", "正在重新打印，请稍候…", False
        _run(self, lambda svc: svc.print(previous=prev))


def _run(dlg: PrintDialog, job) -> None:
    app = App.get_running_app()
    app.printing_pending = True
    svc = service(app)

    def work():
        try:
            res = job(svc)
        except Exception as exc:  # noqa: BLE001 - e.g. UnprintableText: shown, never kills the UI
            log.error("print job failed: %s", type(exc).__name__)
            msg = getattr(exc, "message_zh", None) or "无法打印这条记录，请联系技术人员"
            Clock.schedule_once(lambda dt: dlg.show_error(msg), 0)
            return
        Clock.schedule_once(lambda dt: dlg.show_result(res), 0)

    threading.Thread(target=work, name="kiosk-print", daemon=True).start()


def print_record(build) -> PrintDialog:
    """Open the dialog and print the receipt ``build(mirror) -> Receipt | None`` makes (run on
    the data worker; None = nothing to print). Returns the dialog."""
    app = App.get_running_app()
    dlg = PrintDialog()
    dlg.open()
    app.print_dialog = dlg
    app.printing_pending = True

    def built(receipt):
        if receipt is None:
            dlg.show_error("没有可打印的记录")
            return
        _run(dlg, lambda svc: svc.print(receipt))

    def safe_build(m):
        try:
            return build(m)
        except ValueError:  # nothing to print (e.g. no payments)
            return None

    app.submit(safe_build, built)
    return dlg


class PrintButton(KButton):
    """打印 (for staff). ``build(mirror) -> Receipt`` is set by the screen."""

    def __init__(self, **kw):
        kw.setdefault("text", "打印")
        kw.setdefault("primary", False)
        super().__init__(**kw)
        self.build = None

    def on_release(self):
        if self.build is not None:
            print_record(self.build)


Builder.load_file(os.path.join(os.path.dirname(__file__), "printing.kv"))
