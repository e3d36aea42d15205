"""The service side of 技术员维护 › 设备状态 and the public footer's notice: the printer's and
the reader's state in plain Chinese, and the trust notice read off the UI thread."""
from __future__ import annotations

from recorder import Recorder

from kiosk.services import events as ev
from kiosk.services.bus import EventBus


def test_printer_check_sim_missing_and_paper_out(tmp_path, monkeypatch):
    from kiosk.devices.printer import discovery
    from kiosk.services.printer import PrinterService

    sim = PrinterService(EventBus(), tmp_path, {"printer": {"device": "sim"}})
    assert sim.check_now() == ev.PrinterChecked("found", "已连接（模拟打印机，演示用），正常")
    sim.sim.cover_open = True
    e = sim.check_now()
    assert e.state == "error" and "纸仓盖打开" in e.message_zh
    # nothing attached (what kiosk devices finds: nothing)
    monkeypatch.setattr(discovery.UsbTransport, "find_all", staticmethod(lambda vid_pid="": []))
    monkeypatch.setattr(discovery.LpTransport, "find_all", staticmethod(lambda: []))
    real = PrinterService(EventBus(), tmp_path, {"printer": {}})
    assert real.check_now() == ev.PrinterChecked("missing", "未检测到小票打印机（请检查打印机电源和USB连线）")


def test_printer_check_is_published_from_a_worker(tmp_path):
    from kiosk.services.printer import PrinterService

    bus = EventBus()
    rec = Recorder(bus)
    svc = PrinterService(bus, tmp_path, {"printer": {"device": "sim"}})
    svc.check()
    assert rec.wait_for(ev.PrinterChecked).message_zh == "已连接（模拟打印机，演示用），正常"
    svc.stop()


def test_reader_check(monkeypatch):
    from kiosk.devices import idcard
    from kiosk.services.card import CardService

    sim = CardService(EventBus(), {"idcard": {"device": "sim"}})
    assert sim.check_now() == ev.ReaderChecked("found", "已连接（模拟读卡器，演示用），工作正常")
    sim.simulator.unplug()
    assert sim.check_now() == ev.ReaderChecked("missing", "模拟读卡器已拔出（演示）")
    real = CardService(EventBus(), {"idcard": {}})
    monkeypatch.setattr(idcard, "discover", lambda: [])
    assert real.check_now() == ev.ReaderChecked("missing", "未检测到身份证读卡器（请检查USB连线）")
    found = {"kind": "idcard", "name": "ID-card reader (vendor bulk)", "transport": "usb", "path": "/dev/bus/usb/001/004",
             "vid_pid": "0400:c35a", "status": "no-permission", "spec": "usb:0400:c35a"}
    monkeypatch.setattr(idcard, "discover", lambda: [found])
    assert real.check_now().message_zh == "已插入，但本机程序无权使用它（请安装读卡器的 udev 规则）"
    monkeypatch.setattr(idcard, "discover", lambda: [{**found, "status": "found"}])
    real.available = False  # the watcher could not open it
    assert real.check_now() == ev.ReaderChecked(
        "error", "已插入（ID-card reader (vendor bulk)），但没有应答（请重新插拔，或检查读卡器设置）")
    real.available = True
    assert real.check_now() == ev.ReaderChecked("found", "已连接（ID-card reader (vendor bulk)），工作正常")


def test_trust_notice_is_read_off_the_ui_thread(tmp_path):
    from kiosk.cache import highwater, trustlog
    from kiosk.services.integrity import IntegrityService

    bus = EventBus()
    rec = Recorder(bus)
    svc = IntegrityService(bus, tmp_path)
    svc.read_trust_notice()
    assert rec.wait_for(ev.TrustNotice).text == ""
    highwater.record_event(tmp_path, "scope_changed", "431382111249→431382111250")
    svc.read_trust_notice()
    e = rec.wait_for(ev.TrustNotice, count=2)
    assert e.text == trustlog.public_notice(tmp_path) and e.text.endswith("本机所属地区被更改，尚未经县平台签名确认")
    svc.stop()
