"""U盘导入数据: what the stick offers, the technician PIN, a progress bar with %, MB/s and
time left, then the result (old → new version, data-as-of dates, counts per kind) and
"可以拔出U盘" once the stick is unmounted. Errors: one clear Chinese line, nothing changed.

The update service (kiosk.services.updates) does the work on its own threads; the App
opens this screen when a stick is found and hands it the import events.
"""
from __future__ import annotations

import logging
import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.services import events as ev
from kiosk.screens.technician import NO_PIN, PinPad, technician_pin_set  # noqa: F401  (PinPad: kv rule in update.kv)
from kiosk.screens.switched import SwitchedViews
from kiosk.screens.widgets import AutoLabel, KioskScreen, rich

log = logging.getLogger("kiosk.screens.update")

KIND_NAMES = [("finance", "财务收支"), ("projects", "工程项目"), ("services", "办事结果"),
              ("assets", "资产资源"), ("powers", "权力清单"), ("payments", "到户资金")]


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

    # ---- events from the update service (main thread, handed over by the App) -----------
    def on_import_event(self, e: ev.ImportEvent) -> None:
        if isinstance(e, ev.ImportOffered):
            p = e.plan
            name = rich(p.candidate.manifest.display_name)
            versions = f"本机：{version_text(p.old)}\nU盘：{version_text(p.new)}"
            if technician_pin_set():
                self.set_state("pin", f"U盘上有{name}的新数据，请输入技术员密码", versions)
            else:  # the stick is given back on 返回/首页 (on_leave), like from the pad
                self.set_state("nopin", f"U盘上有{name}的新数据", versions)
        elif isinstance(e, ev.ImportProgress):
            self.percent = e.percent
            self.progress_text = e.text
            self.phase_text = {"copy": "正在复制数据到本机…", "verify": "正在校验数据…",
                               "download": "正在下载…"}.get(e.phase, "")
        elif isinstance(e, ev.ImportDone):
            self._show_done(e.report, e.safe_to_remove)
        elif isinstance(e, ev.ImportRefused):
            self.set_state("error", "未导入", e.message_zh or "导入失败，原数据不变")
            self.safe = e.safe_to_remove
            self.safe_text = "可以拔出U盘" if self.safe else "请稍候再拔出U盘"
        elif isinstance(e, ev.StickRemoved) and self.state in ("pin", "nopin", "preparing"):
            App.get_running_app().go_home()

    def _show_done(self, rep, safe: bool) -> None:
        detail = f"原来：{version_text(rep.old)}\n现在：{version_text(rep.new)}"
        if rep.refused:  # a newer bundle on the stick was damaged: say which version came in instead
            detail += f"\nU盘上较新的数据包有误（{rep.refused[0][1]}），已导入第{rep.new.seq}版"
        self.set_state("done", "导入成功", detail)
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
    @staticmethod
    def _updates():
        return App.get_running_app().services.updates

    def pin_entered(self, pad) -> None:
        pad.verify(self._pin_ok)

    def _pin_ok(self) -> None:
        if self._updates().stick_install() is not None:
            self.set_state("installing", "正在导入，请勿拔出U盘")
            self.percent = 0
            self.progress_text = "0%"
            self.phase_text = "正在复制数据到本机…"
            self.safe_text = "请勿拔出U盘"
            self.safe = False

    def on_leave(self, *args) -> None:
        """Leaving (返回, 首页, idle) before or after an import gives the stick back."""
        if self.state in ("pin", "nopin", "done", "error"):
            self._updates().stick_cancel()

    def cancel(self) -> None:
        """返回 / 首页 while asking for the PIN: give the stick back."""
        if self.state in ("pin", "nopin", "error", "done"):
            self._updates().stick_cancel()
        App.get_running_app().go_home()


Builder.load_file(os.path.join(os.path.dirname(__file__), "update.kv"))
