"""Tone-numbered pinyin → a WAV, with espeak-ng's ``cmn-latn-pinyin`` voice (Debian package
``espeak-ng``), run as a short-lived process per sentence.

Why a process and not libespeak-ng in the App: a sentence takes 10–20 ms including the
process start, the App's memory does not grow by espeak-ng's dictionaries (about 5 MB), and
a sentence is cancelled by killing its process.
"""
from __future__ import annotations

import array
import math
import os
import shutil
import subprocess
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from kiosk.errors import KioskError

VOICE = "cmn-latn-pinyin"


class SpeechUnavailable(KioskError):
    """espeak-ng is missing or failed."""

    default_zh = "朗读功能暂不可用，请联系技术人员"


@dataclass(frozen=True)
class Voice:
    """How espeak-ng speaks. ``rate``: espeak-ng words per minute, for Mandarin about
    syllables per minute (140 is calm); ``amplitude``: 0–200 (espeak-ng's default 100);
    ``pitch``: 0–99 (default 50)."""

    rate: int = 140
    amplitude: int = 100
    pitch: int = 50

    def args(self) -> list[str]:
        return ["-v", VOICE, "-s", str(self.rate), "-a", str(self.amplitude), "-p", str(self.pitch)]


def espeak_path() -> str | None:
    """The espeak-ng program, or None when it is not installed."""
    return shutil.which("espeak-ng")


def command(pinyin: str, out: Path, voice: Voice = Voice()) -> list[str]:
    """The espeak-ng command line that writes ``pinyin`` (read from stdin) to ``out``.

    Raises:
        SpeechUnavailable: espeak-ng is not installed.
    """
    exe = espeak_path()
    if not exe:
        raise SpeechUnavailable("espeak-ng is not installed (deploy/install-system-packages.sh)")
    return [exe, *voice.args(), "-b", "1", "-w", str(out), "--stdin"]


def synthesise(pinyin: str, out: Path, voice: Voice = Voice(), timeout: float = 10.0,
               on_start: Callable[[subprocess.Popen], None] | None = None) -> Path:
    """Write ``pinyin`` spoken to the WAV ``out`` (16-bit mono, 22 050 Hz), atomically: a
    failed or cancelled run leaves no file at ``out``.

    Args:
        on_start: called with the espeak-ng process once it runs (the speech service keeps
            it to kill it when reading is cancelled).

    Raises:
        SpeechUnavailable: espeak-ng is missing, failed or was killed, or took longer than
            ``timeout`` seconds.
    """
    tmp = out.with_name(f"{out.name}.{os.getpid()}.{threading.get_ident()}.part")
    try:
        proc = subprocess.Popen(command(pinyin, tmp, voice), stdin=subprocess.PIPE,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if on_start:
            on_start(proc)
        try:
            _, err = proc.communicate(pinyin.encode("utf-8"), timeout=timeout)
        except subprocess.TimeoutExpired as exc:
            proc.kill()
            proc.communicate()
            raise SpeechUnavailable(f"espeak-ng took more than {timeout:g} s") from exc
        if proc.returncode != 0 or not tmp.exists():
            lines = err.decode("utf-8", "replace").strip().splitlines()
            raise SpeechUnavailable(f"espeak-ng failed ({proc.returncode}): {lines[-1] if lines else 'no output'}")
        os.replace(tmp, out)
        return out
    finally:
        tmp.unlink(missing_ok=True)


@dataclass(frozen=True)
class WavStats:
    """``duration_s``; ``rms``: root mean square of the samples, 0–1 of full scale;
    ``voiced_s``: time with the level above 1 % of full scale (speech, not pauses)."""

    duration_s: float
    rms: float
    voiced_s: float


def wav_stats(path: Path) -> WavStats:
    """Duration and loudness of a 16-bit PCM WAV (for tests and the benchmark).

    Raises:
        ValueError: not a 16-bit PCM WAV.
    """
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: not 16-bit PCM")
        rate, frames = w.getframerate(), w.readframes(w.getnframes())
        channels = w.getnchannels()
    samples = array.array("h", frames)
    if not samples:
        return WavStats(0.0, 0.0, 0.0)
    rms = math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768
    block = max(1, rate // 50) * channels  # 20 ms blocks
    voiced = 0
    for i in range(0, len(samples), block):
        part = samples[i:i + block]
        if math.sqrt(sum(s * s for s in part) / len(part)) / 32768 > 0.01:
            voiced += len(part)
    return WavStats(len(samples) / channels / rate, rms, voiced / channels / rate)
