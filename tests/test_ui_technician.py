"""技术员维护's menu in the running app (simulated printer and reader): a wrong PIN says how
many tries are left; the menu's buttons; 设备状态, 打印测试页, 读卡测试 (masked lines only,
timeout), 软件版本, 密码与密钥记录, 重新启动; the public footer's lasting notice about
unconfirmed PIN-based changes; the menu at 1024×600 and 1366×768 with 1.5× text."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from conftest import UI_PIN
from recorder import Recorder
from uikit import plain, shown, small_targets, tap, until, walk

from kiosk.screens.headless import pump
from kiosk.services import events as ev

pytestmark = pytest.mark.ui

MENU = ["立即同步", "员工查找（键盘输入）", "从U盘导入", "设备状态", "打印测试页", "读卡测试", "软件版本",
        "密码与密钥记录", "重新启动", "退出维护"]


def shot(tmp_path, name) -> Path:
    from kivy.core.window import Window

    out = tmp_path / f"{name}.png"
    shutil.move(Window.screenshot(name=str(tmp_path / "s.png")), out)
    if os.environ.get("KIOSK_SHOTS"):
        Path(os.environ["KIOSK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(os.environ["KIOSK_SHOTS"]) / out.name)
    return out


def export(widget, tmp_path, name) -> None:
    """``widget`` drawn to a PNG (a window resized headless screenshots sheared)."""
    out = tmp_path / f"{name}.png"
    widget.export_to_png(str(out))
    if os.environ.get("KIOSK_SHOTS"):
        Path(os.environ["KIOSK_SHOTS"]).mkdir(parents=True, exist_ok=True)
        shutil.copy(out, Path(os.environ["KIOSK_SHOTS"]) / out.name)


def press_pin(app, pad, digits: str):
    keys = {w.text: w for w in pad.ids["keys"].children}
    for d in digits:
        tap(app, keys[d])
    tap(app, pad.ids["ok"])


@pytest.fixture()
def tech(ui):
    """The technician menu, unlocked with the PIN on the pad, and the app's events."""
    rec = Recorder(ui.bus)
    until(ui, lambda: ui.services.background_started)
    ui.go("technician")
    pump(ui)
    scr = ui.sm.get_screen("technician")
    press_pin(ui, scr.ids.pad, UI_PIN)
    until(ui, lambda: scr.state == "menu")
    yield ui, scr, rec
    scr.close_tool()
    rec.close()


def open_tool(app, scr, name):
    button = scr.ids[f"tool_{name}"]
    scr.ids.scroll.scroll_to(button, animate=False)
    pump(app)
    tap(app, button)
    assert scr.state == "tool" and scr.tool == name
    return scr.ids.tool_text


def test_wrong_pin_shows_the_tries_left_on_the_pad(ui, tmp_path):
    from kiosk.cache import pin

    ui.go("technician")
    pump(ui)
    scr = ui.sm.get_screen("technician")
    pad = scr.ids.pad
    press_pin(ui, pad, "135790")
    until(ui, lambda: not pad.busy)
    label = pad.ids.message
    pump(ui)
    want = f"密码错误，还可尝试{pin.MAX_TRIES - 1}次"
    assert label.text == want and shown(label) and scr.state == "pin"
    assert label.texture_size[0] <= label.width and label.texture_size[1] <= label.height  # one whole line
    shot(tmp_path, "technician-wrong-pin")
    press_pin(ui, pad, UI_PIN)  # the right PIN clears the count
    until(ui, lambda: scr.state == "menu")
    assert pin.tries_left("technician", ui.home) == pin.MAX_TRIES


def test_menu_buttons(tech, tmp_path):
    from kivy.core.window import Window

    app, scr, _ = tech
    buttons = [scr.ids[i] for i in ("sync_now", "staff_search", "stick_import", "tool_devices", "tool_print", "tool_card",
                                    "tool_version", "tool_trust", "tool_restart", "done")]
    assert [b.text for b in buttons] == MENU
    assert [b.text for b in reversed(scr.ids.tools.children)] == MENU  # in the grid, in this order
    assert scr.ids.tools.cols == 3  # 1920×1080: three columns, every button on screen at once
    for b in buttons:
        x, y = b.to_window(b.x, b.y)
        assert y >= 0 and y + b.height <= Window.height
    assert not small_targets(app, scr)
    shot(tmp_path, "technician-menu")
    tap(app, scr.ids.done)
    assert app.sm.current == "home"


