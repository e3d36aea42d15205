"""Kivy's configuration for kiosk mode. Must run before ``kivy.core.window`` is imported."""
from __future__ import annotations

import os


def configure_kivy(windowed: bool, size: tuple[int, int] | None = None, kivy_home: str | None = None) -> None:
    """Set Kivy's config for the kiosk, each for a reason:

    - ``exit_on_escape = 0``: Esc must not close the kiosk (F1's settings panel is disabled
      by the App);
    - exactly one input provider, SDL's mouse path with multitouch emulation off: a
      touchscreen reaches SDL as pointer events (X11/Wayland pointer emulation); with the
      kernel providers (``probesysfs``/``hidinput``/``mtdev``) every tap arrived twice;
    - full screen with the cursor hidden unless ``windowed``;
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

    Config.set("kivy", "exit_on_escape", "0")
    Config.set("kivy", "kivy_clock", "interrupt")
    Config.set("kivy", "log_level", os.environ.get("KIOSK_KIVY_LOG", "warning"))
    for key, _ in list(Config.items("input")):
        Config.remove_option("input", key)
    Config.set("input", "mouse", "mouse,disable_multitouch")
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
