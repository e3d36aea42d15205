"""Staff printing from any screen: the 打印 button and the result dialog (success, or the
staff message with 重试 when the fault can be fixed).

The App does the work (:meth:`kiosk.app.KioskApp.print_record`): the receipt is built on the
data worker (it may read the mirror, e.g. a month's lines), printed by the printer service
(kiosk.services.printer) on its own thread, and the result comes back as a
``PrintDone``/``PrintFailed`` event that the App hands to this dialog.
"""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.screens.widgets import KButton


class PrintDialog(ModalView):
    """打印 result: ``state`` printing | ok | failed; 重试 shown when the failure is retryable.
    ``job``: the printer service's job number (None until the receipt is built)."""

    state = StringProperty("printing")
    message = StringProperty("正在打印，请稍候…")
    can_retry = BooleanProperty(False)

    def __init__(self, **kw):
        kw.setdefault("auto_dismiss", False)
        super().__init__(**kw)
        self.job = None

    def show_result(self, e) -> None:
        """A ``PrintDone`` or ``PrintFailed`` event for this dialog's job."""
        failed = hasattr(e, "retryable")
        self.state = "failed" if failed else "ok"
        self.can_retry = failed and e.retryable
        self.message = e.message_zh

    def show_error(self, text: str) -> None:
        self.state, self.message, self.can_retry = "failed", text, False

    def retry(self) -> None:
        if self.state != "failed" or not self.can_retry:
            return
        self.state, self.message, self.can_retry = "printing", "正在重新打印，请稍候…", False
        if not App.get_running_app().retry_print(self):
            self.show_error("无法重新打印，请联系技术人员")


class PrintButton(KButton):
    """打印 (for staff). ``build(mirror, link) -> Receipt`` is set by the screen (see
    :meth:`kiosk.app.KioskApp.print_record`)."""

    def __init__(self, **kw):
        kw.setdefault("text", "打印")
        kw.setdefault("primary", False)
        super().__init__(**kw)
        self.build = None

    def on_release(self):
        if self.build is not None:
            App.get_running_app().print_record(self.build)


Builder.load_file(os.path.join(os.path.dirname(__file__), "printing.kv"))