def test_device_status(tech, tmp_path):
    app, scr, rec = tech
    text = open_tool(app, scr, "devices")
    assert scr.tool_title == "设备状态"
    until(app, lambda: not scr.tool_busy)
    assert plain(text.text).split("\n") == ["小票打印机：已连接（模拟打印机，演示用），正常",
                                            "身份证读卡器：已连接（模拟读卡器，演示用），工作正常"]
    assert len(rec.of(ev.PrinterChecked)) == 1 and len(rec.of(ev.ReaderChecked)) == 1
    shot(tmp_path, "technician-devices")
    sim, printer = app.services.card.simulator, app.services.printer.sim
    sim.unplug()
    printer.paper_out = True
    try:
        until(app, lambda: app.services.card.available is False)
        assert scr.ids.tool_act.text == "重新检查"
        tap(app, scr.ids.tool_act)
        until(app, lambda: not scr.tool_busy)
        # (the simulated printer with paper out answers as the real one: offline, paper end)
        assert plain(text.text).split("\n") == ["小票打印机：已连接（模拟打印机，演示用），离线、纸将用完、缺纸",
                                                "身份证读卡器：模拟读卡器已拔出（演示）"]
        assert [rec.last(ev.PrinterChecked).state, rec.last(ev.ReaderChecked).state] == ["error", "missing"]
    finally:
        printer.paper_out = False
        sim.plug()
    tap(app, scr.ids.tool_back)
    assert scr.state == "menu" and scr.tool_text == ""


def test_print_test_page(tech, tmp_path):
    app, scr, _ = tech
    svc = app.services.printer
    text = open_tool(app, scr, "print")
    assert scr.tool_title == "打印测试页"
    until(app, lambda: not scr.tool_busy)
    assert plain(text.text) == "打印完成，请取走测试小票，看字迹和二维码是否清楚。"
    # kiosk print-test's receipt, line for line (but the time it was printed)
    from kiosk.devices import printer as P
    from kiosk.devices.printer.testpage import sample_receipt

    sim = P.SimulatedPrinter(svc.profile)
    assert P.print_receipt(sample_receipt(), svc.profile, sim).ok
    want = sim.text_lines()
    assert svc.last_lines[:3] == ["打印测试", "财务公开", "石坝村（测试）"]
    assert svc.last_lines[:-1] == want[:-1] and svc.last_lines[-1].startswith("打印时间")
    svc.sim.paper_out = True
    try:
        tap(app, scr.ids.tool_act)  # 再打印一次
        assert scr.ids.tool_act.text == "再打印一次"
        until(app, lambda: not scr.tool_busy)
        assert plain(text.text) == "打印失败：打印纸已用完，请更换纸卷后重试"
    finally:
        svc.sim.paper_out = False
    shot(tmp_path, "technician-print-failed")


def test_card_test_shows_only_masked_lines_and_opens_nothing(tech, tmp_path):
    from kiosk.demo_data import demo_persons
    from kiosk.formatting import mask_name

    app, scr, rec = tech
    text = open_tool(app, scr, "card")
    assert plain(text.text) == "请放置身份证（平放在读卡器上；已放着的请拿起再放）"
    assert scr.card_demo and shown(scr.ids.demo_place)
    tap(app, scr.ids.demo_place)
    until(app, lambda: plain(text.text).startswith("读卡成功"))
    card = rec.of(ev.CardPresented)[-1].card
    p = demo_persons("431382111249", seed=1)[0]
    assert card.id_number == p.id_number
    lines = plain(text.text).split("\n")
    assert lines == ["读卡成功：", f"姓名：{mask_name(card.name)}", f"性别：{card.sex}", f"民族：{card.nation}",
                     f"出生：{card.birth.year}", f"住址：{card.masked_dict()['address']}",
                     f"公民身份号码：{card.id_number[:4]}{'*' * 14}", f"签发机关：{card.issuer}",
                     f"有效期限：{card.validity_text}"]
    shown_text = plain(text.text)
    assert card.name not in shown_text and card.id_number[-4:] not in shown_text
    assert card.birth.isoformat() not in shown_text
    assert app.sm.current == "technician"  # not 我的查询
    shot(tmp_path, "technician-card")
    tap(app, scr.ids.demo_remove)
    until(app, lambda: scr.tool_text == "身份证已取走。")
    tap(app, scr.ids.tool_back)
    assert scr.tool_text == "" and app.sm.current == "technician"


