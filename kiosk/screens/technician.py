"""技术员维护: the technician PIN pad, then what the kiosk holds, when the last sync ran and
what it did, and the menu's big buttons: 立即同步, 员工查找, 设备状态, 打印测试页, 读卡测试,
软件版本, 密码与密钥记录, 重新启动, 退出维护. Each tool opens a view of its own in this screen
(its lines, its action, 返回菜单). Device work runs on the services' threads (a sync on the
update service, a status check or test print on the printer service, the card test on the
card reader's watcher); the App hands this screen their events.

读卡测试 shows only what ``kiosk read-card`` shows (the name masked, the ID number cut to its
first four digits, the birth year, the address to the township) and keeps nothing: the
lines go when the card is taken away or the test is left; nothing is logged.

:class:`PinPad` is shared with the stick import screen (kiosk/screens/update.py): big digit
buttons only, no keyboard; the PIN service checks the PIN off the UI thread (scrypt takes
tens of milliseconds) and says how many tries are left.
"""
from __future__ import annotations

import datetime as dt
import os

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout

from kiosk.screens.attention import WrapLabel  # noqa: F401 - kv: long lines broken by the Chinese rules
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


#: the menu's tools: name → the title of its button and view
TOOLS = {"devices": "设备状态", "print": "打印测试页", "card": "读卡测试", "version": "软件版本",
         "trust": "密码与密钥记录", "restart": "重新启动"}
CHECKING = "正在检查…"
PRINTING = "正在打印测试页…"
PLACE_CARD = "请放置身份证（平放在读卡器上；已放着的请拿起再放）"
#: 重新启动's question; the second line only when no systemd brings the app back
RESTART_ASK = "确定要重新启动终端程序吗？重新启动约需半分钟，期间屏幕会短暂变黑。"
RESTART_BY_HAND = "注意：本机的终端程序不是由系统服务启动的，退出后不会自动重新打开，需要手动再次启动。"


def version_lines(running: str, status: dict | None) -> list[str]:
    """软件版本's lines: the version running, and on an installed kiosk
    (``AppUpdateService.status()``, kiosk.cache.appinstall.status) the current, previous,
    on-trial and failed versions and the last outcome."""
    out = [f"正在运行的版本：{running}"]
    if not status or not status.get("current"):
        return out
    out.append(f"已安装的当前版本：{status['current']}")
    out.append(f"上一版本（出问题时退回到它）：{status.get('previous') or '无'}")
    if status.get("trial"):
        out.append(f"正在试运行：{status['trial']}（系统正在检查它能否正常启动）")
    if status.get("failed"):
        out.append(f"启动失败、已退回的版本：{'、'.join(status['failed'])}（不会再安装）")
    res = status.get("result") or {}
    if res.get("message_zh"):
        out.append(f"最近一次软件更新：{_fmt_time(res.get('at'))}　{res['message_zh']}")
    return out


def card_lines(card) -> list[str]:
    """读卡测试's lines for ``card`` (an IdCard): what ``kiosk read-card`` prints, with the
    name masked as on public screens (张*丰)."""
    from kiosk.devices.idcard.text import FIELDS_ZH
    from kiosk.formatting import mask_name

    d = card.masked_dict()
    d["validity"] = card.validity_text
    d["name"] = mask_name(d["name"])
    return [f"{zh}：{d[key]}" for key, zh in FIELDS_ZH]


