"""The kiosk's idea of "now", and whether the system clock can be believed.

A village kiosk often has no network and a flat RTC battery, so its clock may read 2000-01-01
or be set by hand. Two rules follow:

* A manifest "issued in the future" is refused only when the kernel says the clock is
  synchronised (NTP/chrony/systemd-timesyncd set it). Otherwise a wrong clock would lock
  the village out of new data.
* The clock is never trusted below the newest ``issued_at`` ever seen: :meth:`Clock.trusted_now`
  is ``max(system time, newest issue time)``.

Synchronisation is read with ``adjtimex(2)`` in read-only mode (``modes = 0``): the clock is
synchronised when the call does not return ``TIME_ERROR`` (5) and ``STA_UNSYNC`` (0x40) is
clear in ``status``. This is exactly what ``timedatectl show -p NTPSynchronized`` reports
(systemd's ``ntp_synced()``), without needing D-Bus or systemd as PID 1.
"""
from __future__ import annotations

import ctypes
import datetime as dt
import platform
import struct
from dataclasses import dataclass
from typing import Callable

TIME_ERROR = 5
STA_UNSYNC = 0x0040
FUTURE_TOLERANCE = dt.timedelta(days=1)


def kernel_clock_synchronized() -> bool:
    """True when the kernel reports an NTP-disciplined clock (Linux ``adjtimex``); else False."""
    if platform.system() != "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        buf = ctypes.create_string_buffer(512)  # struct timex is 208 bytes on 64-bit Linux; zero = modes 0 (read)
        rc = libc.adjtimex(buf)
    except (OSError, AttributeError):
        return False
    if rc < 0 or rc == TIME_ERROR:
        return False
    # status follows modes (int + padding) and four longs: offset 4*sizeof(long)+sizeof(long) on LP64/ILP32.
    long_size = ctypes.sizeof(ctypes.c_long)
    status = struct.unpack_from("i", buf, long_size + 4 * long_size)[0]
    return not status & STA_UNSYNC


def parse_utc(text: str) -> dt.datetime:
    """ISO 8601 with ``Z`` or an offset → aware UTC datetime. Raises ValueError."""
    t = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if t.tzinfo is None:
        raise ValueError(f"time without zone: {text}")
    return t.astimezone(dt.timezone.utc)


@dataclass
class Clock:
    """Injectable time source (tests pass fixed ``now`` and ``synchronized``)."""

    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.timezone.utc)
    synchronized: Callable[[], bool] = kernel_clock_synchronized

    def trusted_now(self, newest_seen: str | None) -> dt.datetime:
        """System time, but never earlier than ``newest_seen`` (the newest issue time installed)."""
        now = self.now()
        if newest_seen:
            try:
                now = max(now, parse_utc(newest_seen))
            except ValueError:
                pass
        return now


SYSTEM = Clock()
