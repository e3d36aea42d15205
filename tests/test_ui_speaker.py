"""The Kivy speaker plays the speech service's WAVs in order and stops at once (SDL2's dummy
audio driver: real SDL playback timing without a sound card), in a child process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from kiosk.speech import synth

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not synth.espeak_path(), reason="espeak-ng not installed")]

SCRIPT = r'''
import datetime as dt, json, time
from kivy.clock import Clock
from kiosk.services.bus import EventBus
from kiosk.services.events import SpeechChunkReady
from kiosk.services.speech import SpeechService
from kiosk.screens.speaker import Speaker

bus = EventBus()
chunks = []
bus.subscribe(SpeechChunkReady, chunks.append)
service = SpeechService(bus, now=lambda: dt.datetime(2026, 10, 15, 12, 0))
service.start()
speaker = Speaker(bus)
out = {}

def until(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        Clock.tick()
        time.sleep(0.01)
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")

# A short text plays to its end, then the speaker is idle.
u1 = service.speak("你好")
until(lambda: speaker.speaking)
out["playing"] = speaker._sound is not None and speaker._sound.state == "play"
start = time.monotonic()
until(lambda: not speaker.speaking)
out["played_s"] = time.monotonic() - start
out["chunk_s"] = chunks[-1].duration_s

# A long text: the first chunk plays, the rest queue; cancel() silences it at once.
u2 = service.speak("财务收支。收入 28,280.00 元。支出 18,217.66 元。结余 10,062.34 元。")
until(lambda: speaker.speaking and any(c.utterance == u2 and c.last for c in chunks))
out["queued"] = len(speaker._queue)
out["first_index"] = min(c.index for c in chunks if c.utterance == u2)
service.cancel()
out["after_cancel"] = [speaker.speaking, speaker._sound is None, len(speaker._queue)]

# A newer utterance replaces an older one still playing.
u3 = service.speak("工程项目。共 12 个项目。")
until(lambda: speaker.utterance == u3 and speaker.speaking)
u4 = service.speak("资产资源")
until(lambda: speaker.utterance == u4)
out["replaced"] = [speaker.speaking, all(c.utterance == u4 for c in speaker._queue)]
speaker.stop()
out["after_stop"] = [speaker.speaking, speaker._sound is None]
speaker.close()
service.stop()
print("RESULT " + json.dumps(out))
'''


def test_speaker_plays_in_order_and_stops():
    env = dict(os.environ, SDL_AUDIODRIVER="dummy", KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1",
               KIVY_NO_CONSOLELOG="1", KIVY_HOME=tempfile.mkdtemp(prefix="kivy-speaker-test-"))
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, proc.stdout + proc.stderr
    out = json.loads(line[7:])
    assert out["playing"] is True, (out, proc.stderr[-3000:])
    # Played to its end, not cut short (SDL's dummy device plays in real time).
    assert out["played_s"] > out["chunk_s"] * 0.7, out
    assert out["first_index"] == 0 and out["queued"] >= 1, out
    assert out["after_cancel"] == [False, True, 0]
    assert out["replaced"] == [True, True]
    assert out["after_stop"] == [False, True]

