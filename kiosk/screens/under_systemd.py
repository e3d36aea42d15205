"""Interim glue between the App and systemd (deploy/README.md, "What the app must do"):
full screen at exactly the X screen's size, READY after the first frame, WATCHDOG from
the Kivy clock. ``kiosk.app.run`` calls :func:`prepare` and :func:`attach`; the App that
owns the services will do the same itself.
"""
from __future__ import annotations

import logging
import os

from kiosk.services import systemd

log = logging.getLogger("kiosk.app.systemd")


def prepare(windowed: bool) -> None:
    """After ``configure_kivy``, before the window exists: on a bare X server (no window
    manager) ``fullscreen = auto`` leaves the window at the requested size, so ask for
    ``fullscreen = 1`` at exactly the screen's size."""
    if windowed or not os.environ.get("DISPLAY"):
        return  # a window on a desktop, or headless (tests): Kivy's own choice
    from kivy.config import Config

    from kiosk.devices import display

    try:
        w, h = display.screen_size()
    except display.DisplayError as exc:
        # an X server is meant to be there: do not run invisibly; systemd restarts us
        log.error("%s", exc)
        raise SystemExit(1) from None
    Config.set("graphics", "fullscreen", "1")
    Config.set("graphics", "width", str(w))
    Config.set("graphics", "height", str(h))


def attach(app) -> None:
    """READY=1 after the first frame drawn once the app started; then WATCHDOG=1 every
    half ``WatchdogSec`` from the Kivy clock, so a frozen UI thread gets restarted. Nothing
    outside systemd (no ``$NOTIFY_SOCKET``)."""
    if not os.environ.get("NOTIFY_SOCKET"):
        return
    from kivy.clock import Clock
    from kivy.core.window import Window

    def first_frame(*_):
        Window.unbind(on_flip=first_frame)
        systemd.ready()
        every = systemd.watchdog_interval()
        if every:
            Clock.schedule_interval(lambda dt: systemd.ping(), every)

    app.bind(on_start=lambda *_: Window.bind(on_flip=first_frame))