class TechnicianScreen(SwitchedViews, KioskScreen):
    """States: ``pin`` (PIN pad) → ``menu`` → ``tool`` (one of :data:`TOOLS`); ``nopin`` (no
    technician PIN set: say how to set one instead of a pad that can never succeed)."""

    state = StringProperty("pin")
    data_line = StringProperty("")
    sync_text = StringProperty("")
    progress_text = StringProperty("")
    can_sync = BooleanProperty(False)
    nopin_message = StringProperty(NO_PIN)
    #: the tool open (``state == "tool"``), its title, its lines, and its action button ("" none)
    tool = StringProperty("")
    tool_title = StringProperty("")
    tool_text = StringProperty("")
    tool_action = StringProperty("")
    tool_busy = BooleanProperty(False)
    #: 读卡测试 with the simulated reader (demo): buttons that place and take a demo card
    card_demo = BooleanProperty(False)

    def on_kv_post(self, base_widget):
        self.init_views({"pin": self.ids.pad, "menu": self.ids.menu, "nopin": self.ids.nopin,
                         "tool": self.ids.tool_view})
        self._devices: dict[str, str] = {}
        self._print_job = None
        self._card_timeout = None
        self.card_test_waiting = False

    def open(self, **params) -> None:
        self._end_tool()
        if params.get("unlocked"):
            self.state = "menu"
        else:
            self.state = "pin" if technician_pin_set() else "nopin"
        self.ids.pad.clear()
        self.progress_text = ""
        self.refresh()

    def on_leave(self, *args):
        self._end_tool()  # nothing of a card test stays behind the screen
        if self.state == "tool":
            self.state = "menu"

    # ---- the tools ------------------------------------------------------------------------
    @property
    def card_test_active(self) -> bool:
        """读卡测试 is open: a card placed goes to it, not to 我的查询."""
        return self.state == "tool" and self.tool == "card"

    def open_tool(self, name: str) -> None:
        """Open tool ``name`` (a key of :data:`TOOLS`) and start what it does."""
        self._end_tool()
        self.tool, self.tool_title, self.tool_action, self.tool_busy = name, TOOLS[name], "", False
        self.tool_text = ""
        self.state = "tool"
        getattr(self, f"_start_{name}")()

    def tool_act(self) -> None:
        """The tool's action button (重新检查, 再打印一次, 再读一次, 确认重新启动)."""
        if self.tool_busy or not self.tool_action:
            return
        if self.tool == "restart":
            App.get_running_app().restart()
            return
        getattr(self, f"_start_{self.tool}")()

    def close_tool(self) -> None:
        """返回菜单."""
        self._end_tool()
        self.state = "menu"
        self.refresh()

    def _end_tool(self) -> None:
        if getattr(self, "_card_timeout", None) is not None:
            self._card_timeout.cancel()
            self._card_timeout = None
        if getattr(self, "card_test_waiting", False) or self.tool == "card":
            self.card_test_waiting = False
            card = App.get_running_app().services.card
            card.forget()  # a card left lying on the reader does not open 我的查询 later
        self.tool_text = ""  # (a card's masked lines too)
        self.tool = ""
        self.card_demo = False
        self._print_job = None

    # 设备状态
    def _start_devices(self) -> None:
        app = App.get_running_app()
        self._devices = {"printer": CHECKING, "reader": CHECKING}
        self._show_devices()
        self.tool_action, self.tool_busy = "重新检查", True
        app.services.printer.check()
        app.services.card.check()

    def _show_devices(self) -> None:
        self.tool_text = "\n".join([f"小票打印机：{self._devices['printer']}",
                                     f"身份证读卡器：{self._devices['reader']}"])

    def on_device_checked(self, e) -> None:
        """:class:`PrinterChecked` / :class:`ReaderChecked` (handed over by the App)."""
        if self.tool != "devices":
            return
        self._devices["printer" if isinstance(e, ev.PrinterChecked) else "reader"] = e.message_zh
        self._show_devices()
        self.tool_busy = CHECKING in self._devices.values()

    # 打印测试页
    def _start_print(self) -> None:
        self.tool_text, self.tool_action, self.tool_busy = PRINTING, "再打印一次", True
        self._print_job = App.get_running_app().print_test(self)

    def show_result(self, e) -> None:
        """The test print's :class:`PrintDone` / :class:`PrintFailed` (handed over by the App)."""
        if self.tool != "print" or e.job != self._print_job:
            return
        self.tool_busy = False
        if isinstance(e, ev.PrintDone):
            self.tool_text = "打印完成，请取走测试小票，看字迹和二维码是否清楚。"
        else:
            self.tool_text = f"打印失败：{e.message_zh}"

    # 读卡测试
    def _start_card(self) -> None:
        app = App.get_running_app()
        card = app.services.card
        self.card_demo = card.simulator is not None
        lines = [PLACE_CARD]
        if card.available is False:
            lines.append("（读卡器现在没有应答：请看“设备状态”）")
        self.tool_text = "\n".join(lines)
        self.tool_action, self.tool_busy = "再读一次", True
        self.card_test_waiting = True
        wait = float(app.timeouts.get("card_test", 30))
        self._card_timeout = Clock.schedule_once(lambda _dt: self._card_timed_out(wait), wait)

    def _card_timed_out(self, wait: float) -> None:
        self._card_timeout = None
        if self.tool == "card" and self.card_test_waiting:
            self.card_test_waiting, self.tool_busy = False, False
            self.tool_text = (f"{wait:g}秒内没有读到身份证。请把身份证平放在读卡区再试；"
                              "仍读不到时请看“设备状态”。")

    def card_test_result(self, e) -> None:
        """A card read (:class:`CardPresented`) or refused (:class:`CardRefused`) during the
        test (handed over by the App instead of opening 我的查询). Only the masked lines are
        kept, on screen; the card itself is dropped here."""
        if self._card_timeout is not None:
            self._card_timeout.cancel()
            self._card_timeout = None
        self.card_test_waiting, self.tool_busy = False, False
        if isinstance(e, ev.CardPresented):
            self.tool_text = "\n".join(["读卡成功：", *card_lines(e.card)])
        else:
            self.tool_text = f"读卡失败：{e.message_zh}"

    def card_test_removed(self) -> None:
        """The card was taken away: its lines go."""
        if self.tool == "card" and not self.card_test_waiting:
            self.tool_text = "身份证已取走。"

    def demo_card(self, place: bool) -> None:
        """演示 buttons (simulated reader): place the first demo card, or take it away."""
        sim = App.get_running_app().services.card.simulator
        if sim is not None:
            sim.place(0) if place else sim.remove()

    # 软件版本
    def _start_version(self) -> None:
        from kiosk.version import installed_version

        app = App.get_running_app()
        try:
            st = app.services.appupdate.status()
        except Exception:  # noqa: BLE001 - not an installed kiosk (no /opt layout): the version only
            st = None
        self.tool_text = "\n".join(version_lines(installed_version(), st))

    # 密码与密钥记录
    def _start_trust(self) -> None:
        from kiosk.cache import trustlog

        try:
            events = trustlog.events(App.get_running_app().home)
        except Exception as exc:  # noqa: BLE001 - shown, never a crash
            self.tool_text = f"记录无法读取：{type(exc).__name__}"
            return
        head = ("技术人员密码重设、经密码更改受信任密钥或本机所属地区的记录（最新的在前）。"
                "县平台签名的密钥清单确认之前，每个屏幕下方都显示提醒。")
        body = [e.line_zh for e in events] or ["没有记录：密码和密钥从未经技术人员密码更改。"]
        self.tool_text = "\n".join([head, *body])

    # 重新启动
    def _start_restart(self) -> None:
        import os

        lines = [RESTART_ASK]
        if not os.environ.get("NOTIFY_SOCKET"):
            lines.append(RESTART_BY_HAND)
        self.tool_text = "\n".join(lines)
        self.tool_action = "确认重新启动"

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
