"""Render screens of the UI to PNG without a display (``kiosk screenshot``, ``make screenshots``).

``python -m kiosk.tools.screenshots OUTDIR`` renders the main screens (:data:`SCREENSHOT_NAMES`)
into ``OUTDIR/<name>.png``, and the extra sets of :data:`EXTRA_SETS` into sub-folders (the
main screens on a 1366×768 panel, in portrait, at 特大字 and in 高对比), from KIOSK_HOME's
installed data (or ``.demo/home`` from ``make demo`` when KIOSK_HOME is unset).

A view is a screen as a person reaches it (:data:`VIEWS`): detail screens show a
representative record (:func:`pick`; for power_detail an item whose procedure has a 不通过
branch), 我的查询 a demo person's records (``mine_card``), 技术员维护 its PIN pad and its menu,
U盘导入 each of its states.
"""
from __future__ import annotations

import os
import sys
import tempfile
import traceback
from pathlib import Path

#: The main screens (README, docs/screenshots/).
SCREENSHOT_NAMES = [
    "home", "finance", "finance_detail", "projects", "project_detail", "services",
    "service_detail", "assets", "asset_detail", "powers", "power_detail", "mine",
    "complaints", "nodata", "flags", "rules", "flag_detail",
]
#: Every view ``kiosk screenshot`` renders: name → what it shows.
VIEWS = {
    "home": "首页",
    "finance": "财务收支",
    "finance_detail": "财务收支 · one voucher line",
    "projects": "工程项目",
    "project_detail": "工程项目 · the project with the most stages",
    "services": "办事结果",
    "service_detail": "办事结果 · the case with the most steps",
    "assets": "资产资源",
    "asset_detail": "资产资源 · a lease with 底价, 成交价 and rent",
    "powers": "权力清单",
    "power_detail": "权力清单 · an item whose procedure has a 不通过 branch",
    "mine": "我的查询 · place the card",
    "mine_card": "我的查询 · a demo person's 到户资金 and 办事结果",
    "complaints": "监督投诉",
    "flags": "监督提示 · the flags grouped by rule",
    "rules": "本县规则 · the county's rules and what each checks",
    "flag_detail": "本村监督提示 · the village's own flags, as 首页's notice opens them",
    "search": "查找 · the first surname (or word) tapped",
    "villages": "选择村 (a township or county kiosk's picker)",
    "technician": "技术员维护 · PIN pad",
    "technician_menu": "技术员维护 · the menu after the PIN",
    "technician_devices": "技术员维护 · 设备状态 (printer and card reader)",
    "technician_card": "技术员维护 · 读卡测试 with a demo card (masked lines)",
    "technician_trust": "技术员维护 · 密码与密钥记录",
    "technician_restart": "技术员维护 · 重新启动, asking first",
    "update_preparing": "U盘导入 · reading the stick",
    "update_pin": "U盘导入 · new data found, PIN pad",
    "update_installing": "U盘导入 · copying, with progress",
    "update_done": "U盘导入 · imported, counts per kind",
    "update_error": "U盘导入 · refused",
    "update_both": "U盘导入 · data and software on one stick, PIN pad, both versions",
    "update_app_offer": "软件更新 · after the data: 当前版本 → 新版本, 安装",
    "update_app_pin": "软件更新 · PIN pad (a stick without data)",
    "update_app_installing": "软件更新 · copying to the spool, with progress",
    "update_app_switching": "软件更新 · 正在切换到新版本",
    "update_app_refused": "软件更新 · refused, software unchanged",
    "nodata": "尚无数据 (before the first import)",
}
#: Extra sets of the main screens for the README: (sub-folder, --size, text scale, contrast).
EXTRA_SETS = [
    ("1366x768", (1366, 768), 1.0, "default"),
    ("portrait", (1080, 1920), 1.0, "default"),
    ("large", None, 1.5, "default"),
    ("contrast", None, 1.0, "high"),
]
#: main screens shown in the README for each extra set
EXTRA_NAMES = ["home", "finance", "project_detail", "power_detail", "mine_card", "complaints"]
_MAX_SCAN = 200  # records looked at when picking a representative one (never a whole table)


