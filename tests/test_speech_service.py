"""朗读 end to end without Kivy: espeak-ng WAVs, the phrase table, SpeechService, ``kiosk speak``."""
import datetime as dt
import os
import stat
import threading
import time
import wave
from pathlib import Path

import pytest

from kiosk.cli import main
from kiosk.services.bus import EventBus
from kiosk.services.events import Event, SpeechChunkReady, SpeechFailed, SpeechSkipped, SpeechStopped
from kiosk.services.speech import SpeechService, in_quiet_hours, parse_quiet_hours
from kiosk.speech import build_phrases, synth
from kiosk.speech.utterance import prepare

NOON = lambda: dt.datetime(2026, 10, 15, 12, 0)  # noqa: E731
NIGHT = lambda: dt.datetime(2026, 10, 15, 23, 30)  # noqa: E731
needs_espeak = pytest.mark.skipif(not synth.espeak_path(), reason="espeak-ng not installed (make setup)")


def _wait(cond, timeout=10.0):
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def _service(tmp_path, now=NOON, **speech):
    bus, events = EventBus(), []
    bus.subscribe(Event, events.append)
    cfg = {"speech": speech} if speech else None
    s = SpeechService(bus, cfg, now=now, cache_dir=tmp_path / "cache")
    s.start()
    return s, events


def test_reading_tables_match_the_installed_pypinyin():
    assert build_phrases.OUT.read_text(encoding="utf-8").splitlines() == build_phrases.build(), \
        "regenerate: make speech-phrases"
    assert build_phrases.READINGS.read_text(encoding="utf-8").splitlines() == build_phrases.build_readings(), \
        "regenerate: make speech-phrases"


def test_usual_readings_are_pypinyins():
    from pypinyin import Style, lazy_pinyin

    from kiosk.speech.pinyin import usual_reading

    for ch in "银行还款曾单乐〇幺䶮𠀀":  # 𠀀: CJK Ext B
        assert usual_reading(ch) == lazy_pinyin(ch, style=Style.TONE3, neutral_tone_with_five=True)[0], ch
    assert usual_reading("a") == usual_reading("😀") == usual_reading("𠈌") == ""  # no reading known


