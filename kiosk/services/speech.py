"""朗读: read a screen's text aloud, off the UI thread (kiosk.speech does the work).

``speak(text)`` returns at once. A thread of this service normalises the text, cuts it into
short chunks (the first one shortest), synthesises each with espeak-ng into a WAV in a
private temporary folder (reused when the same chunk is read again) and publishes a
:class:`~kiosk.services.events.SpeechChunkReady` per chunk; the App's player
(``kiosk/screens/speaker.py``) plays them in order. ``cancel()`` stops it: the espeak-ng
process is killed, no further chunk is published and :class:`SpeechStopped` tells the player
to stop now. Quiet hours lower the volume or, at ``quiet_volume`` 0, refuse with
:class:`SpeechSkipped`.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import logging
import shutil
import subprocess
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any, Callable

from kiosk import config as _config
from kiosk.services.base import Service
from kiosk.services.bus import EventBus
from kiosk.services.events import SpeechChunkReady, SpeechFailed, SpeechSkipped, SpeechStopped

log = logging.getLogger("kiosk.services.speech")


def parse_quiet_hours(value: Any) -> list[tuple[_dt.time, _dt.time]]:
    """``[["22:00", "07:00"], ...]`` → time pairs.

    Raises:
        ValueError: not a list of ``[start, end]`` pairs of ``HH:MM``.
    """
    out = []
    for pair in value or []:
        if not (isinstance(pair, (list, tuple)) and len(pair) == 2):
            raise ValueError(f"quiet_hours: not a [start, end] pair: {pair!r}")
        out.append(tuple(_dt.time.fromisoformat(str(t)) for t in pair))
    return out  # type: ignore[return-value]


def in_quiet_hours(now: _dt.time, ranges: list[tuple[_dt.time, _dt.time]]) -> bool:
    """Whether ``now`` falls in one of ``[start, end)``; a range whose end is not after its
    start passes midnight (22:00–07:00)."""
    for start, end in ranges:
        if start < end and start <= now < end:
            return True
        if start >= end and (now >= start or now < end):
            return True
    return False


class SpeechService(Service):
    """Reads text aloud (see the module docstring).

    Args:
        bus: where events go.
        cfg: the kiosk config (``speech`` and ``timeouts`` tables); default the defaults.
        now: the local clock (tests pass their own).
        cache_dir: where WAVs go; default a new temporary folder, removed by ``stop()``.
    """

    name = "speech"

    def __init__(self, bus: EventBus, cfg: dict | None = None,
                 now: Callable[[], _dt.datetime] = _dt.datetime.now, cache_dir: Path | None = None):
        super().__init__(bus)
        cfg = cfg or _config.DEFAULTS
        s = {**_config.DEFAULTS["speech"], **cfg.get("speech", {})}
        self.settings = s
        self.timeout = float(cfg.get("timeouts", {}).get("speech_synth", _config.TIMEOUTS["speech_synth"]))
        try:
            self.quiet = parse_quiet_hours(s.get("quiet_hours"))
        except ValueError as exc:
            log.warning("speech: ignoring quiet_hours (%s)", exc)
            self.quiet = []
        self._now = now
        self._own_cache = cache_dir is None
        self._cache_dir = cache_dir
        self._lock = threading.Lock()
        self._utterance = 0
        self._cancel = threading.Event()
        self._proc: subprocess.Popen | None = None
        self.ready = threading.Event()  # set once the pipeline is loaded (warm)

    # ---- life cycle -----------------------------------------------------------------------
    def start(self) -> None:
        """Make the cache folder and load the pipeline in the background (so the first 朗读
        does not wait for it)."""
        super().start()
        if self._cache_dir is None:
            self._cache_dir = Path(tempfile.mkdtemp(prefix="kiosk-speech-"))
        self._cache_dir.mkdir(parents=True, exist_ok=True)
        self.spawn(self._warm_up, "warm")

    def stop(self, timeout: float = 5.0) -> None:
        """Cancel any reading, end the threads, remove a temporary cache folder."""
        self.cancel()
        super().stop(timeout)
        if self._own_cache and self._cache_dir is not None:
            shutil.rmtree(self._cache_dir, ignore_errors=True)
            self._cache_dir = None

    def _warm_up(self) -> None:
        from kiosk.speech import synth
        from kiosk.speech.utterance import prepare

        try:
            chunks = prepare("朗读 1,200.00 元，2026年10月15日，513 管理费用。")
            if synth.espeak_path() and self._cache_dir is not None:
                self._wav(chunks[0].pinyin, threading.Event())  # brings espeak-ng's data into the page cache
        except Exception:  # noqa: BLE001 - warming is an optimisation; speak() reports failures
            log.exception("speech: warm-up failed")
        finally:
            self.ready.set()

    # ---- what the App calls -----------------------------------------------------------------
    def volume_now(self) -> float:
        """The volume to play at now: ``volume``, or ``quiet_volume`` in quiet hours."""
        quiet = in_quiet_hours(self._now().time().replace(second=0, microsecond=0), self.quiet)
        return float(self.settings["quiet_volume"] if quiet else self.settings["volume"])

    def speak(self, text: str) -> int | None:
        """Read ``text`` (as shown on the screen) aloud, replacing anything being read.

        Returns the utterance number its events carry, or None when nothing will be read
        (then :class:`SpeechSkipped` says why). Never blocks; never raises on any text.
        """
        if not self.settings.get("enabled", True):
            self.publish(SpeechSkipped("朗读功能已关闭"))
            return None
        volume = self.volume_now()
        if volume <= 0:
            q = "、".join(f"{a:%H:%M}—{b:%H:%M}" for a, b in self.quiet)
            self.publish(SpeechSkipped(f"现在是休息时间（{q}），不朗读"))
            return None
        with self._lock:
            self._stop_current()
            self._utterance += 1
            utterance, cancel = self._utterance, threading.Event()
            self._cancel = cancel
        self.spawn(lambda: self._read(utterance, text, volume, cancel), f"read{utterance}")
        return utterance

    def speak_fields(self, title: str, fields: list[tuple[str, str]]) -> int | None:
        """Read a screen's title, then each ``(label, value)`` in order, one sentence each, as
        :func:`kiosk.speech.normalise.field_text` says them (科目代码 and 指纹 not read, phone
        numbers and 凭证号 digit by digit). Same return as :meth:`speak`."""
        from kiosk.speech.normalise import field_text

        parts = [title.strip()] + [field_text(k, str(v)) for k, v in fields if v is not None]
        return self.speak("。".join(p for p in parts if p))

    def cancel(self) -> None:
        """Stop reading now (navigation, a second tap on 朗读, idle, card removed): synthesis
        ends and the player is told with :class:`SpeechStopped` (also when synthesis had
        finished and only playback goes on). Once per utterance; nothing before the first."""
        with self._lock:
            if self._stop_current():
                self.publish(SpeechStopped(self._utterance))

    @property
    def current(self) -> int:
        """The number of the newest utterance (0 before the first)."""
        return self._utterance

    # ---- work -----------------------------------------------------------------------------
    def _stop_current(self) -> bool:
        """Cancel the running utterance (lock held). True when one was running."""
        was = not self._cancel.is_set() and self._utterance > 0
        self._cancel.set()
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
        return was

    def _read(self, utterance: int, text: str, volume: float, cancel: threading.Event) -> None:
        from kiosk.speech.synth import SpeechUnavailable
        from kiosk.speech.utterance import prepare

        try:
            chunks = prepare(text, int(self.settings["first_chunk_chars"]))
            if not chunks:
                self.publish(SpeechSkipped(""))
                return
            for i, chunk in enumerate(chunks):
                if cancel.is_set():
                    return
                path, duration = self._wav(chunk.pinyin, cancel)
                if cancel.is_set():
                    return
                self.publish(SpeechChunkReady(utterance, i, str(path), duration, volume,
                                              i == len(chunks) - 1, chunk.spoken))
        except SpeechUnavailable as exc:
            if not cancel.is_set():
                log.error("speech: %s", exc.message)
                self.publish(SpeechFailed(utterance, exc.message_zh, exc.message))

    def _wav(self, pinyin: str, cancel: threading.Event) -> tuple[Path, float]:
        from kiosk.speech import synth

        s = self.settings
        voice = synth.Voice(rate=int(s["rate"]), pitch=int(s["pitch"]))
        if self._cache_dir is None:  # speak() before start(): still works
            self._cache_dir = Path(tempfile.mkdtemp(prefix="kiosk-speech-"))
        key = hashlib.sha1(f"{voice}|{pinyin}".encode()).hexdigest()[:20]
        path = self._cache_dir / f"{key}.wav"
        if not path.exists():
            def keep(proc: subprocess.Popen) -> None:
                self._proc = proc
                if cancel.is_set():
                    proc.kill()
            synth.synthesise(pinyin, path, voice, self.timeout, on_start=keep)
            self._prune(keep_path=path)
        else:
            path.touch()  # recently used: pruned last
        with wave.open(str(path), "rb") as w:
            return path, w.getnframes() / w.getframerate()

    def _prune(self, keep_path: Path) -> None:
        """Keep at most ``cache_files`` WAVs: the least recently used go first."""
        assert self._cache_dir is not None
        files = sorted(self._cache_dir.glob("*.wav"), key=lambda p: p.stat().st_mtime)
        for p in files[:max(0, len(files) - int(self.settings["cache_files"]))]:
            if p != keep_path:
                p.unlink(missing_ok=True)
