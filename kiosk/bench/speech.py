"""Speech figures for ``kiosk bench --speech``: tap on 朗读 to first sound in the App, and
the memory speech adds to the App's process.

Two child processes each run the whole kiosk App headless (1280×800, SDL2 audio: the
``dummy`` driver when there is no sound card — the same code path, real-time playback) on
the demo village, built and installed under ``--work`` like ``kiosk bench --scale
village``, and walk the same screens paced like a person (:data:`THINK_S` between a frame
and the next tap): each list section, then the n-th record of it, for :data:`ROUNDS`
rounds (each round another record).

- ``with``: on every screen of the walk, 朗读 is tapped (``app.toggle_reading()``, what the
  frame's button calls) and the time to the Speaker's ``play()`` of the first piece is
  measured; the reading is then stopped by tapping 朗读 again. ``first_sound_ms_new`` for a
  screen read the first time, ``first_sound_ms_again`` for one read before (its WAVs are
  kept); p50 and p95.
- ``without``: the same walk with no speech service at all (nothing of speech is loaded).
- ``rss_mb_with`` / ``rss_mb_without``: each process's resident memory at the end of the
  walk (after a garbage collection); ``rss_mb_delta`` = with − without (target ≤ 20 MB).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: seconds between a frame and the next tap
THINK_S = 0.4
#: rounds of the walk (each opens another record of every section)
ROUNDS = 4
#: the walk: list sections; after each, the n-th record of its list
SECTIONS = ("finance", "projects", "services", "assets", "powers")
#: the speech service's clock in the children: noon, outside the default quiet hours
NOON = (2026, 11, 30, 12, 0)


def _pct(values: list[float], p: float) -> float:
    v = sorted(values)
    if not v:
        return float("nan")
    return round(v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))], 1)


# ---------------------------------------------------------------------------------------------
# the child: python -m kiosk.bench.speech with|without HOME

def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS"):
                return int(line.split()[1]) / 1024
    return float("nan")


class _NoSpeech:
    """Stands in for the speech service in the ``without`` child: nothing loaded."""

    def start(self):
        pass

    def stop(self, *_a):
        pass

    def cancel(self):
        pass

    def speak_fields(self, *_a):
        return None


def child(mode: str, home: str) -> dict:
    import datetime as dt
    import gc

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-bench-speech-"))
    from kiosk.screens.kivyconfig import configure_kivy

    configure_kivy(windowed=True, size=(1280, 800))
    from kivy.base import EventLoop

    from kiosk import config
    from kiosk.app import KioskApp
    from kiosk.screens import speaker as speaker_mod
    from kiosk.screens.headless import start_headless
    from kiosk.services.speech import SpeechService

    cfg = config.load(Path(home))
    noon = dt.datetime(*NOON)
    if mode == "with":
        services = {"speech": lambda bus: SpeechService(bus, cfg, now=lambda: noon)}
    else:
        services = {"speech": lambda bus: _NoSpeech()}
    first_play: dict[int, float] = {}
    orig = speaker_mod.Speaker._play_next

    def timed(self):
        before = self._sound
        orig(self)
        if self._sound is not None and self._sound is not before:
            first_play.setdefault(int(self.utterance), time.perf_counter())

    speaker_mod.Speaker._play_next = timed
    app = KioskApp(Path(home), cfg=cfg, services=services)
    start_headless(app)
    deadline = time.monotonic() + 120

    def loop_until(cond, limit: float = 30.0) -> None:
        end = time.monotonic() + limit
        while not cond():
            if time.monotonic() > end:
                raise TimeoutError("the kiosk did not get there")
            EventLoop.idle()

    def think() -> None:
        t = time.monotonic()
        while time.monotonic() - t < THINK_S:
            EventLoop.idle()

    loop_until(lambda: app.settled and app.services.background_started, deadline - time.monotonic())
    if mode == "with":
        loop_until(lambda: app.services.speech.ready.is_set())
    new, again, texts = [], [], set()

    def read_here() -> None:
        app.nav.activity()
        pairs = app.sm.current_screen.spoken()
        key = json.dumps(pairs, ensure_ascii=False)
        t0 = time.perf_counter()
        app.toggle_reading()
        u = app._reading_utterance
        if not u:
            raise RuntimeError(f"朗读 read nothing on {app.sm.current}")
        loop_until(lambda: u in first_play)
        (again if key in texts else new).append((first_play[u] - t0) * 1000)
        texts.add(key)
        think()  # a moment of listening
        app.toggle_reading()  # the second tap stops it

    for round_ in range(ROUNDS):
        for name in SECTIONS:
            think()
            app.go(name)
            loop_until(lambda: not app.busy and app.sm.current == name)
            think()
            if mode == "with":
                read_here()
            rows = app.sm.current_screen.record_rows()
            if rows:
                r = rows[min(round_, len(rows) - 1)]
                think()
                app.go(r["target"], id=r["rec_id"])
                loop_until(lambda: not app.busy and app.sm.current == r["target"])
                think()
                if mode == "with":
                    read_here()
            think()
            app.go_home()
            loop_until(lambda: not app.busy and app.sm.current == "home")
    think()
    gc.collect()
    out = {"mode": mode, "rss_mb": round(_rss_mb(), 1), "new_ms": new, "again_ms": again}
    app.stop()
    return out


# ---------------------------------------------------------------------------------------------
# the parent

def _home(work: Path) -> Path:
    """The demo village installed under ``work`` (built once, reused)."""
    from kiosk.bench import measure

    src = measure.prepare_source("village", work, 1, None)
    rec = measure.build_bundle(src, work, "village", 1024, rebuild=False)
    home = work / "speech-home"
    measure.import_bundle(Path(rec["bundle"]), Path(rec["key"]), home)
    return home


def _run_child(mode: str, home: Path) -> dict:
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-bench-speech-"))
    env.pop("DISPLAY", None)
    if not os.path.exists("/dev/snd"):
        env.setdefault("SDL_AUDIODRIVER", "dummy")
    proc = subprocess.run([sys.executable, "-m", "kiosk.bench.speech", mode, str(home)],
                          env=env, capture_output=True, text=True, timeout=900)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if not line:
        raise RuntimeError(f"speech bench ({mode}) failed: {proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    r = json.loads(line[6:])
    r["audio_driver"] = env.get("SDL_AUDIODRIVER", "default")
    return r


def run(work: Path = Path("bench-work")) -> dict:
    """Both children and the figures (see the module docstring).

    Raises:
        RuntimeError: a child failed (its output is in the message).
    """
    work.mkdir(parents=True, exist_ok=True)
    home = _home(work)
    without = _run_child("without", home)
    with_ = _run_child("with", home)
    taps = with_["new_ms"] + with_["again_ms"]
    return {
        "first_sound_ms_p50": _pct(taps, 50), "first_sound_ms_p95": _pct(taps, 95),
        "first_sound_ms_new_p50": _pct(with_["new_ms"], 50), "first_sound_ms_new_p95": _pct(with_["new_ms"], 95),
        "first_sound_ms_again_p50": _pct(with_["again_ms"], 50), "first_sound_ms_again_p95": _pct(with_["again_ms"], 95),
        "taps": len(taps), "rss_mb_without": without["rss_mb"], "rss_mb_with": with_["rss_mb"],
        "rss_mb_delta": round(with_["rss_mb"] - without["rss_mb"], 1), "audio_driver": with_["audio_driver"],
    }


def table(r: dict) -> str:
    return "\n".join([
        "speech figure (in the App)                 value     target",
        f"tap on 朗读 to first sound, p95           {r['first_sound_ms_p95']:>7} ms  ≤ 300 ms (p50 {r['first_sound_ms_p50']} ms, {r['taps']} taps)",
        f"  screens read the first time, p95         {r['first_sound_ms_new_p95']:>7} ms  (p50 {r['first_sound_ms_new_p50']} ms)",
        f"  screens read again, p95                  {r['first_sound_ms_again_p95']:>7} ms  (p50 {r['first_sound_ms_again_p50']} ms)",
        f"RSS after speech − RSS without it        {r['rss_mb_delta']:>7} MB  ≤ 20 MB ({r['rss_mb_without']} → {r['rss_mb_with']} MB)",
        f"(SDL audio driver: {r['audio_driver']})",
    ])


def main() -> None:
    res = child(sys.argv[1], sys.argv[2])
    sys.stdout.write("BENCH " + json.dumps(res) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
