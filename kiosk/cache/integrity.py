"""Re-hash the installed version against its manifest; fall back to last known good.

When: at every app start (in the background, so never delaying start-up; an unclean
shutdown is recorded too) and then every ``timeouts.integrity_recheck_interval`` seconds
(default a day; ``config.json`` may set it). What: every file of the version shown is re-hashed (SHA-256, size, layout) and
its manifest compared with the full SHA-256 recorded at install (``state.json``
``manifests``), or, when none was recorded, its signature checked against the trusted keys.

Before that, ``state.json`` itself is checked (:func:`kiosk.cache.install.state_check`): if it
is missing or unreadable on a kiosk that had data, it is rebuilt from the re-verified version
folders (status ``repaired``, with a banner); the trusted keys are compared with the record
kept beside the high-water mark (status ``keys_changed``).

If the version shown no longer matches, the kiosk switches to the last known good version
(itself re-checked first), writes a banner into state.json — ``MirrorInfo.banner`` shows it
on every screen — and moves the damaged copy to ``mirror/quarantine/`` for inspection.
``highest_seq`` is kept, so the older version is never shown silently and a re-import of
anything older is still refused (the exact bundle of ``highest_seq`` may be re-imported:
a repair).

The kiosk runs this through kiosk.services.integrity (events on the service bus)::

    mon = integrity.start_background_checks(home, on_result=report)
    ...
    mon.stop()              # at clean exit: clears the run marker

The callbacks run in the checker thread.
"""
from __future__ import annotations

import base64
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from kiosk import config
from kiosk.cache import highwater
from kiosk.cache import install as I
from kiosk.cache.clock import SYSTEM, Clock, parse_utc
from kiosk.cache.fsutil import HomeNotWritable, atomic_write_bytes, atomic_write_json, fsync_dir, read_json, writing
from kiosk.cache.keys import TrustStore, keys_problem
from kiosk.cache.keys import raw_public as keys_raw

log = logging.getLogger("kiosk.cache.integrity")
VERSION_NAME = I.VERSION_NAME
verify_version = I.verify_version  # moved to install (state reconstruction needs it); kept here for callers


@dataclass(frozen=True)
class CheckResult:
    """Outcome of :func:`recheck`.

    status: ``ok`` | ``fallback`` (switched to last known good) | ``no_trusted_version``
    (current failed and nothing good is left: nothing is shown) | ``no_data`` (nothing
    shown since an earlier failure) | ``not_installed`` | ``busy`` (an import holds the
    lock or switched meanwhile; try again later) | ``repaired`` (state.json was missing,
    unreadable or lowered and was rebuilt from the version folders) | ``keys_changed``
    (the data is intact but ``trust/keys.json`` is damaged or was replaced outside a
    rotation). ``changed`` is True only when this call switched what the kiosk shows.
    """

    status: str
    shown: str | None = None          # version dir shown after the check
    seq: int | None = None
    failed_version: str | None = None
    reason: str | None = None         # English, one line
    banner: str | None = None         # Chinese, as on screen
    checked_at: str = ""
    saved: bool = True                # False: the fallback could not be written (full or read-only disk);
                                      # it holds in memory (:func:`memory_override`) and is retried

    @property
    def changed(self) -> bool:
        return self.status in ("fallback", "no_trusted_version", "repaired")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def run_dir(home: Path) -> Path:
    return Path(home) / "run"


def _marker(home: Path) -> Path:
    return run_dir(home) / "running"


def mark_started(home: Path) -> bool:
    """Set the run marker (durably). Returns True if it was already there: the last run
    ended without :func:`mark_clean_exit` (power cut, crash, kill)."""
    run_dir(home).mkdir(parents=True, exist_ok=True)
    unclean = _marker(home).exists()
    atomic_write_bytes(_marker(home), json.dumps({"pid": os.getpid(),
                                                  "started_at": I.now_iso()}).encode())
    return unclean


def mark_clean_exit(home: Path) -> None:
    try:
        _marker(home).unlink()
        fsync_dir(run_dir(home))
    except FileNotFoundError:
        pass
    except OSError as exc:  # a read-only KIOSK_HOME: the next start re-checks, which is only slower
        log.warning("cannot mark a clean exit: %s", exc)


