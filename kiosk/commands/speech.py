"""``kiosk speak TEXT [--show] [--out FILE.wav]``: the read-aloud pipeline from the command line.

Technicians test the loudspeaker with it; developers check how a text is said. Without
``--out`` the WAV is played through SDL2, the audio path the kiosk App uses (Kivy's
SoundLoader), so a sound here means the App will sound too; aplay/paplay would test another
path (and need packages the kiosk does not use). Quiet hours do not apply: a technician asked.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from kiosk.cache.fsutil import OutputNotWritable
from kiosk.errors import Exit, KioskError


class NoSpeaker(KioskError):
    """No sound device to play on."""

    exit_code = Exit.FAILED
    default_zh = "没有可用的声音设备（扬声器），请检查连接"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("speak", help="read a text aloud as the kiosk does (or write the WAV)")
    p.add_argument("text", help="the text, as a screen shows it (e.g. '支出 28,280.00 元')")
    p.add_argument("--show", action="store_true", help="print the spoken text and its pinyin")
    p.add_argument("--out", metavar="FILE.wav", help="write the speech to this WAV instead of playing it")
    p.set_defaults(func=cmd_speak)


def cmd_speak(args) -> int:
    from kiosk import config
    from kiosk.cli import CliError
    from kiosk.speech import synth
    from kiosk.speech.utterance import prepare

    cfg = config.load(config.kiosk_home())
    s = {**config.DEFAULTS["speech"], **cfg.get("speech", {})}
    chunks = prepare(args.text, int(s["first_chunk_chars"]))
    if not chunks:
        raise CliError(f"nothing to say in {args.text!r}")
    if args.show:
        print("spoken:", "".join(c.spoken for c in chunks))
        print("pinyin:", " ".join(c.pinyin for c in chunks))
    voice = synth.Voice(rate=int(s["rate"]), pitch=int(s["pitch"]))
    pinyin = " ".join(c.pinyin for c in chunks)
    timeout = float(cfg["timeouts"].get("speech_synth", 10)) * len(chunks)
    if args.out:
        out = Path(args.out)
        if out.suffix.lower() != ".wav":
            raise CliError("--out must name a .wav file")
        if not out.parent.is_dir() or not os.access(out.parent, os.W_OK):
            raise OutputNotWritable(f"cannot write to folder {out.parent.resolve()}")
        synth.synthesise(pinyin, out, voice, timeout)
        st = synth.wav_stats(out)
        print(f"wrote {out} ({st.duration_s:.1f} s)", file=sys.stderr)
        return 0
    with tempfile.TemporaryDirectory(prefix="kiosk-speak-") as d:
        wav = synth.synthesise(pinyin, Path(d) / "speech.wav", voice, timeout)
        from kiosk.commands.ui import _kivy_env

        _kivy_env(quiet=True)
        stderr = sys.stderr
        try:
            from kiosk.screens.speaker import NoSoundDevice, play_wav
        finally:
            sys.stderr = stderr  # Kivy routes stderr into its (silenced) log at import
        try:
            play_wav(str(wav), float(s["volume"]))
        except NoSoundDevice as exc:
            raise NoSpeaker(f"no sound device to play on ({exc}); use --out FILE.wav") from None
    return 0