@needs_espeak
def test_a_wav_is_speech_of_plausible_length(tmp_path):
    [chunk] = prepare("收入 28,280.00 元，支出 1,200.50 元", first_chars=99)
    wav = synth.synthesise(chunk.pinyin, tmp_path / "a.wav", synth.Voice(rate=140))
    with wave.open(str(wav)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
    st = synth.wav_stats(wav)
    assert chunk.syllables == 20
    assert st.rms > 0.03  # not silent
    # 140 "words" a minute is about 0.3–0.45 s a syllable with pauses.
    assert 0.2 * chunk.syllables < st.duration_s < 0.6 * chunk.syllables
    assert st.voiced_s > 0.6 * st.duration_s
    # A faster rate gives a shorter WAV of the same text.
    fast = synth.wav_stats(synth.synthesise(chunk.pinyin, tmp_path / "b.wav", synth.Voice(rate=200)))
    assert fast.duration_s < 0.85 * st.duration_s


def test_synthesis_refuses_cleanly_without_espeak(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(synth.SpeechUnavailable, match="espeak-ng is not installed"):
        synth.synthesise("ni3 hao3", tmp_path / "x.wav")
    assert not list(tmp_path.glob("*.wav*"))


@pytest.mark.parametrize("now,quiet", [("21:59", False), ("22:00", True), ("23:59", True), ("00:00", True),
                                       ("06:59", True), ("07:00", False), ("12:00", False)])
def test_quiet_hours_pass_midnight(now, quiet):
    ranges = parse_quiet_hours([["22:00", "07:00"]])
    assert in_quiet_hours(dt.time.fromisoformat(now), ranges) is quiet


def test_quiet_hours_in_a_day_and_bad_values():
    ranges = parse_quiet_hours([["12:00", "14:00"]])
    assert in_quiet_hours(dt.time(12, 30), ranges) and not in_quiet_hours(dt.time(14, 0), ranges)
    for bad in ([["22:00"]], [["25:00", "07:00"]], ["22:00-07:00"]):
        with pytest.raises(ValueError):
            parse_quiet_hours(bad)


def test_in_quiet_hours_nothing_is_read(tmp_path):
    s, events = _service(tmp_path, now=NIGHT)
    try:
        assert s.speak("财务收支") is None
        assert events == [SpeechSkipped("现在是休息时间（22:00—07:00），不朗读")]
    finally:
        s.stop()


@needs_espeak
def test_in_quiet_hours_a_quiet_volume_is_used(tmp_path):
    s, events = _service(tmp_path, now=NIGHT, quiet_volume=0.3)
    try:
        u = s.speak("财务收支")
        _wait(lambda: any(isinstance(e, SpeechChunkReady) for e in events))
        [chunk] = [e for e in events if isinstance(e, SpeechChunkReady)]
        assert (chunk.utterance, chunk.index, chunk.last, chunk.volume) == (u, 0, True, 0.3)
    finally:
        s.stop()


@needs_espeak
def test_speak_publishes_every_chunk_in_order_and_reuses_wavs(tmp_path):
    s, events = _service(tmp_path)
    try:
        text = "财务收支。2026年10月 共 45 笔，收入 28,280.00 元。"
        u = s.speak(text)
        _wait(lambda: any(getattr(e, "last", False) for e in events))
        chunks = [e for e in events if isinstance(e, SpeechChunkReady)]
        assert [c.index for c in chunks] == [0, 1] and [c.utterance for c in chunks] == [u] * 2
        assert [c.spoken for c in chunks] == ["财务收支。", "二〇二六年十月共四十五笔，收入两万八千二百八十元。"]
        assert all(Path(c.path).stat().st_size > 10_000 and c.duration_s > 1 for c in chunks)
        assert chunks[0].volume == 0.9
        events.clear()
        u2 = s.speak(text)
        _wait(lambda: any(getattr(e, "last", False) for e in events))
        assert u2 == u + 1
        assert [c.path for c in events if isinstance(c, SpeechChunkReady)] == [c.path for c in chunks]
    finally:
        s.stop()


@needs_espeak
def test_cancel_stops_after_the_chunk_being_played(tmp_path):
    bus, events = EventBus(), []
    s = SpeechService(bus, now=NOON, cache_dir=tmp_path / "cache")

    def on_chunk(e):
        events.append(e)
        if e.index == 0:
            s.cancel()  # a second tap on 朗读 while the first chunk plays
    bus.subscribe(SpeechChunkReady, on_chunk)
    bus.subscribe(SpeechStopped, events.append)
    s.start()
    u = s.speak("财务收支。收入 28,280.00 元。支出 18,217.66 元。结余 10,062.34 元。")
    _wait(lambda: any(isinstance(e, SpeechStopped) for e in events))
    s.stop()  # joins the reading thread: whatever it would still publish is published by now
    assert [type(e).__name__ for e in events] == ["SpeechChunkReady", "SpeechStopped"]
    assert events[1] == SpeechStopped(u)


def test_cancel_kills_a_running_synthesis(tmp_path, monkeypatch):
    # A stand-in espeak-ng that never finishes, so the cancel must kill it.
    fake = tmp_path / "bin" / "espeak-ng"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexec sleep 60\n")
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    s, events = _service(tmp_path)
    try:
        assert s.ready.wait(10)  # warmed up with the real one (if any)
        monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
        s._proc = None
        u = s.speak("财务收支")
        _wait(lambda: s._proc is not None and s._proc.poll() is None)
        proc = s._proc
        started = time.monotonic()
        s.cancel()
        proc.wait(timeout=5)
        assert time.monotonic() - started < 5
    finally:
        s.stop()
    assert events[-1] == SpeechStopped(u)
    assert not any(isinstance(e, (SpeechChunkReady, SpeechFailed)) for e in events)
    assert not list((tmp_path / "cache").glob("*.part"))


@needs_espeak
def test_speak_fields_reads_a_record_in_order(tmp_path):
    s, events = _service(tmp_path)
    try:
        s.speak_fields("凭证", [("凭证号", "记202401-001"), ("科目代码", "51301"), ("金额", "450.15 元"), ("备注", None)])
        _wait(lambda: any(getattr(e, "last", False) for e in events))
        said = "".join(e.spoken for e in events if isinstance(e, SpeechChunkReady))
        assert said == "凭证。凭证号，记二零二四零一，零零一。金额，四百五十元一角五分"
    finally:
        s.stop()


def test_a_newer_speak_replaces_the_older(tmp_path, monkeypatch):
    s, events = _service(tmp_path)
    try:
        first, second = s.speak("一"), s.speak("二")
        assert second == first + 1 and s.current == second
    finally:
        s.stop()


def test_missing_espeak_is_reported_once_in_chinese(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    s, events = _service(tmp_path)
    try:
        u = s.speak("财务收支")
        _wait(lambda: any(isinstance(e, SpeechFailed) for e in events))
        [failed] = [e for e in events if isinstance(e, SpeechFailed)]
        assert failed.utterance == u and failed.message_zh == "朗读功能暂不可用，请联系技术人员"
        assert "espeak-ng is not installed" in failed.message
    finally:
        s.stop()


def test_nothing_sayable_and_switched_off(tmp_path):
    s, events = _service(tmp_path, enabled=False)
    try:
        assert s.speak("财务收支") is None and events == [SpeechSkipped("朗读功能已关闭")]
    finally:
        s.stop()
    s, events = _service(tmp_path)
    try:
        s.speak("指纹 1a2b3c4d")
        _wait(lambda: events)
        assert events == [SpeechSkipped("")]
    finally:
        s.stop()


def test_own_cache_folder_is_removed_on_stop():
    s = SpeechService(EventBus(), now=NOON)
    s.start()
    folder = s._cache_dir
    assert folder.is_dir()
    s.stop()
    assert not folder.exists()


# ---- kiosk speak -------------------------------------------------------------------------------
@needs_espeak
def test_cli_shows_and_writes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "home"))
    out = tmp_path / "s.wav"
    assert main(["speak", "--show", "--out", str(out), "银行还款 1,200.50 元"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == ["spoken: 银行还款一千二百元五角", "pinyin: yin2 hang2 huan2 kuan3 yi4 qian1 er4 bai3 yuan2 wu2 jiao3"]
    assert synth.wav_stats(out).rms > 0.03


def test_cli_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "home"))
    assert main(["speak", "***"]) == 2
    assert main(["speak", "你好", "--out", str(tmp_path / "x.mp3")]) == 2
    assert main(["speak", "你好", "--out", str(tmp_path / "nowhere" / "x.wav")]) == 8
    err = capsys.readouterr().err.splitlines()
    assert err == ["kiosk: error: nothing to say in '***'", "kiosk: error: --out must name a .wav file",
                   f"kiosk: error: cannot write to folder {tmp_path / 'nowhere'} (无法写入输出文件)"]
    assert not list(tmp_path.rglob("*.wav"))