def _check_file(home: Path) -> Path:
    return run_dir(home) / "integrity.json"


def last_check(home: Path) -> dict[str, Any] | None:
    try:
        return read_json(_check_file(home), None)
    except ValueError:
        return None


_seq = I.seq_of


def fallback_banner(shown_seq: int | None, failed_seq: int | None) -> str:
    if shown_seq is None:
        return f"第{failed_seq}版数据校验失败，且没有可用的上一可信版本，暂停显示，请联系技术人员"
    return f"正在显示第{shown_seq}版（上一可信版本）：第{failed_seq}版数据校验失败，请联系技术人员"


def _record(home: Path, res: CheckResult) -> None:
    try:
        with writing(home):
            run_dir(home).mkdir(parents=True, exist_ok=True)
            atomic_write_json(_check_file(home), res.as_dict())
    except (OSError, I.KioskError):
        pass  # a full or read-only disk: the result is still returned; only "when last checked" is lost


# ---------------------------------------------------------------- a fallback that cannot be written
#
# Why in memory: on a full (or read-only) disk the fallback cannot be written into
# state.json, which still names the damaged version. The process that found the damage
# then decides what the screens show — the last known good version, or nothing — and
# :func:`kiosk.cache.mirror.assess` asks here before it believes state.json. The decision
# lasts while state.json still names the damaged version; the monitor retries the write.

@dataclass(frozen=True)
class Override:
    failed: str              # the damaged version state.json still names
    shown: str | None        # what to show instead (None: nothing)
    banner: str
    at: str


_memory: dict[str, Override] = {}
_memory_lock = threading.Lock()
UNSAVED_ZH = "（终端存储空间已满或无法写入，本次结果未能记录）"


def memory_override(home: Path) -> Override | None:
    """The fallback decided in memory for ``home`` while it cannot be written, or None."""
    with _memory_lock:
        return _memory.get(str(Path(home).resolve()))


def _remember(home: Path, o: Override | None) -> None:
    with _memory_lock:
        if o is None:
            _memory.pop(str(Path(home).resolve()), None)
        else:
            _memory[str(Path(home).resolve())] = o


def _sync_records(home: Path, state: dict[str, Any]) -> None:
    """Copy a healthy state's high-water mark into the high-water files (a crash between the
    two writes of an install leaves state.json ahead) and record the trusted keys once on a
    kiosk set up before that record existed."""
    try:
        with writing(home):
            highwater.raise_to(home, int(state.get("highest_seq", 0)), state.get("highest_manifest_sha256"),
                               state.get("newest_issued_at"), state.get("scope"))
            hw = highwater.read(home)
            rec = hw["keys"]
            if rec is None or not isinstance(rec.get("public_keys"), dict):
                # a kiosk set up before the record (or before it held the public keys): record
                # the trusted keys as they are, when keys.json agrees with the ids recorded
                store = TrustStore(home)
                have = store.keys()
                if have and (rec is None or sorted(rec.get("ids") or []) == sorted(k.key_id for k in have)):
                    highwater.record_keys(home, [k.key_id for k in have], store.keylist_seq(), "recorded at check",
                                          public_keys={k.key_id: base64.b64encode(keys_raw(k.public_key)).decode()
                                                       for k in have})
            if not hw["versions"] and state.get("manifests"):
                highwater.record_versions(home, state["manifests"])  # installed before this record existed
    except (OSError, I.KioskError):
        pass  # a full or read-only disk: the records are written at a later check


