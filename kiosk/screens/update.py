"""U盘导入数据: what the stick offers, the technician PIN, a progress bar with %, MB/s and
time left, then the result (old → new version, data-as-of dates, counts per kind) and
"可以拔出U盘" once the stick is unmounted. Errors: one clear Chinese line, nothing changed.

软件更新 from the same stick comes after its data (or alone, on a stick without data):
当前版本 → 新版本 and 安装, behind the technician PIN (asked once per stick: not again when
the data import asked it), the copy's progress, then 正在切换到新版本 (systemd restarts the
app on the new version; kiosk.cache.appinstall checks it and rolls back by itself).

The update service (kiosk.services.updates) and the app update service
(kiosk.services.appupdate) do the work on their own threads; the App opens this screen
when a stick is found and hands it the import and app-update events.
"""
from __future__ import annotations

import logging
import os

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.services import events as ev
from kiosk.services.appupdate import INSTALL_TEXT
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


def data_line(old, new) -> str:
    """``数据：第1版 → 第2版`` (the data part, as the software part beside it)."""
    return f"数据：第{old.seq}版 → 第{new.seq}版" if old else f"数据：第{new.seq}版（本机原无数据）"


def app_line(offer: ev.AppUpdateOffered) -> str:
    return f"软件：当前版本 {offer.current_version} → 新版本 {offer.new_version}"


#: states that belong to the software update (the frame's title says 软件更新; update.kv has a copy)
APP_STATES = ("app_offer", "app_pin", "app_installing", "app_switching", "app_refused")
#: states left with the stick still ours to give back (返回, 首页, idle)
GIVE_BACK = ("pin", "nopin", "done", "error", "app_offer", "app_pin", "app_refused", "app_switching")
COPY_PHASE = "第一步：从U盘复制软件更新"
INSTALL_PHASE = "第二步：检查并启用新版本"
#: seconds between two "still busy" signals to the idle timer while the root side installs
KEEP_AWAKE_S = 5.0


