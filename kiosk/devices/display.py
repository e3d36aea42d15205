"""The kiosk's X display: its size, a screenshot, and screen blanking by the clock.

The kiosk runs on a bare X server with no window manager (deploy/README.md, "Display").
Without a window manager X keeps a window at the size it asked for, so the app must ask for
exactly the screen's size: :func:`screen_size` tells it (Kivy's ``fullscreen = auto`` does
not resize the window on a bare X server).

Blanking: X's own screen saver and DPMS, set with ``xset`` (x11-xserver-utils), the
documented interface for both; a touch wakes the screen. Screenshots: Pillow's ImageGrab
(XCB). Screen size: two libX11 calls through ctypes, because neither Pillow nor the
standard library answers it without grabbing the whole screen.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import logging
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

log = logging.getLogger("kiosk.display")


class DisplayError(Exception):
    """No X display could be opened (DISPLAY unset or wrong, no permission)."""


def _xlib():
    try:
        x = ctypes.CDLL("libX11.so.6")
    except OSError as exc:
        raise DisplayError(f"libX11 is missing ({exc}); install libx11-6") from None
    x.XOpenDisplay.restype = ctypes.c_void_p
    x.XOpenDisplay.argtypes = [ctypes.c_char_p]
    x.XDefaultScreen.argtypes = [ctypes.c_void_p]
    x.XDisplayWidth.argtypes = x.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    x.XCloseDisplay.argtypes = [ctypes.c_void_p]
    return x


def screen_size(display: str | None = None) -> tuple[int, int]:
    """``(width, height)`` in px of the default screen of ``display`` (default ``$DISPLAY``).

    Raises:
        DisplayError: the display cannot be opened.
    """
    x = _xlib()
    name = display or os.environ.get("DISPLAY")
    if not name:
        raise DisplayError("DISPLAY is not set")
    d = x.XOpenDisplay(name.encode())
    if not d:
        raise DisplayError(f"cannot open X display {name} (not running, or no permission: XAUTHORITY)")
    try:
        s = x.XDefaultScreen(d)
        return int(x.XDisplayWidth(d, s)), int(x.XDisplayHeight(d, s))
    finally:
        x.XCloseDisplay(d)


def screenshot(out: Path, display: str | None = None) -> tuple[int, int]:
    """Save what the screen shows as a PNG; returns its size.

    Raises:
        DisplayError: the display cannot be opened.
    """
    from PIL import ImageGrab

    name = display or os.environ.get("DISPLAY")
    if not name:
        raise DisplayError("DISPLAY is not set")
    try:
        im = ImageGrab.grab(xdisplay=name)
    except OSError as exc:
        raise DisplayError(f"cannot capture X display {name}: {exc}") from None
    im.save(out)
    return im.size


# ---- blanking by the clock -------------------------------------------------------------------
@dataclass(frozen=True)
class OfficeHours:
    """When the office is open: ``spans`` of ``(start, end)`` local times on ``days``
    (ISO weekdays, 1 = Monday). A span whose end is not after its start runs past midnight."""

    spans: tuple[tuple[dt.time, dt.time], ...]
    days: frozenset[int]

    @classmethod
    def from_config(cls, cfg: dict) -> "OfficeHours":
        """From config ``display`` (``open_hours`` ``[["07:30", "18:30"], …]``, ``open_days``).

        Raises:
            ValueError: a time is not ``HH:MM`` or a day is not 1…7.
        """
        d = cfg.get("display") or {}
        spans = []
        for span in d.get("open_hours") or []:
            if not (isinstance(span, (list, tuple)) and len(span) == 2):
                raise ValueError(f"display.open_hours: each span is [\"HH:MM\", \"HH:MM\"], not {span!r}")
            spans.append(tuple(_hhmm(t) for t in span))
        days = d.get("open_days", [1, 2, 3, 4, 5, 6, 7])
        if not isinstance(days, list) or not all(isinstance(x, int) and 1 <= x <= 7 for x in days):
            raise ValueError(f"display.open_days: ISO weekdays 1…7, not {days!r}")
        return cls(tuple(spans), frozenset(days))

    def is_open(self, now: dt.datetime) -> bool:
        t = now.time()
        for start, end in self.spans:
            if start < end:
                if now.isoweekday() in self.days and start <= t < end:
                    return True
            elif start != end:  # past midnight: the evening belongs to today, the night to yesterday
                if (now.isoweekday() in self.days and t >= start) or \
                        ((now - dt.timedelta(days=1)).isoweekday() in self.days and t < end):
                    return True
        return False

    def next_change(self, now: dt.datetime) -> dt.datetime:
        """The next minute (after ``now``) at which :meth:`is_open` changes; at most 8 days on."""
        state = self.is_open(now)
        t = now.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        # candidate instants: every span boundary on the next 8 days
        marks = sorted({dt.datetime.combine(now.date() + dt.timedelta(days=k), b, now.tzinfo)
                        for k in range(-1, 9) for span in self.spans for b in span})
        for m in marks:
            if m >= t and self.is_open(m) != state:
                return m
        return now + dt.timedelta(days=8)


def _hhmm(text) -> dt.time:
    try:
        h, m = str(text).split(":")
        return dt.time(int(h), int(m))
    except (ValueError, TypeError):
        raise ValueError(f"display.open_hours: {text!r} is not a time HH:MM") from None


def blanking_commands(office_open: bool, blank_after_s: int) -> list[list[str]]:
    """The ``xset`` calls for one state. Open: wake the screen, then no screen saver and no
    power saving. Closed: blank and power the panel down after ``blank_after_s`` seconds
    without a touch (a touch wakes it)."""
    if office_open:
        return [["xset", "s", "reset"], ["xset", "+dpms", "dpms", "force", "on"], ["xset", "s", "off", "-dpms"]]
    s = str(max(1, int(blank_after_s)))
    return [["xset", "s", "blank", "s", s, s], ["xset", "+dpms", "dpms", s, s, s]]


def apply_blanking(office_open: bool, blank_after_s: int,
                   run: Callable[[Sequence[str]], int] | None = None) -> bool:
    """Set X's blanking for ``office_open``; True when every call succeeded. A server
    without DPMS (Xvfb, some panels) still gets the screen-saver part."""
    run = run or _run_xset
    ok = True
    for cmd in blanking_commands(office_open, blank_after_s):
        if run(cmd) != 0:
            ok = False
            log.warning("xset %s failed", " ".join(cmd[1:]))
    return ok


def _run_xset(cmd: Sequence[str]) -> int:
    exe = shutil.which(cmd[0])
    if not exe:
        raise DisplayError("xset is missing: install x11-xserver-utils")
    try:
        return subprocess.run([exe, *cmd[1:]], capture_output=True, timeout=10).returncode
    except subprocess.TimeoutExpired:
        return 1
