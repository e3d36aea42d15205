"""The technician PIN: salted scrypt hash, 5 wrong tries lock it for 5 minutes, and the lock
survives a power cycle.

Files (``KIOSK_HOME/trust/``, mode 0600: only the kiosk's user may read the hashes — at
~44 ms per guess all 10⁶ six-digit PINs fall in hours to anyone who can read them):

* ``pins.json`` — ``{"technician": {"algo": "scrypt", "n", "r", "p", "salt": hex, "hash": hex, "set_at"}}``
* ``pin-lock.json`` — ``{"technician": {"failures": int, "locked_at": epoch s, "locked_until": epoch s}}``

Both are written atomically (temp file, fsync, rename, fsync dir). A try is counted *before*
the PIN is compared, under an exclusive ``flock`` of the ``trust/`` folder, so parallel tries
(several processes, several threads) are counted one by one and never more than
:data:`MAX_TRIES` are compared before the lock. Cutting the power after seeing "wrong" does
not undo the count. The lock-out lasts ``timeouts.technician_pin_lockout`` seconds, never
less than :data:`MIN_LOCKOUT` (a ``config.json`` that sets 0 or a negative number cannot
switch it off). If the clock is found set back before ``locked_at``, the lock restarts from
now (a clock moved back must not lengthen or shorten it without bound; a clock moved
forward can shorten it — the kiosk's clock is assumed NTP-disciplined or at least not under
the attacker's control, see docs/bundle-format.md).

A PIN set without the current one on a kiosk whose records say a PIN was set before (the
file was deleted) is a *reset*: it is recorded beside the high-water mark
(:mod:`kiosk.cache.trustlog`) and shown until a county-signed key list confirms it.

UI::

    try:
        ok = pin.check("technician", entered)        # bool
    except pin.PinLocked as e:
        show(e.message_zh)                           # e.seconds: seconds remaining
"""
from __future__ import annotations

import fcntl
import hashlib
import hmac
import os
import stat
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

from kiosk import config
from kiosk.cache import highwater
from kiosk.cache.fsutil import atomic_write_json, read_json, writing
from kiosk.errors import Exit, KioskError

NAMES = ("technician",)
MAX_TRIES = 5
#: seconds; the shortest lock-out config.json can ask for (0 or less would switch it off)
MIN_LOCKOUT = 60
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1}
FILE_MODE = 0o600
_lock = threading.Lock()  # flock is per open file description: threads of one process need this too


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


