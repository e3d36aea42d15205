"""The loudspeaker: plays the speech service's WAVs with Kivy's SoundLoader (SDL2 audio).

The App owns one :class:`Speaker` (``Speaker(bus)``, after the bus delivers on the main
thread). It queues each :class:`~kiosk.services.events.SpeechChunkReady` of the newest
utterance and plays them one after another; a newer utterance replaces the older at once;
:class:`~kiosk.services.events.SpeechStopped` or :meth:`Speaker.stop` silences it.
:attr:`Speaker.speaking` is true from the first chunk until the last has played or it was
stopped: bind the 朗读 button's state to it.
"""
from __future__ import annotations

import logging
import os
import time
from collections import deque

from kivy.clock import Clock
from kivy.core.audio import SoundLoader
from kivy.event import EventDispatcher
from kivy.logger import Logger
from kivy.properties import BooleanProperty, NumericProperty

from kiosk.services.bus import EventBus
from kiosk.services.events import SpeechChunkReady, SpeechStopped

log = logging.getLogger("kiosk.speaker")


class Speaker(EventDispatcher):
    """Plays speech chunks in order (see the module docstring). Call :meth:`close` when the
    App stops."""

    #: True while an utterance is being played (or its next chunk is awaited).
    speaking = BooleanProperty(False)
    #: The utterance being played (0: none yet).
    utterance = NumericProperty(0)

    def __init__(self, bus: EventBus, **kwargs):
        super().__init__(**kwargs)
        self._queue: deque[SpeechChunkReady] = deque()
        self._sound = None
        self._stopped_upto = 0
        self._last_queued = False
        self._unsubscribe = [bus.subscribe(SpeechChunkReady, self._on_chunk),
                             bus.subscribe(SpeechStopped, self._on_stopped)]

    # ---- what the App calls -------------------------------------------------------------
    def stop(self) -> None:
        """Silence the current utterance now; its later chunks are dropped."""
        self._stopped_upto = max(self._stopped_upto, int(self.utterance))
        self._halt()

    def close(self) -> None:
        """Stop and stop listening to the bus."""
        self.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    # ---- events (main thread) ---------------------------------------------------------------
    def _on_chunk(self, e: SpeechChunkReady) -> None:
        if e.utterance <= self._stopped_upto or e.utterance < self.utterance:
            return
        if e.utterance > self.utterance:
            self._halt()
            self.utterance = e.utterance
        self._queue.append(e)
        self._last_queued = e.last
        self.speaking = True
        if self._sound is None:
            self._play_next()

    def _on_stopped(self, e: SpeechStopped) -> None:
        self._stopped_upto = max(self._stopped_upto, e.utterance)
        if e.utterance >= self.utterance:
            self._halt()

    # ---- playing ----------------------------------------------------------------------------
    def _play_next(self) -> None:
        while self._queue:
            e = self._queue.popleft()
            sound = SoundLoader.load(e.path)
            if sound is None or not sound.length:  # no audio device, or a broken file: skip it
                log.warning("speaker: cannot play %s", e.path)
                continue
            sound.volume = max(0.0, min(1.0, e.volume))
            sound.bind(on_stop=self._on_sound_stop)
            self._sound = sound
            sound.play()
            return
        self._sound = None
        if self._last_queued:
            self.speaking = False

    def _on_sound_stop(self, sound, *args) -> None:
        if sound is not self._sound:
            return
        self._sound = None
        sound.unbind(on_stop=self._on_sound_stop)
        sound.unload()
        self._play_next()

    def _halt(self) -> None:
        self._queue.clear()
        sound, self._sound = self._sound, None
        if sound is not None:
            sound.unbind(on_stop=self._on_sound_stop)
            sound.stop()
            sound.unload()
        self.speaking = False


class NoSoundDevice(RuntimeError):
    """SDL could not open an audio device (its reason is the message)."""


def play_wav(path: str, volume: float = 1.0, slack: float = 5.0) -> float:
    """Play one WAV to its end through SDL2 (the App's audio path), outside an App (``kiosk
    speak``). Returns the seconds played.

    Raises:
        NoSoundDevice: SDL cannot open an audio device (none, or it is busy).
    """
    reasons: list[str] = []

    class _Catch(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if record.levelno >= logging.WARNING and record.getMessage().startswith("Audio"):
                reasons.append(record.getMessage())

    handler = _Catch()
    Logger.addHandler(handler)
    saved = os.dup(2)
    try:
        # ALSA prints its attempts straight to fd 2; the reason SDL gives is enough.
        with open(os.devnull, "wb") as null:
            os.dup2(null.fileno(), 2)
            sound = SoundLoader.load(path)
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        Logger.removeHandler(handler)
    if sound is None or not sound.length:
        why = next((r for r in reasons if "mixer" in r.lower() or "device" in r.lower()), reasons[-1] if reasons else "")
        raise NoSoundDevice(why.removeprefix("AudioSDL2:").strip() or "no audio output")
    sound.volume = volume
    start = time.monotonic()
    sound.play()
    deadline = start + sound.length + slack
    while sound.state == "play" and time.monotonic() < deadline:
        Clock.tick()  # SDL plays on its own thread; the clock notices the end
        time.sleep(0.05)
    sound.stop()
    return time.monotonic() - start