def _pages(page_fn, **kw):
    after, seen = None, 0
    while seen < _MAX_SCAN:
        page = page_fn(after=after, limit=50, **kw)
        yield from page.rows
        seen += len(page.rows)
        if page.next is None:
            return
        after = page.next


#: detail screen → the kind of its records in the flags table
FLAG_KINDS = {"finance_detail": "finance", "project_detail": "projects", "asset_detail": "assets",
              "service_detail": "services"}


def _flagged(m, screen: str) -> str | None:
    """A record of ``screen``'s kind with a 监督提示, one the county explained if there is one."""
    kind = FLAG_KINDS.get(screen)
    if kind is None or not m.has_flags:
        return None
    rows = [r for r in m.flags_page(limit=100).rows if r["kind"] == kind]
    rows.sort(key=lambda r: not r.get("note"))
    return rows[0]["record_id"] if rows else None


def pick(m, screen: str) -> str | None:
    """A representative record id for detail ``screen`` from mirror ``m`` (worker thread): a
    record with a 监督提示 where the data has one (its 请关注 box shows), else one that shows the
    most fields."""
    flagged = _flagged(m, screen)
    if flagged:
        return flagged
    if screen == "finance_detail":
        years = m.finance_years()
        if not years:
            return None
        rows = m.finance_page(years[0], limit=30).rows
        # prefer an expense with the highest approval level: it shows the most fields
        rows.sort(key=lambda r: (r.get("direction") != "expense", r.get("approval_level") != "四议两公开"))
        return rows[0]["id"] if rows else None
    if screen == "project_detail":
        best, score = None, -1
        for r in _pages(m.projects_page):
            p = m.project_get(r["id"])
            stages = {s["stage"] for s in p.get("stages", [])}
            s = len(stages) + (3 if "公示" in stages and len(stages) < 8 else 0)
            if s > score:
                best, score = r["id"], s
        return best
    if screen == "asset_detail":
        first = None
        for r in _pages(m.assets_page):
            first = first or r["id"]
            if r.get("deal_price") and r.get("reserve_price") and r.get("annual_rent"):
                return r["id"]
        return first
    if screen == "service_detail":
        best, score = None, -1
        for r in _pages(m.services_page):
            s = len(r.get("steps") or [])
            if s > score:
                best, score = r["id"], s
        return best
    if screen == "power_detail":
        first = None
        for p in m.powers():
            first = first or p["id"]
            g = m.power_get(p["id"])
            if any("不通过" in (e.get("label") or "") for e in g.get("edges", [])):
                return p["id"]
        return first
    return None


def render(home: Path, jobs: list[tuple[str, str]], size: tuple[int, int] | None = None, opener=None,
           text_scale: float = 1.0, contrast: str = "default", diagonal: float | None = None) -> list[str]:
    """Render each ``(view, out_png)`` of ``jobs``; returns the files written.

    ``size`` is the panel's pixels (default: the configured panel); its physical size is
    ``diagonal`` inches, or the configured panel's when it has those pixels, or the typical
    one of :data:`kiosk.screens.theme.TYPICAL_PANELS`. ``text_scale`` is 1.0, 1.25 (大字) or
    1.5 (特大字); ``contrast`` ``default`` or ``high`` (高对比).

    Raises:
        ValueError: an unknown view, text scale or contrast.
    """
    for name, _ in jobs:
        if name not in VIEWS:
            raise ValueError(f"unknown screen {name!r}")
    from kiosk import config as _config
    from kiosk.screens.theme import CONTRASTS, TEXT_SCALES

    if text_scale not in TEXT_SCALES:
        raise ValueError(f"text scale must be one of {', '.join(map(str, TEXT_SCALES))}")
    if contrast not in CONTRASTS:
        raise ValueError(f"contrast must be one of {', '.join(CONTRASTS)}")
    from kiosk.screens.kivyconfig import configure_kivy

    panel = _config.load(home)["panel"]
    size = size or (int(panel["width_px"]), int(panel["height_px"]))
    configure_kivy(windowed=True, size=size)
    from kivy.core.window import Window

    from kiosk.app import KioskApp
    from kiosk.screens.headless import pump, start_headless, stop_headless

    app = KioskApp(home, opener=opener)
    start_headless(app)
    Window.size = size
    app.set_display(text_scale, contrast == "high", panel_for(size, panel, diagonal))
    pump(app)
    written = []
    try:
        for name, out in jobs:
            show(app, name)
            pump(app, frames=3)
            written.append(save_png(out))
    finally:
        stop_headless(app)
    return written


