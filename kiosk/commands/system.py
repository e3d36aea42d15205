"""The kiosk as a system: ``kiosk paused`` (暂停服务), ``kiosk display …`` (screen size,
screenshot, blanking by the clock) and ``kiosk stick-helper …`` (root: mount a stick
read-only for the app). Run by the systemd units in deploy/systemd/."""
from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path

from kiosk import config
from kiosk.cli import CliError


def _log_to_journal() -> None:
    """One line per record on stderr, which systemd puts in the journal."""
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def _kivy_env() -> None:
    from kiosk.screens.kivyconfig import kivy_env

    # SIGTERM must end the program: SDL would make it a close request, which 暂停服务 refuses
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    os.environ.setdefault("KCFG_KIVY_LOG_LEVEL", "warning")
    kivy_env()


def _paused(args) -> int:
    """暂停服务 full screen until it is time to let the app try again (exit 75)."""
    from kiosk.devices import display
    from kiosk.services import recovery

    _log_to_journal()
    home = config.kiosk_home()
    info = recovery.paused_info(home)
    logging.getLogger("kiosk.paused").warning("暂停服务: %s", info.reason)
    try:
        cfg = config.load(home)
    except config.ConfigError:
        cfg = config.DEFAULTS
    if args.screenshot:
        size = (int(cfg["panel"]["width_px"]), int(cfg["panel"]["height_px"]))
    else:
        try:
            size = display.screen_size()
        except display.DisplayError as exc:
            raise CliError(str(exc)) from None
    retry = None if args.screenshot else recovery.retry_after(cfg)
    _kivy_env()
    from kiosk.screens.kivyconfig import configure_paused

    configure_paused(size, full_screen=not args.screenshot)
    from kiosk.screens import paused  # (Kivy after its config)

    if paused.run(info, retry, args.screenshot):
        logging.getLogger("kiosk.paused").info("trying the app again")
        return recovery.RETRY_EXIT
    return 0


def _display(args) -> int:
    from kiosk.devices import display

    if args.display_cmd == "size":
        try:
            w, h = display.screen_size()
        except display.DisplayError as exc:
            raise CliError(str(exc)) from None
        print(f"{w}x{h}")
        return 0
    if args.display_cmd == "screenshot":
        try:
            w, h = display.screenshot(Path(args.out))
        except display.DisplayError as exc:
            raise CliError(str(exc)) from None
        print(f"wrote {args.out} ({w}x{h})")
        return 0
    # blanking: run until systemd stops us
    from kiosk.services.bus import EventBus
    from kiosk.services.display import BlankingService

    _log_to_journal()
    try:
        svc = BlankingService(EventBus(), config.load(config.kiosk_home()))
    except ValueError as exc:
        raise config.ConfigError(str(exc)) from None
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    svc.start()
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    svc.stop()
    return 0


def _stick_helper(args) -> int:
    from kiosk.devices.usbstick import helper

    _log_to_journal()
    if args.helper_cmd == "mount":
        helper.mount(args.name)
    else:
        helper.unmount(args.name)
    return 0


def register(sub) -> None:
    p = sub.add_parser("paused", help="show the 暂停服务 page full screen (systemd starts it when the app cannot run)")
    p.add_argument("--screenshot", metavar="FILE.png", help="render the page headless to a PNG and exit")
    p.set_defaults(func=_paused)

    dp = sub.add_parser("display", help="the kiosk's X display").add_subparsers(dest="display_cmd", required=True)
    p = dp.add_parser("size", help="print the screen size WxH")
    p.set_defaults(func=_display)
    p = dp.add_parser("screenshot", help="save what the screen shows as a PNG")
    p.add_argument("--out", required=True, metavar="FILE.png")
    p.set_defaults(func=_display)
    p = dp.add_parser("blanking", help="set screen blanking by the office hours, until stopped (a service)")
    p.set_defaults(func=_display)

    sp = sub.add_parser("stick-helper", help="(root, cunwu-kiosk-stick@.service) mount a USB stick read-only "
                                             "for the kiosk's user").add_subparsers(dest="helper_cmd", required=True)
    for name in ("mount", "unmount"):
        p = sp.add_parser(name)
        p.add_argument("name", metavar="NAME", help="kernel name of the block device, e.g. sdb1")
        p.set_defaults(func=_stick_helper)
