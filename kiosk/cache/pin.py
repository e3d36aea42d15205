"""The technician PIN: salted scrypt hash, 5 wrong tries lock it for 5 minutes, and the lock
survives a power cycle.

Files (``KIOSK_HOME/trust/``):

* ``pins.json`` — ``{"technician": {"algo": "scrypt", "n", "r", "p", "salt": hex, "hash": hex, "set_at"}}``
* ``pin-lock.json`` — ``{"technician": {"failures": int, "locked_at": epoch s, "locked_until": epoch s}}``

Both are written atomically (temp file, fsync, rename, fsync dir). A try is counted *before*
the PIN is compared, so cutting the power after seeing "wrong" does not undo the count.
If the clock is found set back before ``locked_at``, the lock restarts from now (a clock
moved back must not lengthen or shorten it without bound; a clock moved forward can shorten
it — the kiosk's clock is assumed NTP-disciplined or at least not under the attacker's
control, see docs/bundle-format.md).

UI::

    try:
        ok = pin.check("technician", entered)        # bool
    except pin.PinLocked as e:
        show(e.message_zh)                           # e.seconds: seconds remaining
"""
from __future__ import annotations

import hashlib
import hmac
import os
import threading
import time
from pathlib import Path
from typing import Callable

from kiosk import config
from kiosk.cache.fsutil import atomic_write_json, read_json, writing
from kiosk.errors import Exit, KioskError

NAMES = ("technician",)
MAX_TRIES = 5
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
_lock = threading.Lock()


class PinError(KioskError):
    exit_code = Exit.PIN
    default_zh = "密码错误"


class PinNotSet(PinError):
    default_zh = "尚未设置技术人员密码"


class PinLocked(PinError):
    """Too many wrong tries. ``seconds``: whole seconds until the next try is allowed."""

    exit_code = Exit.PIN_LOCKED

    def __init__(self, seconds: int):
        self.seconds = seconds
        mins, secs = divmod(seconds, 60)
        super().__init__(f"PIN locked after {MAX_TRIES} wrong tries; try again in {seconds} s",
                         f"密码输错{MAX_TRIES}次，已锁定，请{mins}分{secs:02d}秒后再试")


def _dir(home: Path | None) -> Path:
    return Path(home or config.kiosk_home()) / "trust"


def _check_name(name: str) -> None:
    if name not in NAMES:
        raise PinError(f"unknown PIN {name!r} (known: {', '.join(NAMES)})", "未知的密码类别")


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)


def valid_format(pin: str) -> bool:
    return 6 <= len(pin) <= 12 and pin.isascii() and pin.isdigit()


def is_set(name: str, home: Path | None = None) -> bool:
    _check_name(name)
    return name in (read_json(_dir(home) / "pins.json", {}) or {})


def seconds_locked(name: str, home: Path | None = None, now: Callable[[], float] = time.time) -> int:
    """Seconds until ``name`` may be tried again (0: not locked)."""
    _check_name(name)
    rec = (read_json(_dir(home) / "pin-lock.json", {}) or {}).get(name) or {}
    return _remaining(rec, now(), _lockout(home))[0]


def _lockout(home: Path | None) -> int:
    return int(config.load(Path(home) if home else None)["timeouts"]["technician_pin_lockout"])


def _remaining(rec: dict, t: float, lockout: int) -> tuple[int, bool]:
    """(seconds remaining, clock_went_back)."""
    until, at = rec.get("locked_until"), rec.get("locked_at")
    if not until:
        return 0, False
    if at is not None and t < at:
        return lockout, True
    return max(0, int(-(-(until - t) // 1))), False  # ceil


def check(name: str, pin: str, home: Path | None = None, now: Callable[[], float] = time.time) -> bool:
    """True if ``pin`` is the ``name`` PIN.

    Raises:
        PinLocked: locked (``seconds`` remaining); the PIN was not compared.
        PinNotSet: no such PIN has been set.
    """
    _check_name(name)
    d = _dir(home)
    lockout = _lockout(home)
    with _lock, writing(d.parent):  # a try that cannot be counted is not compared
        pins = read_json(d / "pins.json", {}) or {}
        if name not in pins:
            raise PinNotSet(f"no {name} PIN is set (kiosk pin set {name})", "尚未设置技术人员密码")
        locks = read_json(d / "pin-lock.json", {}) or {}
        rec = dict(locks.get(name) or {})
        t = now()
        rem, went_back = _remaining(rec, t, lockout)
        if went_back:  # restart the lock from the (set back) clock
            rec.update(locked_at=t, locked_until=t + lockout)
            atomic_write_json(d / "pin-lock.json", {**locks, name: rec})
        if rem > 0:
            raise PinLocked(rem)
        if rec.get("locked_until"):  # a lock that has run out: a fresh set of tries
            rec = {}
        rec["failures"] = int(rec.get("failures", 0)) + 1
        if rec["failures"] >= MAX_TRIES:
            rec.update(locked_at=t, locked_until=t + lockout)
        atomic_write_json(d / "pin-lock.json", {**locks, name: rec})  # count first, durably
        p = pins[name]
        ok = hmac.compare_digest(_hash(pin, bytes.fromhex(p["salt"]), p["n"], p["r"], p["p"]), bytes.fromhex(p["hash"]))
        if ok:
            locks.pop(name, None)
            atomic_write_json(d / "pin-lock.json", locks)
        return ok


def set_pin(name: str, new: str, current: str | None = None, home: Path | None = None,
            now: Callable[[], float] = time.time) -> None:
    """Set ``name``'s PIN. When one is set, ``current`` must be right (a wrong one counts
    as a wrong try).

    Raises:
        PinError: bad format or wrong current PIN. PinLocked.
    """
    _check_name(name)
    if not valid_format(new):
        raise PinError("a PIN is 6 to 12 digits", "密码须为6至12位数字")
    d = _dir(home)
    if is_set(name, home):
        if current is None or not check(name, current, home, now):
            raise PinError(f"the current {name} PIN is wrong", "原密码错误")
    salt = os.urandom(16)
    with _lock, writing(d.parent):
        d.mkdir(parents=True, exist_ok=True)
        pins = read_json(d / "pins.json", {}) or {}
        pins[name] = {"algo": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": _hash(new, salt, **SCRYPT).hex(),
                      "set_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now()))}
        atomic_write_json(d / "pins.json", pins)


def tries_left(name: str, home: Path | None = None) -> int:
    """Wrong tries left before ``name`` locks (0: locked now)."""
    _check_name(name)
    rec = (read_json(_dir(home) / "pin-lock.json", {}) or {}).get(name) or {}
    return max(0, MAX_TRIES - int(rec.get("failures", 0)))


def require(name: str, pin: str, home: Path | None = None) -> None:
    """:func:`check` that raises :class:`PinError` on a wrong PIN (for commands)."""
    if not check(name, pin, home):
        left = tries_left(name, home)
        if left <= 0:
            raise PinError(f"wrong {name} PIN; now locked", "密码错误，已锁定")
        raise PinError(f"wrong {name} PIN ({left} tries left)", f"密码错误（还可尝试{left}次）")
