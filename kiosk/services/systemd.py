"""Tell systemd how the app is doing: READY after the first frame, WATCHDOG from the UI
clock, a STATUS line (the notify protocol, sd_notify(3)).

Under systemd (``Type=notify``, cunwu-kiosk.service) ``$NOTIFY_SOCKET`` names a Unix
datagram socket; a name starting with ``@`` is in the abstract namespace. Outside systemd
(development, tests) every call does nothing and returns False; none ever raises, so a
notify failure can never take the UI down.

Why our own and not a library: the protocol is one datagram; ``sdnotify`` on PyPI has not
changed since 2017 and ``systemd-python`` has no wheels (it needs libsystemd headers to build).

What the App calls (deploy/README.md, "What the app must do"):
    ready()                                  once, after the first frame is on screen
    Clock.schedule_interval(lambda dt: ping(), watchdog_interval())   if watchdog_interval()
    status("…")                              optional, a short line for ``systemctl status``
    stopping()                               when it quits on purpose
"""
from __future__ import annotations

import logging
import os
import socket

from kiosk.version import status_line

log = logging.getLogger("kiosk.services.systemd")


def _address() -> str | None:
    addr = os.environ.get("NOTIFY_SOCKET")
    if not addr or addr[0] not in "/@":
        return None
    return "\0" + addr[1:] if addr[0] == "@" else addr


def notify(*fields: str) -> bool:
    """Send ``fields`` (``"READY=1"``, ``"STATUS=…"``) as one message. True when sent."""
    addr = _address()
    if not addr:
        return False
    msg = "\n".join(fields).encode("utf-8")
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
            s.connect(addr)
            s.sendall(msg)
        return True
    except OSError as exc:
        log.warning("cannot notify systemd: %s", exc)
        return False


def ready(status: str | None = None) -> bool:
    """The app is up: its first frame is on screen. ``status`` defaults to
    ``cunwu-kiosk <version> 运行中``, which the app-update health check reads."""
    return notify("READY=1", f"STATUS={status or status_line()}")


def ping() -> bool:
    """The UI thread is alive (call it from the UI clock, every :func:`watchdog_interval` s)."""
    return notify("WATCHDOG=1")


def status(text: str) -> bool:
    """A one-line status for ``systemctl status`` (never personal data)."""
    return notify(f"STATUS={text}")


def stopping() -> bool:
    """The app is quitting on purpose."""
    return notify("STOPPING=1")


def watchdog_interval() -> float | None:
    """Seconds between :func:`ping` calls: half of systemd's ``WatchdogSec``, or None when
    no watchdog is set for this process."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(0.5, int(usec) / 2e6)
    except ValueError:
        return None
