"""Headless UI tests for 从U盘导入 in 技术员维护 and for software updates from a stick: data
first, then 当前版本 → 新版本 and 安装 (the PIN asked once per stick), the copy's progress,
正在切换到新版本, refusals in one line with nothing spooled, and the notice after an
automatic rollback. The root side is a stand-in for systemctl that looks at what was
spooled and writes root's result, as cunwu-kiosk-appupdate.service would (the real root
side: tests/test_appupdate.py; the whole path in the booted test system: tests/deploy).
PNGs of every state go to the test's tmp dir (and to $KIOSK_SHOTS if set)."""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import UI_PIN, build_bundle, tree_digest
# fixtures of the app package tests: keys, signed stub packages 0.2.0 and 0.3.0, a layout running 0.1.0
from test_appupdate import keys_, layout, packages, stub_wheels  # noqa: F401
from test_usbstick_screens import press_pin as _press_pin
from test_usbstick_screens import shot
from uikit import shown, small_targets, tap, until, walk

from stickkit import make_stick, refused_package

from kiosk.cache import apppackage as P
from kiosk.cache.fsutil import atomic_write_json
from kiosk.screens.headless import pump
from kiosk.services.events import AppUpdateProgress

pytestmark = pytest.mark.ui


@pytest.fixture()
def khome(tmp_path, small_bundle, test_key):
    """A kiosk home of its own with bundle 1 of the small village."""
    from kiosk.cache import install, keys

    h = tmp_path / "khome"
    h.mkdir()
    keys.TrustStore(h).trust_first(keys.load_public(test_key / "signing.pub"))
    install.install(small_bundle, h)
    return h


@pytest.fixture(scope="module")
def bundle2(tmp_path_factory, small_src, test_key):
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("b2") / "bundle")


class Sticks:
    """What 从U盘导入 finds attached (folders, used as mounted sticks)."""

    def __init__(self):
        self.attached: list[Path] = []

    def __call__(self):
        return list(self.attached)


@pytest.fixture()
def updates(ui, khome):
    from kiosk.services.updates import UpdateService

    sticks = Sticks()
    svc = UpdateService(ui.bus, khome, ui.cfg, watch_sticks=False, sync_every_s=0, find_sticks=sticks)
    svc.sticks = sticks
    old = ui.services.replace("updates", svc)
    yield svc
    ui.services.replace("updates", old)


class RootSide:
    """``systemctl`` for the kiosk user's app update service: starting the update unit
    notes what was spooled, waits for :attr:`gate` (the test looks at the screen
    meanwhile) and writes root's result (:attr:`outcome`)."""

    def __init__(self, layout, spool: Path):
        self.layout, self.spool = layout, spool
        self.gate = threading.Event()
        self.gate.set()
        self.outcome: dict = {"ok": True}
        self.calls: list = []
        self.spooled: list[str] = []

    def __call__(self, args):
        self.calls.append(args)
        self.spooled = sorted(str(p.relative_to(self.spool)) for p in self.spool.rglob("*") if p.is_file())
        self.gate.wait(60)
        at = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        atomic_write_json(self.layout.state / "result.json", {"at": at, **self.outcome})
        return subprocess.CompletedProcess(args, 0 if self.outcome["ok"] else 1, "", "")


@pytest.fixture()
def appsvc(ui, khome, layout):  # noqa: F811
    from kiosk.services.appupdate import AppUpdateService

    svc = AppUpdateService(ui.bus, khome, layout)
    svc.root = svc._systemctl = RootSide(layout, svc.spool)
    old = ui.services.replace("appupdate", svc)
    yield svc
    svc.root.gate.set()
    ui.services.replace("appupdate", old)


def press_pin(app, pad, digits: str) -> None:
    """Type the PIN as a technician would: the pad's last row scrolled into view first (with
    a headline and both versions above it the pad does not fit an 821-px-high body)."""
    scroll = app.sm.get_screen("update").ids.scroll
    scroll.scroll_to(pad.ids["ok"], padding=0, animate=False)
    pump(app)
    _press_pin(app, pad, digits)