def panel_for(size: tuple[int, int], configured: dict, diagonal: float | None = None) -> dict:
    """The panel of ``size`` pixels (see :func:`render`)."""
    from kiosk.screens.theme import typical_panel

    p = typical_panel(size[0], size[1], configured)
    if diagonal:
        p = {"width_px": size[0], "height_px": size[1], "diagonal_inch": float(diagonal)}
    return p


def save_png(out) -> str:
    """The window as drawn now, to ``out`` (a PNG)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGBA, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    # read RGBA: Kivy's own Window.screenshot reads RGB rows, which came out sheared at any
    # width that is not a multiple of 4 (1366)
    w, h = Window.size
    img = Image.frombytes("RGBA", (w, h), glReadPixels(0, 0, w, h, GL_RGBA, GL_UNSIGNED_BYTE))
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    img.transpose(Image.Transpose.FLIP_TOP_BOTTOM).convert("RGB").save(out, "PNG", optimize=True)
    return str(out)


def show(app, name: str):
    """Put view ``name`` up as a user would reach it (see :data:`VIEWS`); returns the screen
    on display."""
    from kiosk.screens.headless import pump
    from kiosk.services.events import DataShown

    if name == "nodata":  # as before any import: the data service says nothing is shown
        if not hasattr(app, "_shot_saved"):
            app._shot_saved = app.info
        app.bus.publish(DataShown(None))
        pump(app)
        return app.sm.current_screen
    if hasattr(app, "_shot_saved"):  # the next screen shows the real data again
        app.bus.publish(DataShown(app.__dict__.pop("_shot_saved")))
        pump(app)
    if app.state != "ready" and not name.startswith(("technician", "update")):
        return app.sm.current_screen
    if name == "home" or app.sm.current in ("technician", "update"):
        app.go_home()  # (the stick import gives the stick back on the way)
        pump(app)
    if name == "home":
        return app.sm.current_screen
    if name == "flag_detail":  # the village's own flags, as 首页's notice opens them
        app.go("flags")
        pump(app)
        app.go(name, id=app.info.village_code)
        pump(app)
        return app.sm.current_screen
    if name == "rules":  # reached from 监督提示
        app.go("flags")
        pump(app)
        app.go(name)
        pump(app)
        return app.sm.current_screen
    if name.endswith("_detail"):
        picks = app.__dict__.setdefault("_shot_picks", {})
        key = (name, app.info.fingerprint if app.info else None)
        if key not in picks:  # picking scans records: once per data version
            app.data.submit(lambda m: pick(m, name), lambda rid: picks.setdefault(key, rid))
            pump(app)
        list_screen = {"finance_detail": "finance", "project_detail": "projects",
                       "asset_detail": "assets", "service_detail": "services",
                       "power_detail": "powers"}[name]
        app.go(list_screen)  # as a person reaches it: 返回 leads to the list
        if picks.get(key):
            app.go(name, id=picks[key])
        pump(app)
        return app.sm.current_screen
    handler = _SPECIAL.get(name)
    if handler is not None:
        handler(app)
    else:
        app.go(name)
    pump(app)
    return app.sm.current_screen


def _mine_card(app) -> None:
    """我的查询 after a demo person's card was read (the demo's invented persons: the first
    of them with records in the data shown)."""
    from kiosk.devices.idcard.simulator import demo_cards
    from kiosk.devices.idcard.text import parse_text
    from kiosk.screens.headless import pump

    app.go("mine")
    pump(app)
    scr = app.sm.get_screen("mine")
    cards = demo_cards(app.info.village_code)[:5]
    known = app.__dict__.get("_shot_card")  # the card that showed records last time
    for sim in ([cards[known]] if known is not None and known < len(cards) else []) + cards:
        scr.card_placed(parse_text(sim.text))
        _wait(app, lambda: scr.phase in ("shown", "empty"))
        if scr.phase == "shown":
            app._shot_card = cards.index(sim)
            return


def _wait(app, cond, timeout: float = 30.0) -> None:
    import time

    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    while not cond() and time.monotonic() < deadline:
        EventLoop.idle()
        time.sleep(0.002)


def _search(app) -> None:
    from kiosk.screens.headless import pump

    app.go("search")
    pump(app)
    scr = app.sm.get_screen("search")
    _wait(app, lambda: bool(scr.facets))
    for facet in ("surname", "word"):
        terms = scr.facets.get(facet) or []
        if terms:
            scr.pick(facet, terms[0][0])
            return


def _villages(app) -> None:
    app.go("villages")


def _technician_menu(app) -> None:
    app.go("technician", unlocked=True)


def _technician_tool(tool: str):
    def go(app) -> None:
        from kiosk.screens.headless import pump

        app.go("technician", unlocked=True)
        pump(app)
        scr = app.sm.get_screen("technician")
        scr.open_tool(tool)
        if tool == "devices":  # the answers now, not when the services' threads send them
            scr.on_device_checked(app.services.printer.check_now())
            scr.on_device_checked(app.services.card.check_now())
        elif tool == "card":  # a demo card read through the simulated reader
            from kiosk.devices.idcard import open_reader
            from kiosk.devices.idcard.simulator import SimulatedReader
            from kiosk.services.events import CardPresented

            sim = SimulatedReader()
            sim.place(0)
            with open_reader("sim", simulator=sim) as session:
                scr.card_test_result(CardPresented(session.read_card()))
    return go


def _update(state: str):
    def go(app) -> None:
        from kiosk.screens.headless import pump
        from kiosk.services.events import ImportRefused

        app.nav.go("update", state="preparing")
        pump(app)
        scr = app.sm.get_screen("update")
        info = app.info
        if state == "pin":
            from kiosk.screens.update import version_text

            scr.set_state("pin", f"U盘上有{info.village_name}的新数据，请输入技术员密码",
                          f"本机：{version_text(info)}\nU盘：第{info.seq + 1}版　数据更新至 {info.data_as_of}")
        elif state == "installing":
            scr.set_state("installing", "正在导入，请勿拔出U盘")
            scr.percent = 42
            scr.phase_text = "正在复制数据到本机…"
            scr.progress_text = "42%　12.5 MB/s　还需约 3 秒"
            scr.safe_text = "请勿拔出U盘"
            scr.safe = False
        elif state == "done":
            from types import SimpleNamespace

            scr._show_done(SimpleNamespace(old=None, new=info, refused=[]), True)
        elif state == "error":
            scr.on_import_event(ImportRefused(message_zh="U盘上的数据不是本村的，未导入，原数据不变",
                                              message="another village's bundle", safe_to_remove=True))
    return go


def _update_app(state: str):
    """The stick screen as a stick with data (第N版 → 第N+1版) and software (0.1.0 → 0.2.0)
    puts it in ``state``, from the events the services would send (nothing is mounted or
    installed)."""
    def go(app) -> None:
        from types import SimpleNamespace as NS

        from kiosk.cache.stickimport import Report, Version
        from kiosk.screens import update as U
        from kiosk.screens.headless import pump
        from kiosk.services import events as ev

        app.nav.go("update", state="preparing")
        pump(app)
        scr = app.sm.get_screen("update")
        info = app.info
        old = Version(info.seq, info.data_as_of, {})
        new = Version(info.seq + 1, info.data_as_of, {})
        plan = NS(candidate=NS(manifest=NS(display_name=info.village_name)), old=old, new=new)
        pin_set, U.technician_pin_set = U.technician_pin_set, lambda: True  # the pad, whatever this home has
        try:
            if state != "app_pin":  # app_pin: a stick with software only
                scr.on_import_event(ev.ImportOffered(plan, app_root="stick"))
            scr.app_looking()
            scr.on_app_event(ev.AppUpdateOffered("0.1.0", "0.2.0"))
            if state == "both":
                return
            if state == "app_pin":
                scr.on_import_event(ev.ImportRefused("U盘上没有找到有效的数据包，未导入", safe_to_remove=False,
                                                     app_root="stick", no_bundle=True))
                scr.install_app()
                return
            scr.pin_ok = True
            scr.on_import_event(ev.ImportDone(Report(old, new), False))
            if state == "app_offer":
                return
            scr.app_phase = "installing"
            scr.set_state("app_installing", "正在安装软件更新（0.1.0 → 0.2.0）", U.INSTALL_TEXT)
            scr.safe_text, scr.safe = "请勿断电，请勿拔出U盘", False
            scr.on_app_event(ev.AppUpdateProgress("copy", 42, "42% · 18.5 MB/s"))
            if state == "app_switching":
                scr.on_app_event(ev.AppUpdateSwitching("0.1.0", "0.2.0"))
            elif state == "app_refused":
                scr.on_app_event(ev.AppUpdateRefused("软件更新包已损坏或被改动，未安装，原软件不变"))
        finally:
            U.technician_pin_set = pin_set
    return go


_SPECIAL = {
    "mine_card": _mine_card,
    "search": _search,
    "villages": _villages,
    "technician_menu": _technician_menu,
    "technician_devices": _technician_tool("devices"),
    "technician_card": _technician_tool("card"),
    "technician_trust": _technician_tool("trust"),
    "technician_restart": _technician_tool("restart"),
    "update_preparing": _update("preparing"),
    "update_pin": _update("pin"),
    "update_installing": _update("installing"),
    "update_done": _update("done"),
    "update_error": _update("error"),
    **{f"update_{s}": _update_app(s) for s in ("both", "app_offer", "app_pin", "app_installing", "app_switching",
                                              "app_refused")},
}


def _default_home() -> Path:
    if os.environ.get("KIOSK_HOME"):
        return Path(os.environ["KIOSK_HOME"])
    demo = Path(".demo/home")
    if demo.exists():
        return demo
    from kiosk.config import kiosk_home

    return kiosk_home()


def _render_child(home: Path, jobs, size, scale, contrast) -> int:
    """One render in a child process (Kivy keeps one window per process, and the window's
    size is set when it is created)."""
    import json
    import subprocess

    code = ("import json, sys; from pathlib import Path; from kiosk.tools.screenshots import render; "
            "a = json.loads(sys.argv[1]); "
            "render(Path(a['home']), a['jobs'], size=tuple(a['size']) if a['size'] else None, "
            "text_scale=a['scale'], contrast=a['contrast'])")
    arg = json.dumps({"home": str(home), "jobs": jobs, "size": size, "scale": scale, "contrast": contrast})
    return subprocess.run([sys.executable, "-c", code, arg], env=dict(os.environ)).returncode


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    outdir = Path(argv[0] if argv else "docs/screenshots")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-"))
    home = _default_home()
    print(f"rendering {len(SCREENSHOT_NAMES)} screens from {home} into {outdir}/, "
          f"and {len(EXTRA_NAMES)} of them in {', '.join(s[0] for s in EXTRA_SETS)}")
    sets = [(outdir, None, 1.0, "default", SCREENSHOT_NAMES)] + [
        (outdir / sub, size, scale, contrast, EXTRA_NAMES) for sub, size, scale, contrast in EXTRA_SETS]
    try:
        for folder, size, scale, contrast, names in sets:
            jobs = [(n, str(folder / f"{n}.png")) for n in names]
            if _render_child(home, jobs, size, scale, contrast) != 0:
                return 1
            for _, f in jobs:
                print(f)
    except Exception:  # Kivy's exception hook logs quietly: say it plainly
        traceback.print_exc(file=sys.__stderr__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
