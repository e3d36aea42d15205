"""Render screens of the UI to PNG without a display (``kiosk screenshot``, ``make screenshots``).

``python -m kiosk.tools.screenshots OUTDIR`` renders every screen of :data:`SCREENSHOT_NAMES`
into ``OUTDIR/<name>.png`` using KIOSK_HOME's installed data (or ``.demo/home`` from
``make demo`` when KIOSK_HOME is unset). Detail screens show a representative record
(:func:`pick`): for power_detail an item whose procedure has a 不通过 branch.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import traceback
from pathlib import Path

SCREENSHOT_NAMES = [
    "home", "finance", "finance_detail", "projects", "project_detail", "services",
    "service_detail", "assets", "asset_detail", "powers", "power_detail", "mine",
    "complaints", "nodata", "flags", "rules", "flag_detail",
]
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


def render(home: Path, jobs: list[tuple[str, str]], size: tuple[int, int] | None = None, opener=None) -> list[str]:
    """Render each ``(screen, out_png)`` of ``jobs``; returns the files written.

    Raises:
        ValueError: an unknown screen name.
    """
    for name, _ in jobs:
        if name not in SCREENSHOT_NAMES:
            raise ValueError(f"unknown screen {name!r}")
    from kiosk import config as _config
    from kiosk.screens.kivyconfig import configure_kivy

    panel = _config.load(home)["panel"]
    configure_kivy(windowed=True, size=size or (panel["width_px"], panel["height_px"]))
    from kivy.core.window import Window

    from kiosk.app import KioskApp
    from kiosk.screens.headless import pump, start_headless, stop_headless

    app = KioskApp(home, opener=opener)
    start_headless(app)
    Window.size = size or (panel["width_px"], panel["height_px"])
    pump(app)
    written = []
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-shot-"))
    try:
        for name, out in jobs:
            show(app, name)
            pump(app, frames=3)
            shot = Window.screenshot(name=str(tmp / "shot.png"))
            Path(out).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(shot, out)
            written.append(str(out))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        stop_headless(app)
    return written


def show(app, name: str) -> None:
    """Put screen ``name`` up as a user would reach it (detail screens with a picked record)."""
    from kiosk.screens.headless import pump
    from kiosk.services.events import DataShown

    if name == "nodata":  # as before any import: the data service says nothing is shown
        if not hasattr(app, "_shot_saved"):
            app._shot_saved = app.info
        app.bus.publish(DataShown(None))
        pump(app)
        return
    if hasattr(app, "_shot_saved"):  # the next screen shows the real data again
        app.bus.publish(DataShown(app.__dict__.pop("_shot_saved")))
        pump(app)
    if app.state != "ready":
        return
    app.go_home()
    if name == "home":
        return
    if name == "flag_detail":  # the village's own flags, as 首页's notice opens them
        app.go("flags")
        pump(app)
        app.go(name, id=app.info.village_code)
        return
    if name == "rules":  # reached from 监督提示
        app.go("flags")
        pump(app)
        app.go(name)
        return
    if name.endswith("_detail"):
        box = {}
        app.data.submit(lambda m: pick(m, name), lambda rid: box.setdefault("id", rid))
        pump(app)
        list_screen = {"finance_detail": "finance", "project_detail": "projects",
                       "asset_detail": "assets", "service_detail": "services",
                       "power_detail": "powers"}[name]
        app.go(list_screen)
        pump(app)
        if box.get("id"):
            app.go(name, id=box["id"])
        return
    app.go(name)


def _default_home() -> Path:
    if os.environ.get("KIOSK_HOME"):
        return Path(os.environ["KIOSK_HOME"])
    demo = Path(".demo/home")
    if demo.exists():
        return demo
    from kiosk.config import kiosk_home

    return kiosk_home()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    outdir = Path(argv[0] if argv else "docs/screenshots")
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-"))
    home = _default_home()
    print(f"rendering {len(SCREENSHOT_NAMES)} screens from {home} into {outdir}/")
    try:
        for f in render(home, [(n, str(outdir / f"{n}.png")) for n in SCREENSHOT_NAMES]):
            print(f)
    except Exception:  # Kivy's exception hook logs quietly: say it plainly
        traceback.print_exc(file=sys.__stderr__)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