class UpdateScreen(SwitchedViews, KioskScreen):
    """States: ``preparing`` → ``pin`` → ``installing`` → ``done`` | ``error``; ``nopin``
    instead of ``pin`` when no technician PIN is set (say how to set one: a pad there can
    never succeed).

    Software from the same stick, once its data part is over: ``app_offer`` (当前版本 →
    新版本, 安装) → ``app_pin`` (only if the PIN was not asked for this stick yet) →
    ``app_installing`` (copy with progress, then the root side's install) →
    ``app_switching`` | ``app_refused``. While the data part runs, ``app_note`` says what
    the stick's software update is (or why it is refused)."""

    state = StringProperty("preparing")
    headline = StringProperty("")
    detail = StringProperty("")
    percent = NumericProperty(0)
    progress_text = StringProperty("")
    phase_text = StringProperty("")
    safe_text = StringProperty("")
    safe = BooleanProperty(False)
    nopin_message = StringProperty(NO_PIN)
    #: the stick's software update while its data part runs (``软件：当前版本 … → 新版本 …``)
    app_note = StringProperty("")
    #: the data part's outcome, shown with the software offer (``数据：第1版 → 第2版``)
    data_note = StringProperty("")

    def __init__(self, **kw):
        super().__init__(**kw)
        self._reset_stick()

    def _reset_stick(self) -> None:
        """A new stick: nothing known about its software, the PIN not asked yet."""
        self.app_offer: ev.AppUpdateOffered | None = None
        self.app_phase = "none"    # none | looking | offered | refused | installing | over
        self.pin_ok = False        # the technician PIN was accepted for this stick
        self.data_over = False     # the data part is done or refused
        self.app_note = self.data_note = ""

    def on_kv_post(self, base_widget):
        self.init_views({"pin": self.ids.pad, "installing": self.ids.progress_box, "nopin": self.ids.nopin,
                         "app_pin": self.ids.pad, "app_installing": self.ids.progress_box,
                         "app_offer": self.ids.app_box})

    def open(self, **params) -> None:
        if params.get("state") == "preparing":
            self._reset_stick()
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
        if state in ("pin", "app_pin"):
            self.ids.pad.clear()
        Clock.unschedule(self._keep_awake)
        if state == "app_installing":  # the root side's install sends nothing for minutes
            Clock.schedule_interval(self._keep_awake, KEEP_AWAKE_S)

    @staticmethod
    def _keep_awake(_dt=None) -> None:
        App.get_running_app().nav.activity()

    # ---- events from the update service (main thread, handed over by the App) -----------
    def on_import_event(self, e: ev.ImportEvent) -> None:
        if isinstance(e, ev.ImportOffered):
            p = e.plan
            name = rich(p.candidate.manifest.display_name)
            versions = f"本机：{version_text(p.old)}\nU盘：{version_text(p.new)}"
            self.data_note = data_line(p.old, p.new)
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
            self.data_note = "数据：已导入，" + data_line(e.report.old, e.report.new).removeprefix("数据：")
            self._show_done(e.report, e.safe_to_remove)
            self._data_over()
        elif isinstance(e, ev.ImportRefused):
            if e.no_bundle and e.app_root is not None:  # an app-only stick: nothing to say about data
                self.data_note = ""
            else:
                self.data_note = f"数据：{e.message_zh or '导入失败，原数据不变'}"
                self.set_state("error", "未导入", e.message_zh or "导入失败，原数据不变")
                self.safe = e.safe_to_remove
                self.safe_text = "可以拔出U盘" if self.safe else "请稍候再拔出U盘"
            self._data_over()
        elif isinstance(e, ev.StickRemoved) and self.state in ("pin", "nopin", "preparing", "app_offer", "app_pin"):
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

    # ---- software from the stick (events from the app update service, via the App) ------
    def app_looking(self) -> None:
        """The App asked the app update service about this stick's packages."""
        self.app_phase = "looking"

    def on_app_event(self, e: ev.AppUpdateEvent) -> None:
        if self.app_phase == "none" or self.app_phase == "over":
            return  # not this stick's (given back, or another stick since)
        if isinstance(e, ev.AppUpdateOffered) and self.app_phase == "looking":
            self.app_offer, self.app_phase = e, "offered"
            self.app_note = app_line(e) + "（数据导入后可安装）"
            if self.data_over:
                self._show_app_offer()
        elif isinstance(e, ev.AppUpdateRefused) and self.app_phase == "installing":
            self._app_over()
            self.set_state("app_refused", "未安装软件更新", e.message_zh)
            self._say_safe()
        elif isinstance(e, ev.AppUpdateRefused) and self.app_phase == "looking":
            self.app_phase = "refused"
            self.app_note = f"软件：{e.message_zh}"
            if self.data_over:
                self._data_over()
        elif isinstance(e, ev.AppUpdateProgress) and self.state == "app_installing":
            if e.phase == "copy":
                self.phase_text = COPY_PHASE
                self.percent = e.percent
                self.progress_text = e.text
            else:  # the root side builds and checks the new version: no percent to show
                self.percent = 100
                self.phase_text = INSTALL_PHASE
                self.progress_text = "已从U盘复制完毕，请稍候…"
        elif isinstance(e, ev.AppUpdateSwitching) and self.app_phase == "installing":
            self._app_over()
            self.set_state("app_switching", "正在切换到新版本，终端将自动重新启动",
                           f"当前版本 {e.old_version} → 新版本 {e.new_version}")
            self._say_safe()

    def _data_over(self) -> None:
        """The data part of the stick is done or refused: the software part's turn."""
        self.data_over = True
        if self.app_phase == "offered":
            self._show_app_offer()
        elif self.app_phase == "looking":
            if self.state == "preparing":  # an app-only stick: keep reading until the answer
                return
        elif self.app_phase == "refused" and self.state == "preparing":  # app-only, refused
            self.app_phase = "over"
            self.set_state("app_refused", "未安装软件更新", self.app_note.removeprefix("软件："))
            self.safe = self._updates().stick_cancel()
            self._say_safe()
        elif self.app_phase == "refused":
            self.app_phase = "over"
            self.safe = self._updates().stick_cancel() or self.safe
            self._say_safe()

    def _show_app_offer(self) -> None:
        o = self.app_offer
        self.app_note = app_line(o)
        self.set_state("app_offer", "U盘上有新版本的终端软件", f"当前版本 {o.current_version} → 新版本 {o.new_version}")

    def _say_safe(self) -> None:
        self.safe_text = "可以拔出U盘" if self.safe else "请稍候再拔出U盘"

    def install_app(self) -> None:
        """安装: the PIN first unless it was accepted for this stick already."""
        o = self.app_offer
        if o is None:
            return
        if self.pin_ok:
            self._start_app_install()
        elif technician_pin_set():
            self.set_state("app_pin", "安装新版本软件，请输入技术员密码",
                           f"当前版本 {o.current_version} → 新版本 {o.new_version}")
        else:  # as for data: the command to set one (the note would repeat the versions)
            self.app_note = ""
            self.set_state("nopin", "U盘上有新版本的终端软件", f"当前版本 {o.current_version} → 新版本 {o.new_version}")

    def _start_app_install(self) -> None:
        o = self.app_offer
        if self._updates().stick_app_begin() is None:  # pulled, or given back meanwhile
            self._app_over()
            self.set_state("app_refused", "未安装软件更新", "U盘已拔出，未安装，原软件不变。请重新插入U盘再试")
            self.safe = True
            self._say_safe()
            return
        self.app_phase = "installing"
        self.set_state("app_installing", f"正在安装软件更新（{o.current_version} → {o.new_version}）", INSTALL_TEXT)
        self.percent = 0
        self.progress_text = "0%"
        self.phase_text = COPY_PHASE
        self.safe_text = "请勿断电，请勿拔出U盘"
        self.safe = False
        App.get_running_app().services.appupdate.install(o)

    def _app_over(self) -> None:
        """The software update ended (handed to the root side, or refused): the stick back."""
        self.app_phase = "over"
        self.safe = self._updates().stick_app_end()

    # ---- buttons -------------------------------------------------------------------------
    @staticmethod
    def _updates():
        return App.get_running_app().services.updates

    def pin_entered(self, pad) -> None:
        pad.verify(self._pin_ok)

    def _pin_ok(self) -> None:
        self.pin_ok = True
        if self.state == "app_pin":
            self._start_app_install()
            return
        if self._updates().stick_install() is not None:
            self.set_state("installing", "正在导入，请勿拔出U盘")
            self.percent = 0
            self.progress_text = "0%"
            self.phase_text = "正在复制数据到本机…"
            self.safe_text = "请勿拔出U盘"
            self.safe = False

    def on_leave(self, *args) -> None:
        """Leaving (返回, 首页, idle) before or after an import gives the stick back."""
        if self.state in GIVE_BACK:
            self._updates().stick_cancel()
            self.app_phase = "over"  # late answers about this stick's software are not shown

    def cancel(self) -> None:
        """返回 / 首页 while asking for the PIN: give the stick back."""
        if self.state in GIVE_BACK:
            self._updates().stick_cancel()
        App.get_running_app().go_home()


Builder.load_file(os.path.join(os.path.dirname(__file__), "update.kv"))