@contextmanager
def _counting(d: Path) -> Iterator[None]:
    """Exclusive lock for reading, counting and writing a try (threads and processes).
    Locks the ``trust/`` folder itself, so no lock file is needed (and a read-only disk
    still says "cannot write" at the count, not here)."""
    with _lock:
        fd = os.open(str(d), os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the flock


def _private(d: Path) -> None:
    """Give PIN files written by older versions (0644) mode 0600; ignore a read-only disk."""
    for f in ("pins.json", "pin-lock.json"):
        try:
            if stat.S_IMODE(os.stat(d / f).st_mode) != FILE_MODE:
                os.chmod(d / f, FILE_MODE)
        except OSError:
            pass


def _pins(d: Path) -> dict:
    """pins.json as a dict ({} when missing).

    Raises:
        PinError: the file is damaged (delete it to set a new PIN; the reset is recorded).
    """
    try:
        pins = read_json(d / "pins.json", {})
    except (ValueError, OSError):
        pins = None
    if not isinstance(pins, dict) or not all(isinstance(v, dict) for v in pins.values()):
        raise PinError(f"{d / 'pins.json'} is damaged; delete it and set a new PIN (the reset is recorded)",
                       "技术人员密码文件已损坏，请删除后重新设置（重设会被记录）")
    return pins


def _locks(d: Path) -> dict:
    try:
        locks = read_json(d / "pin-lock.json", {})
    except (ValueError, OSError):
        locks = None
    if not isinstance(locks, dict):
        # a damaged count file does not give a fresh set of tries: one try is left
        return {n: {"failures": MAX_TRIES - 1} for n in NAMES}
    return locks


def _hash(pin: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(pin.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=64 * 1024 * 1024)


def valid_format(pin: str) -> bool:
    return 6 <= len(pin) <= 12 and pin.isascii() and pin.isdigit()


def is_set(name: str, home: Path | None = None) -> bool:
    """True when ``name``'s PIN is set (also when its file is damaged: a damaged file never
    makes the kiosk look as if no PIN was set)."""
    _check_name(name)
    try:
        return name in _pins(_dir(home))
    except PinError:
        return True


def seconds_locked(name: str, home: Path | None = None, now: Callable[[], float] = time.time) -> int:
    """Seconds until ``name`` may be tried again (0: not locked)."""
    _check_name(name)
    rec = _locks(_dir(home)).get(name) or {}
    return _remaining(rec if isinstance(rec, dict) else {}, now(), _lockout(home))[0]


def _lockout(home: Path | None) -> int:
    """Seconds of lock-out: the configured value, never below :data:`MIN_LOCKOUT`.

    Raises:
        ConfigError: config.json is malformed (e.g. ``"abc"``): one line, never a traceback.
    """
    return max(MIN_LOCKOUT, int(config.load(Path(home) if home else None)["timeouts"]["technician_pin_lockout"]))


def _remaining(rec: dict, t: float, lockout: int) -> tuple[int, bool]:
    """(seconds remaining, clock_went_back)."""
    until, at = rec.get("locked_until"), rec.get("locked_at")
    if not until:
        return 0, False
    num = (int, float)
    if not isinstance(until, num) or isinstance(until, bool) or (at is not None and not isinstance(at, num)):
        return lockout, True  # an edited count file: lock afresh rather than open
    if at is not None and t < at:
        return lockout, True
    # never longer than one lock-out from locked_at (a count file edited to lock for years)
    until = min(until, (at if at is not None else t) + lockout)
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
    if not d.is_dir():
        raise PinNotSet(f"no {name} PIN is set (kiosk pin set {name})", "尚未设置技术人员密码")
    with writing(d.parent), _counting(d):  # a try that cannot be counted is not compared
        _private(d)
        pins = _pins(d)
        if name not in pins:
            raise PinNotSet(f"no {name} PIN is set (kiosk pin set {name})", "尚未设置技术人员密码")
        locks = _locks(d)
        rec = dict(locks.get(name) or {}) if isinstance(locks.get(name), dict) else {}
        t = now()
        rem, went_back = _remaining(rec, t, lockout)
        if went_back:  # restart the lock from the (set back) clock
            rec.update(locked_at=t, locked_until=t + lockout)
            atomic_write_json(d / "pin-lock.json", {**locks, name: rec}, FILE_MODE)
        if rem > 0:
            raise PinLocked(rem)
        if rec.get("locked_until"):  # a lock that has run out: a fresh set of tries
            rec = {}
        failures = rec.get("failures", 0)
        rec["failures"] = (failures if isinstance(failures, int) and failures >= 0 else MAX_TRIES) + 1
        if rec["failures"] >= MAX_TRIES:
            rec.update(locked_at=t, locked_until=t + lockout)
        atomic_write_json(d / "pin-lock.json", {**locks, name: rec}, FILE_MODE)  # count first, durably
        p = pins[name]
        try:
            ok = hmac.compare_digest(_hash(pin, bytes.fromhex(p["salt"]), p["n"], p["r"], p["p"]),
                                     bytes.fromhex(p["hash"]))
        except (KeyError, TypeError, ValueError):
            raise PinError(f"{d / 'pins.json'} is damaged; delete it and set a new PIN (the reset is recorded)",
                           "技术人员密码文件已损坏，请删除后重新设置（重设会被记录）") from None
        if ok:
            locks.pop(name, None)
            atomic_write_json(d / "pin-lock.json", locks, FILE_MODE)
            _record_pin_set(d.parent, name, p.get("set_at"))  # a kiosk set up before this record existed
        return ok


def _record_pin_set(home: Path, name: str, set_at: str | None) -> None:
    """Note beside the high-water mark that ``name``'s PIN exists (so deleting pins.json
    and setting a new one is recognised as a reset). No write when already noted."""
    try:
        if name not in (highwater.read(home).get("pins") or {}):
            highwater.record_pin(home, name, set_at, reset=False)
    except (OSError, KioskError):
        pass  # the check itself succeeded; the note is written at the next chance


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
    home_dir = d.parent
    with writing(home_dir):
        d.mkdir(parents=True, exist_ok=True)
        with _counting(d):
            pins = _pins(d)
            # set without the current PIN although one was set before: a reset (pins.json deleted)
            reset = current is None and name in (highwater.read(home_dir).get("pins") or {})
            when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now()))
            pins[name] = {"algo": "scrypt", **SCRYPT, "salt": salt.hex(), "hash": _hash(new, salt, **SCRYPT).hex(),
                          "set_at": when}
            if reset:  # recorded first: a power cut never leaves a new PIN without its record
                highwater.record_pin(home_dir, name, when, reset=True)
            atomic_write_json(d / "pins.json", pins, FILE_MODE)
            if not reset:
                highwater.record_pin(home_dir, name, when, reset=False)


def tries_left(name: str, home: Path | None = None) -> int:
    """Wrong tries left before ``name`` locks (0: locked now)."""
    _check_name(name)
    rec = _locks(_dir(home)).get(name)
    failures = (rec if isinstance(rec, dict) else {}).get("failures", 0)
    return max(0, MAX_TRIES - (failures if isinstance(failures, int) and failures >= 0 else MAX_TRIES))


def require(name: str, pin: str, home: Path | None = None) -> None:
    """:func:`check` that raises :class:`PinError` on a wrong PIN (for commands)."""
    if not check(name, pin, home):
        left = tries_left(name, home)
        if left <= 0:
            raise PinError(f"wrong {name} PIN; now locked", "密码错误，已锁定")
        raise PinError(f"wrong {name} PIN ({left} {'try' if left == 1 else 'tries'} left)", f"密码错误（还可尝试{left}次）")