def recheck(home: Path, clock: Clock | None = None, remember: bool = False) -> CheckResult:
    """Check state.json, re-hash the version shown, compare the trusted keys with their
    record; on a damaged version switch to last known good (see module doc).

    Slow (reads the whole database) — run it off the UI thread. Never raises for damaged
    data; returns a :class:`CheckResult`.

    ``remember`` (the app's monitor): when the fallback cannot be written (a full or
    read-only disk), decide in memory what the screens show (:func:`memory_override`) and
    return the result with ``saved=False`` instead of raising.

    Raises:
        ConfigError: config.json cannot be read (nothing is checked or changed).
        HomeNotWritable, DiskFull: without ``remember``, a fallback or repair had to be
            written and KIOSK_HOME is read-only or full.
    """
    # config.json is read inside the check (its time limits): read it first, so a typo there
    # raises ConfigError here and is never taken for damaged data (which would be set aside)
    config.load(Path(home))
    clock = clock or SYSTEM
    home = Path(home)
    when = I.now_iso(clock)
    state, problem = I.state_check(home)
    if problem:
        try:
            with I.import_lock(home):
                state, problem = I.state_check(home)
                if problem:
                    state = I.reconstruct(home, problem, clock)
        except I.ImportBusy:
            return CheckResult("busy", None, None, None, problem, None, when)
        if problem:
            cur = state.get("current")
            res = CheckResult("repaired", cur, _seq(cur), None, problem, state.get("banner"), when)
            _record(home, res)
            return res
    cur = state.get("current")
    if not cur:
        failed = state.get("failed") or {}
        return CheckResult("no_data" if failed else "not_installed", None, None, failed.get("version"),
                           failed.get("reason"), state.get("banner"), when)
    reason = verify_version(home, cur, state)  # hashing outside the lock: imports are not held up
    if reason is None:
        _remember(home, None)
        _sync_records(home, state)
        kp = keys_problem(home)
        if kp:
            res = CheckResult("keys_changed", cur, _seq(cur), None, kp[0], kp[1], when)
        else:
            res = CheckResult("ok", cur, _seq(cur), None, None, None, when)
        _record(home, res)
        return res
    shown: str | None = None
    banner = ""
    try:
        with I.import_lock(home), writing(home):
            state = I.read_state(home)
            if state.get("current") != cur:  # an import or another check switched meanwhile
                return CheckResult("busy", state.get("current"), _seq(state.get("current")), checked_at=when)
            lkg = state.get("last_known_good")
            lkg_reason = verify_version(home, lkg, state) if lkg else "no last known good version"
            shown = lkg if lkg_reason is None else None
            banner = fallback_banner(_seq(shown), _seq(cur))
            failed = {"version": cur, "seq": _seq(cur), "reason": reason, "at": when,
                      "last_known_good_reason": lkg_reason}
            new_state = {**state, "current": shown, "last_known_good": None, "banner": banner, "failed": failed,
                         "manifests": {k: v for k, v in (state.get("manifests") or {}).items() if k == shown},
                         "history": I.add_history(state, {"event": "fallback", "at": when, "from": cur, "to": shown,
                                                          "reason": reason})}
            try:
                I.write_state(home, new_state)  # the switch; then move the damaged copies aside
            except (OSError, I.KioskError):
                if not remember:
                    raise
                # nothing could be written: the screens follow this decision from memory
                _remember(home, Override(cur, shown, banner + UNSAVED_ZH, when))
                return CheckResult("fallback" if shown else "no_trusted_version", shown, _seq(shown), cur, reason,
                                   banner + UNSAVED_ZH, when, saved=False)
            _remember(home, None)
            highwater.record_versions(home, new_state["manifests"])
            # quarantine/ is kept (evidence, and the seq in its folder names is a high-water record)
            qdir = I.mirror_dir(home) / "quarantine"
            qdir.mkdir(exist_ok=True)
            for name in {cur, lkg} - {shown, None}:
                src = I.mirror_dir(home) / "versions" / name
                if src.exists():
                    I.make_writable_dirs(qdir / name)
                    I.remove_tree(qdir / name)
                    os.replace(src, qdir / name)
            fsync_dir(I.mirror_dir(home) / "versions")
            fsync_dir(I.mirror_dir(home))
    except I.ImportBusy:
        return CheckResult("busy", cur, _seq(cur), cur, reason, None, when)
    res = CheckResult("fallback" if shown else "no_trusted_version", shown, _seq(shown), cur, reason, banner, when)
    _record(home, res)
    return res


