"""Kivy's configuration for kiosk mode. Must run before ``kivy.core.window`` is imported."""
from __future__ import annotations

import logging
import os

log = logging.getLogger("kiosk.app")


def kivy_env(quiet: bool = False) -> None:
    """Kivy reads these at import: no argv parsing, no log files, a private, stable KIVY_HOME
    (a fresh one each run would make Kivy warn about an old config version every time).
    ``quiet`` silences Kivy's console log (set KIOSK_VERBOSE=1 to see it). Imports no Kivy."""
    import platformdirs

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    if quiet and not os.environ.get("KIOSK_VERBOSE"):
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    if "KIVY_HOME" not in os.environ:
        d = os.path.join(platformdirs.user_cache_dir("cunwu-kiosk"), "kivy")
        os.makedirs(d, exist_ok=True)
        os.environ["KIVY_HOME"] = d


def _refuse_ways_out(Config) -> None:
    """Esc closes nothing; exactly one input provider, SDL's mouse path with multitouch
    emulation off (see :func:`configure_kivy`)."""
    Config.set("kivy", "exit_on_escape", "0")
    for key, _ in list(Config.items("input")):
        Config.remove_option("input", key)
    Config.set("input", "mouse", "mouse,disable_multitouch")


def configure_paused(size: tuple[int, int], full_screen: bool) -> None:
    """Kivy's config for 暂停服务 (kiosk.screens.paused) on its own, before its window
    exists: the ways out refused as for the kiosk, no cursor, and, with no window manager
    on a bare X server, exactly ``size`` at (0, 0), full screen unless only a screenshot."""
    from kivy.config import Config

    Config.set("kivy", "log_level", "warning")
    _refuse_ways_out(Config)
    Config.set("graphics", "fullscreen", "1" if full_screen else "0")
    Config.set("graphics", "borderless", "1")
    Config.set("graphics", "show_cursor", "0")
    Config.set("graphics", "position", "custom")
    Config.set("graphics", "left", "0")
    Config.set("graphics", "top", "0")
    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))


def configure_kivy(windowed: bool, size: tuple[int, int] | None = None, kivy_home: str | None = None) -> None:
    """Set Kivy's config for the kiosk, each for a reason:

    - ``exit_on_escape = 0``: Esc must not close the kiosk (F1's settings panel is disabled
      by the App);
    - exactly one input provider, SDL's mouse path with multitouch emulation off: a
      touchscreen reaches SDL as pointer events (X11/Wayland pointer emulation); with the
      kernel providers (``probesysfs``/``hidinput``/``mtdev``) every tap arrived twice;
    - full screen with the cursor hidden unless ``windowed``; on an X server (``$DISPLAY``)
      exactly the screen's size (:func:`fit_x_screen`);
    - no Kivy modules (``[modules]`` emptied: no inspector, touch ring or monitor that a
      long press or a key could open, whatever an old ``config.ini`` in KIVY_HOME says);
    - the ``interrupt`` clock: a data answer posted from the worker wakes the main loop at
      once instead of after the rest of the 1/60 s frame;
    - no multisampling (a software renderer pays for every sample);
    - :func:`kiosk.heap.limit_heap_growth`.
    """
    from kiosk.heap import limit_heap_growth

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    limit_heap_growth()
    if kivy_home:
        os.environ.setdefault("KIVY_HOME", kivy_home)
    from kivy.config import Config

    _refuse_ways_out(Config)
    Config.set("kivy", "kivy_clock", "interrupt")
    Config.set("kivy", "log_level", os.environ.get("KIOSK_KIVY_LOG", "warning"))
    for key, _ in list(Config.items("modules")):
        Config.remove_option("modules", key)
    Config.set("graphics", "multisamples", "0")
    if windowed:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "show_cursor", "1")
    else:
        # 'auto' asks SDL for a desktop-sized full-screen window; without a window manager
        # (a kiosk often runs X with just this app) X keeps the window at its requested size
        # and position, so also request the panel's size at (0, 0).
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    if size:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))
    if not windowed:
        fit_x_screen()


def fit_x_screen() -> None:
    """Full screen at exactly the X screen's size (before the window exists): on a bare X
    server (no window manager, deploy/README.md "Display") ``fullscreen = auto`` leaves the
    window at the requested size, so ask for ``fullscreen = 1`` at the screen's size.
    Nothing without ``$DISPLAY`` (headless: tests, screenshots).

    Raises:
        SystemExit(1): an X server is meant to be there but cannot be asked (the kiosk must
            not run invisibly; systemd restarts it).
    """
    if not os.environ.get("DISPLAY"):
        return
    from kivy.config import Config

    from kiosk.devices import display

    try:
        w, h = display.screen_size()
    except display.DisplayError as exc:
        log.error("%s", exc)
        raise SystemExit(1) from None
    Config.set("graphics", "fullscreen", "1")
    Config.set("graphics", "width", str(w))
    Config.set("graphics", "height", str(h))
