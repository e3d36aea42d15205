"""U盘导入数据: what the stick offers, the technician PIN, a progress bar with %, MB/s and
time left, then the result (old → new version, data-as-of dates, counts per kind) and
"可以拔出U盘" once the stick is unmounted. Errors: one clear Chinese line, nothing changed.

:func:`attach` wires the update service into the app: a stick watcher, the background
sync timer, event routing to this screen and the technician screen, and the hidden way
into 技术员维护 (five quick taps in the bottom-left corner). All slow work runs on the
service's worker threads; events arrive here through ``Clock.schedule_once``.
"""
from __future__ import annotations

import logging
import os
import time

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.screens.technician import NO_PIN, PinPad, technician_pin_set  # noqa: F401  (PinPad: kv rule in update.kv)
from kiosk.screens.switched import SwitchedViews
from kiosk.screens.widgets import AutoLabel, KioskScreen, rich

log = logging.getLogger("kiosk.screens.update")

KIND_NAMES = [("finance", "财务收支"), ("projects", "工程项目"), ("services", "办事结果"),
              ("assets", "资产资源"), ("powers", "权力清单"), ("payments", "到户资金")]
CORNER_TAPS = 5
CORNER_WINDOW_S = 3.0


def version_text(v) -> str:
    return f"第{v.seq}版　数据更新至 {v.data_as_of}" if v else "无（尚未导入）"


def count_rows(old, new) -> list[tuple[str, str, str]]:
    """(kind, old count, new count) in display order."""
    rows = []
    for key, name in KIND_NAMES:
        if key in (new.counts or {}) or (old and key in (old.counts or {})):
            o = f"{old.counts.get(key, 0):,}" if old else "—"
            rows.append((name, o, f"{new.counts.get(key, 0):,}"))
    return rows


class UpdateScreen(SwitchedViews, KioskScreen):
    """States: ``preparing`` → ``pin`` → ``installing`` → ``done`` | ``error``; ``nopin``
    instead of ``pin`` when no technician PIN is set (say how to set one: a pad there can
    never succeed)."""

    state = StringProperty("preparing")
    headline = StringProperty("")
    detail = StringProperty("")
    percent = NumericProperty(0)
    progress_text = StringProperty("")
    phase_text = StringProperty("")
    safe_text = StringProperty("")
    safe = BooleanProperty(False)
    nopin_message = StringProperty(NO_PIN)


    def on_kv_post(self, base_widget):
        self.init_views({"pin": self.ids.pad, "installing": self.ids.progress_box, "nopin": self.ids.nopin})

    def open(self, **params) -> None:
        if "state" in params:
            self.set_state(params["state"])

    def set_state(self, state: str, headline: str = "", detail: str = "") -> None:
        self.state = state
        self.headline = headline
        self.detail = detail
        self.ids.result.clear_widgets()
        if state == "preparing":
            self.headline = headline or "正在读取U盘，请稍候…"
            self.safe_text = "请勿拔出U盘"
            self.safe = False
        if state == "pin":
            self.ids.pad.clear()

    # ---- events from the update service (main thread) -----------------------------------
    def on_update_event(self, kind: str, **kw) -> None:
        if kind == "plan":
            p = kw["plan"]
            name = rich(p.candidate.manifest.get('village', {}).get('name', p.candidate.scope))
            versions = f"本机：{version_text(p.old)}\nU盘：{version_text(p.new)}"
            if technician_pin_set():
                self.set_state("pin", f"U盘上有{name}的新数据，请输入技术员密码", versions)
            else:  # the stick is given back on 返回/首页 (on_leave), like from the pad
                self.set_state("nopin", f"U盘上有{name}的新数据", versions)
        elif kind == "progress":
            self.percent = kw.get("percent", 0)
            self.progress_text = kw.get("text", "")
            self.phase_text = {"copy": "正在复制数据到本机…", "verify": "正在校验数据…",
                               "download": "正在下载…"}.get(kw.get("phase"), "")
        elif kind == "done":
            self._show_done(kw["report"], kw.get("safe_to_remove", False))
        elif kind == "error":
            self.set_state("error", "未导入", kw.get("message_zh", "导入失败，原数据不变"))
            self.safe = bool(kw.get("safe_to_remove"))
            self.safe_text = "可以拔出U盘" if self.safe else "请稍候再拔出U盘"
        elif kind == "removed" and self.state in ("pin", "nopin", "preparing"):
            App.get_running_app().go_home()

    def _show_done(self, rep, safe: bool) -> None:
        self.set_state("done", "导入成功", f"原来：{version_text(rep.old)}\n现在：{version_text(rep.new)}")
        self.percent = 100
        self.safe = safe
        self.safe_text = "可以拔出U盘" if safe else "请稍候再拔出U盘"
        from kivy.uix.gridlayout import GridLayout

        app = App.get_running_app()
        grid = GridLayout(cols=2, size_hint_y=None, spacing=(app.theme.mm(10), 0))
        grid.bind(minimum_height=grid.setter("height"))
        for name, old, new in count_rows(rep.old, rep.new):
            text = f"{name}：{new} 条" if old == "—" else f"{name}：{old} → {new} 条"
            grid.add_widget(AutoLabel(text=rich(text), halign="left"))
        self.ids.result.add_widget(AutoLabel(text="各类记录数（原来 → 现在）", bold=True, halign="left"))
        self.ids.result.add_widget(grid)

    # ---- buttons -------------------------------------------------------------------------
    def pin_entered(self, pad) -> None:
        pad.verify(self._pin_ok)

    def _pin_ok(self) -> None:
        svc = getattr(App.get_running_app(), "updates", None)
        if svc is not None and svc.stick_install() is not None:
            self.set_state("installing", "正在导入，请勿拔出U盘")
            self.percent = 0
            self.progress_text = "0%"
            self.phase_text = "正在复制数据到本机…"
            self.safe_text = "请勿拔出U盘"
            self.safe = False

    def on_leave(self, *args) -> None:
        """Leaving (返回, 首页, idle) before or after an import gives the stick back."""
        svc = getattr(App.get_running_app(), "updates", None)
        if svc is not None and self.state in ("pin", "nopin", "done", "error"):
            svc.stick_cancel()

    def cancel(self) -> None:
        """返回 / 首页 while asking for the PIN: give the stick back."""
        svc = getattr(App.get_running_app(), "updates", None)
        if svc is not None and self.state in ("pin", "nopin", "error", "done"):
            svc.stick_cancel()
        App.get_running_app().go_home()