def test_card_test_times_out(tech, monkeypatch):
    app, scr, _ = tech
    monkeypatch.setitem(app.timeouts, "card_test", 0.3)
    text = open_tool(app, scr, "card")
    until(app, lambda: not scr.tool_busy)
    assert plain(text.text) == "0.3秒内没有读到身份证。请把身份证平放在读卡区再试；仍读不到时请看“设备状态”。"
    assert scr.ids.tool_act.text == "再读一次" and not scr.ids.tool_act.disabled


def test_software_version(tech, monkeypatch):
    from kiosk.version import installed_version

    app, scr, _ = tech

    def broken():
        raise OSError("no /opt/cunwu-kiosk")

    monkeypatch.setattr(app.services.appupdate, "status", broken)
    text = open_tool(app, scr, "version")
    assert plain(text.text) == f"正在运行的版本：{installed_version()}"
    tap(app, scr.ids.tool_back)
    monkeypatch.setattr(app.services.appupdate, "status", lambda: {
        "current": "0.3.0", "previous": "0.2.0", "trial": None, "failed": ["0.2.5"],
        "result": {"at": "2026-11-30T08:00:00+00:00", "message_zh": "新版本运行正常，已保留"}})
    text = open_tool(app, scr, "version")
    lines = plain(text.text).split("\n")
    assert lines[:4] == [f"正在运行的版本：{installed_version()}", "已安装的当前版本：0.3.0",
                         "上一版本（出问题时退回到它）：0.2.0", "启动失败、已退回的版本：0.2.5（不会再安装）"]
    assert lines[4].startswith("最近一次软件更新：2026-11-30 ") and lines[4].endswith("新版本运行正常，已保留")


def notice_box(scr):
    from kiosk.screens.widgets import FrameNotice

    (box,) = [w for w in walk(scr) if isinstance(w, FrameNotice)]
    return box


@pytest.fixture()
def trust_events(ui_home):
    """Two unconfirmed PIN-based changes recorded in the shared home (restored after)."""
    from kiosk.cache import highwater

    saved = {p: p.read_bytes() for p in highwater.paths(ui_home) if p.exists()}
    highwater.record_event(ui_home, "pin_reset", "technician")
    highwater.record_event(ui_home, "key_added", "1a2b3c4d5e6f7081")
    yield ui_home
    for p in highwater.paths(ui_home):
        if p in saved:
            p.write_bytes(saved[p])
        elif p.exists():
            p.unlink()