def due(home: Path, interval: float, clock: Clock | None = None) -> bool:
    """True when the last completed check is older than ``interval`` seconds (or unknown,
    or in the future: a clock set back must not postpone checks forever)."""
    last = last_check(home)
    if not last or not last.get("checked_at"):
        return True
    try:
        age = ((clock or SYSTEM).now() - parse_utc(last["checked_at"])).total_seconds()
    except ValueError:
        return True
    return age >= interval or age < 0


class IntegrityMonitor:
    """Background thread: clean leftovers, re-check when due, report changes."""

    RETRY_BUSY = 60.0

    def __init__(self, home: Path, on_change: Callable[[CheckResult], None] | None, interval: float,
                 unclean: bool, clock: Clock | None = None,
                 on_result: Callable[[CheckResult], None] | None = None):
        self.home, self.on_change, self.interval, self.unclean = Path(home), on_change, interval, unclean
        self.on_result = on_result
        self.clock = clock or SYSTEM
        self.results: list[CheckResult] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="kiosk-integrity", daemon=True)

    def start(self) -> "IntegrityMonitor":
        self._thread.start()
        return self

    def check_now(self) -> None:
        """Ask the worker to re-check at once (e.g. from a technician screen)."""
        self._wake.set()

    def _run(self) -> None:
        try:
            I.cleanup(self.home)
        except Exception:  # noqa: BLE001 - e.g. a read-only or full KIOSK_HOME: the check below still runs
            pass
        force = True  # every start re-hashes (in this thread: start-up is never delayed)
        reported: tuple | None = None
        while not self._stop.is_set():
            wait = self.interval
            if force or due(self.home, self.interval, self.clock):
                try:
                    res = recheck(self.home, self.clock, remember=True)
                except Exception as exc:  # noqa: BLE001 - the check must never stop: report, retry later
                    msg = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
                    res = CheckResult("busy", None, None, None, msg, getattr(exc, "message_zh", None),
                                      I.now_iso(self.clock))
                self.results.append(res)
                if self.on_result:
                    try:
                        self.on_result(res)
                    except Exception:  # noqa: BLE001 - the app's callback must not end the checks
                        pass
                if res.status == "busy" or not res.saved:
                    wait = self.RETRY_BUSY  # until the fallback could be written
                else:
                    force = False
                key = (res.status, res.shown, res.failed_version, res.saved)
                if res.changed and self.on_change and key != reported:
                    reported = key
                    try:
                        self.on_change(res)
                    except Exception:  # noqa: BLE001 - the app's callback must not end the checks
                        pass
            self._wake.wait(wait)
            if self._wake.is_set():
                self._wake.clear()
                force = True

    def stop(self, clean_exit: bool = True, timeout: float = 5.0) -> None:
        """Stop the worker; with ``clean_exit`` clear the run marker (call at clean app exit)."""
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if clean_exit:
            mark_clean_exit(self.home)


def start_background_checks(home: Path, on_change: Callable[[CheckResult], None] | None = None,
                            interval: float | None = None, clock: Clock | None = None,
                            on_result: Callable[[CheckResult], None] | None = None) -> IntegrityMonitor:
    """Set the run marker and start the checker thread; returns at once.

    ``on_result(result)`` follows every check, ``on_change(result)`` only a check that
    changed what may be shown; both run in the checker thread.

    A re-check runs at once in the worker (every start, clean or not), then whenever the
    last check is older than ``interval`` seconds (default
    ``timeouts.integrity_recheck_interval`` from config).
    """
    if interval is None:
        interval = float(config.load(Path(home))["timeouts"]["integrity_recheck_interval"])
    try:
        unclean = mark_started(Path(home))
    except OSError:  # a read-only KIOSK_HOME must not stop the kiosk from showing data
        unclean = False
    return IntegrityMonitor(home, on_change, interval, unclean, clock, on_result).start()


def status_line(home: Path) -> str | None:
    """The Chinese line to show when nothing can be shown (no trusted version left, state
    damaged, the shown version unreadable), else None (also when simply nothing was ever
    installed)."""
    from kiosk.cache.mirror import assess

    m, line = assess(home)
    if m is not None:
        m.close()
        return None
    return line