# ---------------------------------------------------------------- wiring into the app

def show(app, name: str, **params) -> None:
    """Put up one of our screens also while the kiosk has no data yet (``app.go`` refuses
    then); 返回/首页 lead back as usual."""
    scr = app.sm.get_screen(name)
    scr.open(**params)
    if app.sm.current != name:
        if app.state == "ready":
            app.history.append(app.sm.current)
        app.sm.current = name


def _route(app, kind: str, kw: dict) -> None:
    app.last_activity = app.now()  # an import in progress is activity: no idle return
    names = app.sm.screen_names
    svc = app.updates
    if kind in ("sync_started", "sync_done") or (kind == "progress" and svc.syncing and svc.stick_state != "installing"):
        if "technician" in names:
            app.sm.get_screen("technician").on_sync_event(kind, **kw)
        if kind == "sync_done" and kw.get("result") is not None and getattr(kw["result"], "status", "") == "installed":
            app.check_for_update()
        return
    if "update" not in names:
        return
    if kind in ("plan", "done", "error") and app.sm.current != "update":
        show(app, "update")
    app.sm.get_screen("update").on_update_event(kind, **kw)
    if kind == "done":
        app.check_for_update()  # the new version is switched in when the user returns to 首页


def attach(app, watch: bool = True, background: bool = True):
    """Create ``app.updates`` (UpdateService), start the stick watcher and background sync,
    and route their events. Call from ``App.build`` after the screens are added."""
    from kivy.core.window import Window

    from kiosk.updates import UpdateService

    svc = UpdateService(app.home, app.cfg, post=lambda fn: Clock.schedule_once(lambda _dt: fn(), 0),
                        on_event=lambda kind, **kw: _route(app, kind, kw))
    app.updates = svc

    def stick_in(stick):
        def ui(_dt):
            if "update" in app.sm.screen_names and svc.stick_added(stick.devnode) is not None:
                show(app, "update", state="preparing")
        Clock.schedule_once(ui, 0)

    def stick_out(devnode):
        svc.stick_removed(devnode)

    app._stick_watcher = None
    if watch:
        try:
            from kiosk.devices.usbstick.watcher import StickWatcher

            app._stick_watcher = StickWatcher(stick_in, stick_out).start()
        except Exception:  # noqa: BLE001 - no stick support on this box: sync still works
            log.exception("stick watcher not started")
    if background:
        svc.start_background()
    taps: list[float] = []

    def corner(_win, touch):
        r = app.theme.mm(25)
        if touch.x <= r and touch.y <= r:
            now = time.monotonic()
            taps[:] = [t for t in taps if now - t < CORNER_WINDOW_S] + [now]
            if len(taps) >= CORNER_TAPS and "technician" in app.sm.screen_names:
                taps.clear()
                show(app, "technician")
        return False

    Window.bind(on_touch_down=corner)
    return svc


def detach(app) -> None:
    """Stop the watcher and the background timer (``App.on_stop``)."""
    if getattr(app, "_stick_watcher", None) is not None:
        app._stick_watcher.stop()
    if getattr(app, "updates", None) is not None:
        app.updates.stop()


Builder.load_file(os.path.join(os.path.dirname(__file__), "update.kv"))
