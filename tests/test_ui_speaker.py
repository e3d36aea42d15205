"""The App's speaker plays the speech service's WAVs in order and stops at once (SDL2's dummy
audio driver, set for the shared app: real SDL playback timing without a sound card)."""
from __future__ import annotations

import time

import pytest
from recorder import Recorder
from uikit import until

from kiosk.services.events import SpeechChunkReady
from kiosk.speech import synth

pytestmark = [pytest.mark.ui, pytest.mark.skipif(not synth.espeak_path(), reason="espeak-ng not installed")]


def test_speaker_plays_in_order_and_stops(ui):
    until(ui, lambda: ui.services.background_started)
    service, speaker = ui.services.speech, ui.speaker
    rec = Recorder(ui.bus)
    try:
        # A short text plays to its end, then the speaker is idle.
        service.speak("你好")
        until(ui, lambda: speaker.speaking, frames=0)
        assert speaker._sound is not None and speaker._sound.state == "play"
        start = time.monotonic()
        until(ui, lambda: not speaker.speaking, frames=0)
        # played to its end, not cut short (SDL's dummy device plays in real time)
        assert time.monotonic() - start > rec.of(SpeechChunkReady)[-1].duration_s * 0.7

        # A long text: the first chunk plays, the rest queue; cancel() silences it at once.
        u2 = service.speak("财务收支。收入 28,280.00 元。支出 18,217.66 元。结余 10,062.34 元。")
        until(ui, lambda: speaker.speaking and any(c.utterance == u2 and c.last for c in rec.of(SpeechChunkReady)),
              frames=0)
        assert len(speaker._queue) >= 1
        assert min(c.index for c in rec.of(SpeechChunkReady) if c.utterance == u2) == 0
        service.cancel()  # its SpeechStopped reaches the speaker with the next frame
        until(ui, lambda: not speaker.speaking, frames=0)
        assert [speaker.speaking, speaker._sound is None, len(speaker._queue)] == [False, True, 0]

        # A newer utterance replaces an older one still playing.
        u3 = service.speak("工程项目。共 12 个项目。")
        until(ui, lambda: speaker.utterance == u3 and speaker.speaking, frames=0)
        u4 = service.speak("资产资源")
        until(ui, lambda: speaker.utterance == u4, frames=0)
        assert speaker.speaking and all(c.utterance == u4 for c in speaker._queue)
        speaker.stop()
        assert [speaker.speaking, speaker._sound is None] == [False, True]
    finally:
        rec.close()
        service.cancel()
