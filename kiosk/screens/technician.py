"""技术员维护: the technician PIN pad, then what the kiosk holds, when the last sync ran and
what it did, and 立即同步. A sync runs on the update service's thread
(kiosk.services.updates); the App hands this screen its events.

:class:`PinPad` is shared with the stick import screen (kiosk/screens/update.py): big digit
buttons only, no keyboard; the PIN service checks the PIN off the UI thread (scrypt takes
tens of milliseconds) and says how many tries are left.
"""
from __future__ import annotations

import datetime as dt
import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.switched import SwitchedViews
from kiosk.screens.widgets import KioskScreen
from kiosk.services import events as ev
from kiosk.services.pin import NO_PIN_ZH as NO_PIN

PIN_MIN, PIN_MAX = 6, 12


class PinPad(BoxLayout):
    """Digit buttons 1–9, 清除, 0, 确定 and a row of dots. Dispatches ``on_pin(entered)``
    once 确定 is pressed with 6–12 digits; the owner then calls :meth:`verify` or its own
    check."""

    entered = StringProperty("")
    prompt = StringProperty("请输入技术员密码")
    message = StringProperty("")
    busy = BooleanProperty(False)

    def __init__(self, **kw):
        self.register_event_type("on_pin")
        super().__init__(**kw)

    def dots(self, entered: str) -> str:
        return "\u00a0".join("●" * len(entered)) if entered else "—"

    def press(self, digit: str) -> None:
        if not self.busy and len(self.entered) < PIN_MAX:
            self.entered += digit
            self.message = ""

    def clear(self) -> None:
        self.entered = ""
        self.message = ""

    def submit(self) -> None:
        if self.busy:
            return
        if len(self.entered) < PIN_MIN:
            self.message = f"密码为{PIN_MIN}到{PIN_MAX}位数字"
            return
        self.dispatch("on_pin", self.entered)

    def on_pin(self, entered: str) -> None:
        pass

    def verify(self, on_ok) -> None:
        """Check the entered PIN (the PIN service); ``on_ok()`` when right, else show why."""
        self.busy = True
        self.message = "正在核对…"
        entered, self.entered = self.entered, ""
        self._on_ok = on_ok
        App.get_running_app().check_pin(self, entered)

    def checked(self, e: ev.PinChecked) -> None:
        """The PIN service's answer (handed over by the App)."""
        self.busy = False
        self.message = e.message_zh
        if e.ok:
            self._on_ok()


def _fmt_time(iso: str | None) -> str:
    if not iso:
        return ""
    try:
        t = dt.datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    return t.strftime("%Y-%m-%d %H:%M")


def sync_lines(rec: dict | None, base_url: str, every_hours: float, syncing: bool, due_ts: float | None) -> list[str]:
    """The technician menu's sync lines (plain text)."""
    out = [f"更新服务器：{base_url}" if base_url else "更新服务器：未设置（只能用U盘更新）"]
    if syncing:
        out.append("正在同步…")
    if rec:
        out.append(f"上次同步：{_fmt_time(rec.get('at'))}　{'成功' if rec.get('ok') else '失败'}")
        out.append(rec.get("message_zh", ""))
    else:
        out.append("上次同步：尚未同步")
    if base_url and due_ts is not None and not syncing:
        when = dt.datetime.fromtimestamp(due_ts).strftime("%Y-%m-%d %H:%M") if due_ts > 0 else "现在"
        out.append(f"下次自动同步：{when}（每 {every_hours:g} 小时）")
    return out


def technician_pin_set() -> bool:
    """Whether a technician PIN exists, for the screens that ask for it (技术员维护, U盘导入).
    One small JSON read; a damaged file counts as set, so the pad's check reports it."""
    return App.get_running_app().services.pin.is_set("technician")


class TechnicianScreen(SwitchedViews, KioskScreen):
    """States: ``pin`` (PIN pad) → ``menu``; ``nopin`` (no technician PIN set: say how to set
    one instead of a pad that can never succeed)."""

    state = StringProperty("pin")
    data_line = StringProperty("")
    sync_text = StringProperty("")
    progress_text = StringProperty("")
    can_sync = BooleanProperty(False)
    nopin_message = StringProperty(NO_PIN)


    def on_kv_post(self, base_widget):
        self.init_views({"pin": self.ids.pad, "menu": self.ids.menu, "nopin": self.ids.nopin})

    def open(self, **params) -> None:
        if params.get("unlocked"):
            self.state = "menu"
        else:
            self.state = "pin" if technician_pin_set() else "nopin"
        self.ids.pad.clear()
        self.progress_text = ""
        self.refresh()

    def unlocked(self) -> None:
        self.state = "menu"
        self.refresh()

    def refresh(self) -> None:
        app = App.get_running_app()
        info = getattr(app, "info", None)
        if info:
            self.data_line = (f"本机数据：{info.village_name}　第{info.seq}版　数据更新至 {info.data_as_of}"
                              f"　指纹 {info.fingerprint}")
        else:
            self.data_line = "本机数据：尚无数据"
        svc = app.services.updates
        if not svc.started:
            self.sync_text = "更新服务未启动"
            self.can_sync = False
            return
        from kiosk.services.updates import next_due

        every = svc.every_hours()
        rec = svc.last_sync()
        self.sync_text = "\n".join(sync_lines(rec, svc.base_url(), every, svc.syncing, next_due(rec, every)))
        self.can_sync = bool(svc.base_url()) and not svc.syncing

    def sync_now(self) -> None:
        if App.get_running_app().services.updates.sync_now() is not None:
            self.can_sync = False
            self.progress_text = "正在同步…"

    def on_sync_event(self, e: ev.ImportEvent) -> None:
        """The update service's sync events (handed over by the App)."""
        if isinstance(e, ev.ImportProgress):
            label = {"download": "正在下载", "copy": "正在复制", "verify": "正在校验"}.get(e.phase, "")
            self.progress_text = f"{label}　{e.text}"
        elif isinstance(e, ev.SyncDone):
            self.progress_text = ""
            self.refresh()


Builder.load_file(os.path.join(os.path.dirname(__file__), "technician.kv"))
