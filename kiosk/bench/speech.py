"""Speech figures for ``kiosk bench --speech``: tap on 朗读 to first sound, and the memory
speech adds to the App's process.

Both are measured in a fresh child process set up like the App: Kivy's clock and SDL2 audio
(the ``dummy`` driver when no sound card: same code path, real-time playback), the event bus
delivering on the Kivy main thread through ``Clock.schedule_once``, a :class:`SpeechService`
and a :class:`~kiosk.screens.speaker.Speaker`, the main loop ticking at 60 frames a second.

- ``first_sound_ms``: from ``speak(text)`` to the speaker calling ``play()`` on the first
  chunk, for texts never read before (``_new``) and read again (``_cached``); p50 and p95.
- ``rss_mb_before`` / ``rss_mb_after`` / ``rss_mb_delta``: the process's resident memory with
  Kivy, the services and the speaker loaded but nothing read, and after reading every text.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

CHILD = r'''
import datetime as dt, json, os, sys, time
def rss_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
from kivy.clock import Clock
from kivy.core.audio import SoundLoader
import kiosk.records, kiosk.formatting, kiosk.cache.mirror  # what the App has loaded anyway
from kiosk.services.bus import EventBus
from kiosk.services.speech import SpeechService
from kiosk.screens import speaker as speaker_mod

bus = EventBus(deliver=lambda fn: Clock.schedule_once(lambda dt: fn()))
service = SpeechService(bus, now=lambda: dt.datetime(2026, 10, 15, 12, 0))
spk = speaker_mod.Speaker(bus)
played = {}
orig = speaker_mod.Speaker._play_next
def timed(self):
    before = self._sound
    orig(self)
    if self._sound is not None and self._sound is not before and self.utterance not in played:
        played[self.utterance] = time.perf_counter()
speaker_mod.Speaker._play_next = timed

def frames(cond, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not cond():
        Clock.tick()
        time.sleep(1 / 60)
        if time.monotonic() > deadline:
            raise TimeoutError
frames(lambda: True)
import gc; gc.collect()
before = rss_mb()
service.start()
frames(lambda: service.ready.is_set())
texts = json.loads(sys.argv[1])
res = {"new": [], "cached": []}
for kind in ("new", "cached"):
    for t in texts:
        start = time.perf_counter()
        u = service.speak(t)
        frames(lambda: u in played)
        res[kind].append((played[u] - start) * 1000)
        frames(lambda: True)
        service.cancel()
        frames(lambda: not spk.speaking)
gc.collect()
res["rss_before"] = before
res["rss_after"] = rss_mb()
service.stop(); spk.close()
print("RESULT " + json.dumps(res))
'''

TEXTS = [
    "财务收支。{y}年{m}月 共 {n} 笔，收入 {a:,}.{f:02d} 元，支出 {b:,}.{g:02d} 元。",
    "工程项目。第{n}号 村道硬化，预算 {a:,}.00 元，已完成 {m}0%。",
    "办事结果。申请人 张*{c}，{y}-{m:02d}-{n:02d} 办结，联系电话 0738-{a:07d}。",
    "资产资源。原村小学教学楼，出租 {n} 年，年租金 {b:,}.{g:02d} 元。",
]


def _texts(count: int) -> list[str]:
    import random

    rng = random.Random(7)
    out = []
    for i in range(count):
        t = TEXTS[i % len(TEXTS)]
        out.append(t.format(y=rng.randint(2020, 2026), m=rng.randint(1, 9), n=rng.randint(2, 28),
                            a=rng.randint(1000, 999999), b=rng.randint(100, 99999), f=rng.randint(0, 99),
                            g=rng.randint(0, 99), c="三四五六七八九"[i % 7]))
    return out


def _pct(values: list[float], p: float) -> float:
    v = sorted(values)
    return round(v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))], 1)


def run(count: int = 40) -> dict:
    """Run the child and return the figures (see the module docstring).

    Raises:
        RuntimeError: the child failed (its output is in the message).
    """
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-bench-speech-"))
    if not os.path.exists("/dev/snd"):
        env.setdefault("SDL_AUDIODRIVER", "dummy")
    proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(_texts(count), ensure_ascii=False)],
                          env=env, capture_output=True, text=True, timeout=600)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if not line:
        raise RuntimeError(f"speech bench failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    r = json.loads(line[7:])
    return {
        "first_sound_ms_new_p50": _pct(r["new"], 50), "first_sound_ms_new_p95": _pct(r["new"], 95),
        "first_sound_ms_cached_p50": _pct(r["cached"], 50), "first_sound_ms_cached_p95": _pct(r["cached"], 95),
        "rss_mb_before": round(r["rss_before"], 1), "rss_mb_after": round(r["rss_after"], 1),
        "rss_mb_delta": round(r["rss_after"] - r["rss_before"], 1), "texts": count,
        "audio_driver": env.get("SDL_AUDIODRIVER", "default"),
    }


def table(r: dict) -> str:
    return "\n".join([
        "speech figure                         value     target",
        f"tap to first sound p95, new text      {r['first_sound_ms_new_p95']:>6} ms  ≤ 300 ms (p50 {r['first_sound_ms_new_p50']} ms)",
        f"tap to first sound p95, read before   {r['first_sound_ms_cached_p95']:>6} ms  (p50 {r['first_sound_ms_cached_p50']} ms)",
        f"RSS after speech − before             {r['rss_mb_delta']:>6} MB  ≤ 20 MB ({r['rss_mb_before']} → {r['rss_mb_after']} MB)",
        f"({r['texts']} texts, SDL audio driver: {r['audio_driver']})",
    ])