def plug(app, updates, stick: Path) -> None:
    """The stick plugged in and read; its first events handled (so a wait that follows
    never sees the previous test's screen state)."""
    updates.stick_added(root=stick).join(30)
    pump(app)
    assert app.sm.current == "update"


def open_menu(ui):
    ui.go("technician", unlocked=True)
    pump(ui)
    scr = ui.sm.get_screen("technician")
    assert ui.sm.current == "technician" and scr.state == "menu"
    return scr


# ---- 从U盘导入 ------------------------------------------------------------------------------------
def test_import_button_without_a_stick_says_so(ui, updates, tmp_path):
    from kiosk.app import NO_STICK_ZH

    scr = open_menu(ui)
    btn = scr.ids.stick_import
    assert btn.text == "从U盘导入" and btn in list(walk(scr)) and shown(btn)
    assert not small_targets(ui, scr)
    tap(ui, btn)
    assert NO_STICK_ZH == "未找到U盘，请插入U盘后再试"
    assert ui.notice.shown and ui.notice.text == NO_STICK_ZH
    assert ui.sm.current == "technician" and updates.stick_state == "idle"
    shot(ui, tmp_path, "technician-no-stick")
    ui.notice.hide()


def test_import_button_starts_the_stick_flow(ui, updates, appsvc, khome, tmp_path, bundle2):
    """A stick plugged in before the menu was opened: the button finds it; the same flow
    as a stick plugged in (PIN, progress, done), and no software part on a data stick."""
    from kiosk.cache import stickimport as importer

    updates.sticks.attached = [make_stick(tmp_path / "stick", bundle=bundle2)]
    scr = open_menu(ui)
    tap(ui, scr.ids.stick_import)
    upd = ui.sm.get_screen("update")
    until(ui, lambda: ui.sm.current == "update" and upd.state in ("pin", "error"))
    assert upd.state == "pin" and "本机：第1版" in upd.detail and "U盘：第2版" in upd.detail
    assert upd.ids.frame.ids.title.text == "U盘导入数据"
    assert upd.app_note == "" and upd.app_phase == "none"
    press_pin(ui, upd.ids.pad, UI_PIN)
    until(ui, lambda: upd.state in ("done", "error"))
    assert upd.state == "done" and upd.safe and upd.safe_text == "可以拔出U盘"
    assert importer.current_version(khome).seq == 2 and updates.stick_state == "done"
    assert appsvc.root.calls == []
    tap(ui, upd.ids.home_btn)
    assert ui.sm.current == "home"


