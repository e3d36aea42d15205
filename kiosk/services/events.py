"""Every event a service reports, as frozen dataclasses (no Kivy, no heavy imports).

Subscribe with ``bus.subscribe(CardPresented, handler)``; subscribe to a base class
(:class:`Event`, or e.g. :class:`ImportEvent`) to receive all its kinds. Events carry what
the App needs to decide and to show; the Chinese lines (``message_zh``) are ready for
the screen. Personal data: :class:`CardPresented` is the only event that carries a full ID
number, and its ``repr`` hides it, so logging an event never leaks one.

Each service owns one section below; add a service's events to its own section.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: importing these at run time would slow the App's start
    from kiosk.cache.mirror import MirrorInfo
    from kiosk.devices.idcard.text import IdCard


@dataclass(frozen=True)
class Event:
    """Base of every event."""


# ---- data (kiosk.services.data) -------------------------------------------------------------
@dataclass(frozen=True)
class DataShown(Event):
    """What the kiosk shows changed: ``info`` is the version now open, or None (尚无数据:
    nothing installed, or nothing trusted is left; ``reason_zh`` then says why, if known)."""

    info: "MirrorInfo | None"
    reason_zh: str = ""


@dataclass(frozen=True)
class VillageChosen(Event):
    """A township or county kiosk chose one village (``info.village_code`` has 12 digits:
    every section shows that village) or went back to its village picker (``换村``)."""

    info: "MirrorInfo"


@dataclass(frozen=True)
class DataVersionChanged(Event):
    """A newer (or fallback) version is installed and ready to switch to; the App switches
    with ``DataService.switch()`` when nobody is in the middle of something (首页, idle)."""

    seq: int
    fingerprint: str


@dataclass(frozen=True)
class DataJobFailed(Event):
    """A query failed unexpectedly (logged); the screen stays usable."""

    message_zh: str = "读取数据时出错，请联系工作人员"


# ---- updates (kiosk.services.updates) -------------------------------------------------------
@dataclass(frozen=True)
class ImportEvent(Event):
    """Base of the stick-import and sync events."""


@dataclass(frozen=True)
class StickFound(ImportEvent):
    """A stick was plugged in; it is being mounted and searched (nothing written yet)."""

    devnode: str


@dataclass(frozen=True)
class ImportOffered(ImportEvent):
    """The stick holds a newer bundle for this kiosk: ask the technician PIN, then call
    ``UpdateService.stick_install()``. ``plan``: kiosk.cache.stickimport.Plan.
    ``app_root``: the stick also carries app packages; it stays mounted here for
    ``AppUpdateService.look(app_root)`` (None: no app package on the stick)."""

    plan: Any
    app_root: Any = None


@dataclass(frozen=True)
class ImportProgress(ImportEvent):
    """Progress of a stick import or a sync. ``source``: ``stick`` | ``sync``; ``phase``:
    ``download`` | ``copy`` | ``verify``; ``text``: "42% · 18.5 MB/s · 还需约 12 秒"."""

    source: str
    phase: str
    percent: int
    text: str
    done: int
    total: int


@dataclass(frozen=True)
class ImportDone(ImportEvent):
    """A stick import finished. ``report``: old → new version (kiosk.cache.stickimport.Report);
    ``safe_to_remove``: the stick is unmounted."""

    report: Any
    safe_to_remove: bool


@dataclass(frozen=True)
class ImportRefused(ImportEvent):
    """A stick import was refused or failed; nothing changed. ``message_zh``: one line for
    the screen; ``message``: English, for the log. ``app_root``: as in
    :class:`ImportOffered` (the stick stays mounted for its app packages, so
    ``safe_to_remove`` is False); ``no_bundle``: the stick holds no bundle folder at all
    (an app-only stick: nothing to say about data)."""

    message_zh: str
    message: str = ""
    safe_to_remove: bool = True
    app_root: Any = None
    no_bundle: bool = False


@dataclass(frozen=True)
class StickRemoved(ImportEvent):
    devnode: str | None


@dataclass(frozen=True)
class SyncStarted(ImportEvent):
    pass


@dataclass(frozen=True)
class SyncDone(ImportEvent):
    """A sync ended. ``record``: what kiosk.services.updates.record_sync stored (``ok``,
    ``status``, ``message_zh``, ...); ``installed``: a new version was installed."""

    record: dict = field(hash=False)
    installed: bool = False


# ---- ID-card reader (kiosk.services.card) -----------------------------------------------------
@dataclass(frozen=True)
class CardPresented(Event):
    """A resident ID card was read. ``card`` holds the full ID number: hand it to the
    holder lookup and drop it; never log or keep it."""

    card: "IdCard" = field(repr=False)


@dataclass(frozen=True)
class CardRemoved(Event):
    """The card left the reader (or the reader went away with it)."""


@dataclass(frozen=True)
class CardRefused(Event):
    """A card could not be used (another card type, unreadable, moved mid-read)."""

    message_zh: str


@dataclass(frozen=True)
class ReaderLost(Event):
    message_zh: str = "身份证读卡器未连接或已断开，请联系工作人员"


@dataclass(frozen=True)
class ReaderFound(Event):
    pass


@dataclass(frozen=True)
class ReaderChecked(Event):
    """The answer to ``CardService.check()`` (设备状态 in the technician menu). ``state``:
    ``found`` | ``missing`` | ``error``; ``message_zh``: one plain line for the technician."""

    state: str
    message_zh: str


# ---- printer (kiosk.services.printer) ---------------------------------------------------------
@dataclass(frozen=True)
class PrintDone(Event):
    """Job ``job`` printed. ``result``: kiosk.devices.printer.job.PrintResult."""

    job: int
    result: Any = field(repr=False, default=None)
    message_zh: str = "打印完成，请取走小票"


@dataclass(frozen=True)
class PrintFailed(Event):
    """Job ``job`` did not print. ``retryable``: ``PrinterService.retry(job)`` may succeed
    once staff fixed the fault (paper out, cover open)."""

    job: int
    message_zh: str
    retryable: bool = False
    result: Any = field(repr=False, default=None)


@dataclass(frozen=True)
class PrinterChecked(Event):
    """The answer to ``PrinterService.check()`` (设备状态 in the technician menu). ``state``:
    ``found`` | ``missing`` | ``error``; ``message_zh``: one plain line for the technician."""

    state: str
    message_zh: str


# ---- integrity (kiosk.services.integrity) -----------------------------------------------------
@dataclass(frozen=True)
class IntegrityChecked(Event):
    """A re-check finished. ``result``: kiosk.cache.integrity.CheckResult."""

    result: Any


@dataclass(frozen=True)
class IntegrityProblem(Event):
    """A re-check changed what may be shown (fallback to last known good, state rebuilt,
    or nothing trusted left). ``result``: kiosk.cache.integrity.CheckResult."""

    result: Any


@dataclass(frozen=True)
class TrustNotice(Event):
    """The answer to ``IntegrityService.read_trust_notice()``: the public footer's lasting
    line while a PIN reset or a PIN-based key or scope change is not yet confirmed by a
    county-signed key list (:func:`kiosk.cache.trustlog.public_notice`), else ``""``."""

    text: str = ""


# ---- technician PIN (kiosk.services.pin) -----------------------------------------------------
@dataclass(frozen=True)
class PinChecked(Event):
    """The answer to ``PinService.check(name, pin, request)``. ``ok``; otherwise
    ``message_zh`` says why (wrong, with the tries left; locked, with the time left; not set)."""

    name: str
    request: int
    ok: bool
    message_zh: str = ""
    tries_left: int | None = None
    locked_seconds: int = 0


# ---- speech (kiosk.services.speech) -----------------------------------------------------------
@dataclass(frozen=True)
class SpeechEvent(Event):
    """Base of the speech events. ``utterance``: the number ``SpeechService.speak`` returned
    (rising; a player drops anything of an older utterance than the newest it has seen)."""

    utterance: int


@dataclass(frozen=True)
class SpeechChunkReady(SpeechEvent):
    """Chunk ``index`` of an utterance is synthesised: play the WAV at ``path`` (16-bit mono)
    after the chunks before it, at ``volume`` (0–1). ``last``: no more chunks follow.
    ``spoken``: the Chinese it says (for a caption or the log)."""

    index: int
    path: str
    duration_s: float
    volume: float
    last: bool
    spoken: str = ""


@dataclass(frozen=True)
class SpeechStopped(SpeechEvent):
    """Stop playing the utterance now (``SpeechService.stop()``: navigation, a second tap,
    idle, card removed). Chunks of it that arrive later are dropped."""


@dataclass(frozen=True)
class SpeechSkipped(Event):
    """Nothing is read: quiet hours, speech switched off in the config, or nothing sayable.
    ``message_zh`` may be shown briefly (empty: show nothing)."""

    message_zh: str = ""


@dataclass(frozen=True)
class SpeechFailed(SpeechEvent):
    """Synthesis failed (espeak-ng missing or broken; logged). ``message_zh`` for the screen."""

    message_zh: str = "朗读功能暂不可用，请联系技术人员"
    message: str = ""


# ---- screen blanking (kiosk.services.display) -------------------------------------------------
@dataclass(frozen=True)
class ScreenBlankingSet(Event):
    """Office hours began or ended: ``office_open`` (no blanking) or not (the screen blanks
    after ``timeouts.night_blank_after`` untouched); ``ok``: X accepted every setting."""

    office_open: bool
    ok: bool = True


# ---- the app's own software (kiosk.services.appupdate, watchdog) ------------------------------
@dataclass(frozen=True)
class AppUpdateEvent(Event):
    """Base of the app-update events (kiosk.services.appupdate)."""


@dataclass(frozen=True)
class AppUpdateOffered(AppUpdateEvent):
    """The stick holds a newer app package for this kiosk, signed by a trusted app key.
    Show ``current_version`` → ``new_version``, ask the technician PIN, then call
    ``AppUpdateService.install(offer)``. ``package``: its folder on the stick."""

    current_version: str
    new_version: str
    package: Any = field(repr=False, default=None)


@dataclass(frozen=True)
class AppUpdateProgress(AppUpdateEvent):
    """``phase``: ``copy`` (from the stick, ``percent`` of bytes) | ``install`` (the root
    helper builds and checks the new version; no percent, ``text`` says to wait)."""

    phase: str
    percent: int
    text: str


@dataclass(frozen=True)
class AppUpdateRefused(AppUpdateEvent):
    """Refused or failed; the software is unchanged. ``message_zh`` for the screen
    (tampered, older, unknown key, another machine, failed before, disk full, …)."""

    message_zh: str
    message: str = ""


@dataclass(frozen=True)
class AppUpdateSwitching(AppUpdateEvent):
    """The new version is installed and switched to; systemd restarts the app now and the
    health check decides. Show "正在启用新版本…"; the stick may be pulled."""

    old_version: str
    new_version: str


@dataclass(frozen=True)
class AppRolledBack(AppUpdateEvent):
    """Published once at start after an automatic rollback: ``failed_version`` did not
    come up; ``running_version`` runs again. For the technician screen."""

    failed_version: str
    running_version: str
    message_zh: str

