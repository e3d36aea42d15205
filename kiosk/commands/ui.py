"""``kiosk run`` (the touch UI) and ``kiosk screenshot`` (render any screen to PNG, headless)."""
from __future__ import annotations

import argparse
import os
import sys


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="start the full-screen touch UI")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen (development)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("screenshot", help="render a screen of the UI to a PNG file (works without a display)")
    p.add_argument("screen", nargs="?", help="screen name (see --list)")
    p.add_argument("--out", help="PNG file to write")
    p.add_argument("--size", default=None, help="panel size WxH in px (default: the configured panel)")
    p.add_argument("--diagonal", type=float, default=None, metavar="INCH",
                   help="the panel's diagonal (default: the configured panel's, or a typical one for --size)")
    p.add_argument("--font-scale", type=float, default=1.0, metavar="S",
                   help="text scale: 1 (标准), 1.25 (大字) or 1.5 (特大字)")
    p.add_argument("--contrast", default="default", metavar="default|high", help="high: 高对比 (light text on black)")
    p.add_argument("--list", action="store_true", help="list the screen names")
    p.set_defaults(func=cmd_screenshot)


def _kivy_env(quiet: bool = False) -> None:
    from kiosk.screens.kivyconfig import kivy_env

    kivy_env(quiet)


def cmd_run(args) -> int:
    """Start the UI. Whatever goes wrong ends in one line on stderr, never a traceback
    (a kiosk's console is a technician's only view of it); the traceback goes to
    ``KIOSK_HOME/run/last-crash.txt`` when that can be written."""
    from kiosk import config
    from kiosk.errors import Exit, KioskError

    home = config.kiosk_home()
    try:
        panel = config.load(home)["panel"]  # a malformed config.json: one line (ConfigError) before Kivy starts
    except config.ConfigError as exc:
        if not os.environ.get("NOTIFY_SOCKET"):
            # started by hand (or make demo): nobody else shows 暂停服务, so show it here
            # until it is closed; under systemd exit 15 makes its own unit show it
            show_paused(home, args.windowed, exc)
        raise
    _kivy_env()
    try:
        from kiosk.screens.kivyconfig import configure_kivy

        # before kivy.app is imported: it creates the clock, whose kind is configuration
        # (full screen at the X screen's size; the App sends READY and WATCHDOG itself)
        configure_kivy(args.windowed, size=(int(panel["width_px"]), int(panel["height_px"])))
        from kiosk.app import KioskApp

        KioskApp(home).run()
        return 0
    except (KioskError, OSError, KeyboardInterrupt):
        raise  # kiosk.cli prints these as one line
    except Exception as exc:  # noqa: BLE001 - anything else: one line too
        where = _save_crash(home)
        print(f"kiosk: error: the kiosk stopped: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
              + (f" (details in {where})" if where else "") + " (终端程序异常退出，请联系技术人员)", file=sys.stderr)
        return Exit.FAILED


def show_paused(home, windowed: bool, exc: Exception) -> None:
    """暂停服务 (kiosk.screens.paused, the page ``kiosk paused`` shows) in this process until
    its window is closed: for a kiosk started by hand whose config.json cannot be read."""
    from kiosk import config
    from kiosk.services import recovery

    print("kiosk: config.json cannot be read: showing 暂停服务 until its window is closed "
          f"({type(exc).__name__})", file=sys.stderr)
    _kivy_env()
    from kiosk.screens.kivyconfig import configure_kivy

    panel = config.DEFAULTS["panel"]
    configure_kivy(windowed, size=(int(panel["width_px"]), int(panel["height_px"])))
    from kiosk.screens import paused

    paused.run(recovery.paused_info(home), None, closable=True)


def _save_crash(home) -> str | None:
    import traceback

    try:
        d = os.path.join(home, "run")
        os.makedirs(d, exist_ok=True)
        path = os.path.join(d, "last-crash.txt")
        with open(path, "w", encoding="utf-8") as f:
            traceback.print_exc(file=f)
        return path
    except OSError:
        return None


def _size(text: str | None):
    from kiosk.cli import CliError

    if not text:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise CliError(f"--size must be WxH, e.g. 1920x1080, not {text!r}") from None
    if not (200 <= w <= 8000 and 200 <= h <= 8000):
        raise CliError(f"--size out of range: {text}")
    return w, h


def cmd_screenshot(args) -> int:
    from kiosk.cli import CliError

    if not args.list:  # check the arguments before the slow Kivy import
        if not args.screen or not args.out:
            raise CliError("give a SCREEN and --out FILE.png (or --list)")
        size = _size(args.size)
        out = os.path.abspath(args.out)
        if os.path.isdir(out) or not out.lower().endswith(".png"):
            raise CliError(f"--out must name a .png file, not {args.out!r}")
        if not os.path.isdir(os.path.dirname(out)):
            raise CliError(f"folder {os.path.dirname(out)!r} does not exist")
        from kiosk.cache.fsutil import check_output_folder

        check_output_folder(os.path.dirname(out))
        from kiosk.screens.theme import CONTRASTS, TEXT_SCALES

        if args.font_scale not in TEXT_SCALES:
            raise CliError(f"--font-scale must be one of {', '.join(f'{s:g}' for s in TEXT_SCALES)}, not {args.font_scale:g}")
        if args.contrast not in CONTRASTS:
            raise CliError(f"--contrast must be one of {', '.join(CONTRASTS)}, not {args.contrast!r}")
        if args.diagonal is not None and not (5 <= args.diagonal <= 120):
            raise CliError(f"--diagonal out of range (5 to 120 inches): {args.diagonal:g}")
    if not args.list:
        from kiosk import config

        config.load(config.kiosk_home())  # a malformed config.json: one line, before Kivy starts
    _kivy_env(quiet=True)
    from kiosk.tools.screenshots import VIEWS, render

    if args.list:
        print("\n".join(f"{name:<18} {what}" for name, what in VIEWS.items()))
        return 0
    if args.screen not in VIEWS:
        raise CliError(f"unknown screen {args.screen!r}; one of: {', '.join(VIEWS)}")
    from kiosk.config import kiosk_home

    try:
        render(kiosk_home(), [(args.screen, out)], size=size, text_scale=args.font_scale,
               contrast=args.contrast, diagonal=args.diagonal)
    except Exception:  # Kivy's exception hook would log it quietly: print it plainly
        import traceback

        traceback.print_exc(file=sys.__stderr__)
        return 1
    print(f"wrote {args.out}")
    return 0