# ---- data and software on one stick ------------------------------------------------------------
def test_data_then_software_on_one_stick(ui, updates, appsvc, khome, layout, tmp_path, bundle2, packages):  # noqa: F811
    stick = make_stick(tmp_path / "stick", bundle=bundle2, app=packages["0.2.0"])
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state == "pin" and scr.app_phase == "offered")
    # both parts, old → new, before anything is done
    assert "本机：第1版" in scr.detail and "U盘：第2版" in scr.detail
    assert scr.app_note == "软件：当前版本 0.1.0 → 新版本 0.2.0（数据导入后可安装）"
    assert shown(scr.ids.app_note) and scr.ids.app_note.text == scr.app_note
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "update-both-pin")

    press_pin(ui, scr.ids.pad, UI_PIN)
    until(ui, lambda: scr.state in ("app_offer", "error"))
    assert scr.state == "app_offer", scr.detail
    assert scr.headline == "U盘上有新版本的终端软件" and scr.detail == "当前版本 0.1.0 → 新版本 0.2.0"
    assert scr.ids.data_note.text == "数据：已导入，第1版 → 第2版" and shown(scr.ids.data_note)
    assert scr.ids.frame.title == "软件更新" and scr.ids.frame.ids.title.text == "软件更新"
    assert scr.ids.app_install.text == "安装" and shown(scr.ids.app_install)
    assert updates.stick_state == "held" and scr.pin_ok
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "update-app-offer")

    # 安装: no second PIN for this stick; the copy, then the root side (held at the gate)
    appsvc.root.gate.clear()
    tap(ui, scr.ids.app_install)
    until(ui, lambda: scr.state == "app_installing" and scr.phase_text == "第二步：检查并启用新版本")
    assert scr.headline == "正在安装软件更新（0.1.0 → 0.2.0）"
    assert scr.detail == "正在安装新版本，请勿断电，也不要拔出U盘（约需 1～3 分钟）"
    assert scr.progress_text == "已从U盘复制完毕，请稍候…"
    assert scr.percent == 100 and scr.safe_text == "请勿断电，请勿拔出U盘" and not scr.safe
    assert updates.stick_state == "app"
    assert not shown_text(scr, "返回") and not shown_text(scr, "首页")  # no way out mid-install
    shot(ui, tmp_path, "update-app-installing")
    # the copy's progress as the service reports it (its figures: tests/test_appupdate.py)
    scr.on_app_event(AppUpdateProgress("copy", 42, "42% · 18.5 MB/s"))
    pump(ui)
    assert (scr.phase_text, scr.percent, scr.progress_text) == ("第一步：从U盘复制软件更新", 42, "42% · 18.5 MB/s")
    assert scr.ids.bar.value == 42
    shot(ui, tmp_path, "update-app-copying")
    assert appsvc.root.spooled == sorted(["package/" + P.MANIFEST, "package/" + P.SIG]
                                         + [f"package/wheels/{w.name}" for w in (packages["0.2.0"] / "wheels").iterdir()])
    appsvc.root.gate.set()
    until(ui, lambda: scr.state == "app_switching")
    assert scr.headline == "正在切换到新版本，终端将自动重新启动"
    assert scr.detail == "当前版本 0.1.0 → 新版本 0.2.0"
    assert scr.safe and scr.safe_text == "可以拔出U盘" and updates.stick_state == "idle"
    assert appsvc.root.calls == [["start", "cunwu-kiosk-appupdate.service"]] and not appsvc.spool.exists()
    shot(ui, tmp_path, "update-app-switching")
    tap(ui, scr.ids.home_btn)
    assert ui.sm.current == "home"


def shown_text(root, text) -> bool:
    return any(getattr(w, "text", None) == text and shown(w) for w in walk(root))


def test_software_only_stick_asks_the_pin_then_shows_a_refusal(ui, updates, appsvc, layout, tmp_path, packages):  # noqa: F811
    """No data on the stick: the software offer at once (nothing said about data), the PIN
    behind 安装, and the root side's refusal in one line; the software unchanged."""
    stick = make_stick(tmp_path / "stick", app=packages["0.3.0"])
    before = tree_digest(layout.opt)
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state in ("app_offer", "error", "app_refused"))
    assert scr.state == "app_offer" and scr.detail == "当前版本 0.1.0 → 新版本 0.3.0"
    assert scr.data_note == "" and scr.ids.data_note.text == "" and not scr.pin_ok
    tap(ui, scr.ids.app_install)
    assert scr.state == "app_pin" and scr.headline == "安装新版本软件，请输入技术员密码"
    assert scr.ids.pad in list(walk(scr)) and not small_targets(ui, scr)
    shot(ui, tmp_path, "update-app-pin")
    appsvc.root.outcome = {"ok": False, "message_zh": "软件更新包已损坏或被改动，未安装，原软件不变",
                           "message": "tinydep does not match its SHA-256"}
    press_pin(ui, scr.ids.pad, UI_PIN)
    until(ui, lambda: scr.state == "app_refused")
    assert scr.headline == "未安装软件更新" and scr.detail == "软件更新包已损坏或被改动，未安装，原软件不变"
    assert scr.safe and updates.stick_state == "idle"
    assert not appsvc.spool.exists() and tree_digest(layout.opt) == before
    assert not small_targets(ui, scr)
    shot(ui, tmp_path, "update-app-refused")
    tap(ui, scr.ids.home_btn)
    assert ui.sm.current == "home"