def test_trust_log_and_public_footer_notice(ui, trust_events, tmp_path):
    from kiosk.cache import highwater, trustlog

    app = ui
    notice = trustlog.public_notice(trust_events)
    assert notice and notice.endswith("技术人员密码被重设、受信任密钥被更改，尚未经县平台签名确认")
    app.bus.publish(ev.IntegrityChecked(None))  # the daily check's event reads it again
    until(app, lambda: app.trust_notice == notice)
    for name in ("home", "finance"):
        app.go(name)
        pump(app)
        box = notice_box(app.sm.get_screen(name))
        assert plain(box.text).replace("\n", "") == notice and shown(box)
        assert box.texture_size[0] <= box.width
    shot(tmp_path, "footer-notice")
    # the technician menu lists both, newest first, unconfirmed
    app.go("technician", unlocked=True)
    pump(app)
    scr = app.sm.get_screen("technician")
    text = open_tool(app, scr, "trust")
    lines = scr.tool_text.split("\n")
    assert plain(text.text).replace("\n", "") == scr.tool_text.replace("\n", "")  # (broken into lines to fit)
    assert lines[1:] == [e.line_zh for e in trustlog.events(trust_events)]
    assert sorted(x[17:] for x in lines[1:]) == ["技术人员密码被重设（尚未经县平台签名确认）",
                                                 "经技术人员密码新增受信任密钥 1a2b3c4d5e6f7081（尚未经县平台签名确认）"]
    shot(tmp_path, "technician-trust")
    scr.close_tool()
    # a county-signed key list confirms them: the notice goes at the next check
    highwater.confirm_events(trust_events, 7)
    app.bus.publish(ev.IntegrityChecked(None))
    until(app, lambda: app.trust_notice == "")
    app.go_home()
    pump(app)
    box = notice_box(app.sm.get_screen("home"))
    assert box.height == 0 and not shown(box)


def test_restart_confirms_then_stops(tech, monkeypatch):
    from kiosk.screens import technician as T
    from kiosk.services import systemd

    app, scr, _ = tech
    calls = []
    monkeypatch.setattr(systemd, "stopping", lambda: calls.append("STOPPING=1") or False)
    monkeypatch.setattr(app, "stop", lambda *a: calls.append("stop"))
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    text = open_tool(app, scr, "restart")
    assert plain(text.text).split("\n") == [T.RESTART_ASK, T.RESTART_BY_HAND]
    assert [scr.ids.tool_act.text, scr.ids.tool_back.text] == ["确认重新启动", "取消"]
    tap(app, scr.ids.tool_back)  # 取消: nothing happens
    assert calls == [] and scr.state == "menu"
    monkeypatch.setenv("NOTIFY_SOCKET", "/nonexistent/notify")  # under systemd: it comes back by itself
    text = open_tool(app, scr, "restart")
    assert plain(text.text) == T.RESTART_ASK
    tap(app, scr.ids.tool_act)
    assert calls == ["STOPPING=1", "stop"]


@pytest.fixture()
def panel_reset(ui):
    yield ui
    from kivy.core.window import Window

    from conftest import UI_SIZE

    Window.size = UI_SIZE
    ui.set_display(1.0, False, ui.cfg["panel"])
    ui.go_home()
    pump(ui, 3)


@pytest.mark.parametrize("size", [(1024, 600), (1366, 768)], ids=["1024x600", "1366x768"])
def test_menu_and_tools_fit_small_panels_at_1_5(panel_reset, size, tmp_path):
    """特大字 (1.5×) on a 1024×600 and a 1366×768 panel: the menu and every tool's view have
    nothing cut, clipped or overlapping (tests/layoutcheck.py); each menu button, scrolled
    to, is whole on screen."""
    from kivy.core.window import Window
    from layoutcheck import problems

    from kiosk.tools.screenshots import panel_for, show

    app = panel_reset
    Window.size = size
    app.set_display(1.5, False, panel_for(size, app.cfg["panel"]))
    pump(app, 3)
    found = []
    for view in ("technician_menu", "technician_devices", "technician_card", "technician_trust",
                 "technician_restart"):
        show(app, view)
        pump(app, 3)
        scr = app.sm.current_screen
        found += [f"{view}: {p}" for p in problems(scr, app.theme)]
        export(scr, tmp_path, f"{view}-{size[0]}x{size[1]}-large")
        if view == "technician_menu":
            scroll = scr.ids.scroll
            sx, sy = scroll.to_window(scroll.x, scroll.y)
            for b in scr.ids.tools.children:
                assert b.texture_size[0] <= b.width and b.texture_size[1] <= b.height, b.text
                scroll.scroll_to(b, padding=0, animate=False)
                pump(app, 2)
                x, y = b.to_window(b.x, b.y)
                assert y >= sy - 1 and y + b.height <= sy + scroll.height + 1, b.text
    app.sm.get_screen("technician").close_tool()
    assert not found, "\n".join(found)