@pytest.mark.parametrize("why", ["older", "unknown key", "other machine", "tampered"])
def test_refused_packages_say_one_line_and_spool_nothing(ui, updates, appsvc, keys_, layout, tmp_path, packages, why):  # noqa: F811
    if why == "tampered":
        pkg = tmp_path / "0.2.0"
        shutil.copytree(packages["0.2.0"], pkg)
        m = (pkg / P.MANIFEST).read_bytes().replace(b'"version": "0.2.0"', b'"version": "0.2.1"')
        (pkg / P.MANIFEST).write_bytes(m)
    else:
        pkg = refused_package(tmp_path, keys_, why)
    before = tree_digest(layout.opt)
    stick = make_stick(tmp_path / "stick", app=pkg)
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state in ("app_offer", "error", "app_refused"))
    assert scr.state == "app_refused" and scr.headline == "未安装软件更新"
    want = {"older": "软件更新包的版本（0.0.9）不比本机的（0.1.0）新，无需更新", "unknown key": "签名密钥不受信任",
            "other machine": "电脑制作的", "tampered": "签名无效"}[why]
    assert want in scr.detail and "\n" not in scr.detail
    assert scr.safe and scr.safe_text == "可以拔出U盘" and updates.stick_state == "idle"
    assert not appsvc.spool.exists() and appsvc.root.calls == [] and tree_digest(layout.opt) == before
    if why == "older":
        shot(ui, tmp_path, "update-app-not-newer")
    tap(ui, scr.ids.home_btn)


def test_data_with_a_refused_package_gives_the_stick_back_after_the_data(ui, updates, appsvc, keys_, tmp_path, bundle2):  # noqa: F811
    pkg = tmp_path / "0.0.9"
    P.build(stub_wheels(tmp_path / "w", "0.0.9"), keys_ / "app-test-key" / "signing.key", pkg)
    stick = make_stick(tmp_path / "stick", bundle=bundle2, app=pkg)
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state == "pin" and scr.app_phase == "refused")
    assert scr.app_note == "软件：软件更新包的版本（0.0.9）不比本机的（0.1.0）新，无需更新"
    press_pin(ui, scr.ids.pad, UI_PIN)
    until(ui, lambda: scr.state in ("done", "error"))
    assert scr.state == "done" and "现在：第2版" in scr.detail
    assert shown(scr.ids.app_note) and scr.ids.app_note.text == scr.app_note
    assert scr.safe and scr.safe_text == "可以拔出U盘" and updates.stick_state == "idle"
    shot(ui, tmp_path, "update-done-app-refused")
    tap(ui, scr.ids.home_btn)


def test_stick_pulled_at_the_software_offer_goes_home(ui, updates, appsvc, tmp_path, packages):  # noqa: F811
    stick = make_stick(tmp_path / "stick", app=packages["0.2.0"])
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state == "app_offer")
    updates.stick_removed(None)
    until(ui, lambda: ui.sm.current == "home")
    assert updates.stick_state == "idle" and appsvc.root.calls == []


def test_leaving_the_offer_gives_the_stick_back(ui, updates, appsvc, tmp_path, packages):  # noqa: F811
    stick = make_stick(tmp_path / "stick", app=packages["0.2.0"])
    scr = ui.sm.get_screen("update")
    plug(ui, updates, stick)
    until(ui, lambda: scr.state == "app_offer")
    tap(ui, scr.ids.app_skip)
    assert ui.sm.current == "home" and updates.stick_state == "idle" and updates.stick_root is None
    assert appsvc.root.calls == [] and not appsvc.spool.exists()


# ---- after a rollback ------------------------------------------------------------------------------
def test_rollback_is_shown_once_and_on_the_menu(ui, appsvc, layout, tmp_path):  # noqa: F811
    atomic_write_json(layout.state / "result.json", {
        "at": "2026-11-30T04:00:00Z", "ok": False, "rolled_back": True, "version": "0.2.0",
        "message_zh": "新版本 0.2.0 启动失败，已自动退回原版本 0.1.0"})
    old_notice = ui.app_notice
    try:
        assert appsvc.announce_rollback() is not None
        until(ui, lambda: ui.app_notice != old_notice)
        assert ui.app_notice == "新版本 0.2.0 未能正常启动，已自动恢复到 0.1.0 版"
        assert ui.notice.shown and ui.notice.text == ui.app_notice
        ui.notice.hide()
        scr = open_menu(ui)
        assert scr.ids.app_notice.plain == ui.app_notice and shown(scr.ids.app_notice)
        shot(ui, tmp_path, "technician-rolled-back")
        assert appsvc.announce_rollback() is None  # once
    finally:
        ui.app_notice = old_notice
        ui.go_home()
