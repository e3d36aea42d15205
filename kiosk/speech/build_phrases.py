"""Regenerate ``kiosk/speech/polyphones.tsv`` and ``readings.tsv`` from pypinyin's data
(``python -m kiosk.speech.build_phrases``, or ``make speech-phrases``).

Why: loaded in the App, pypinyin's phrase dictionary costs about 42 MB of memory and its
character table with the library about 10 MB, against a budget of 20 MB for all of speech.
What changes what is said is much smaller:

- ``polyphones.tsv``: the phrases whose reading differs from their characters' usual ones
  (银行 háng, 还清 huán, 重建 chóng: 8.8 k of pypinyin's 47 k), plus those holding 一 or 不,
  whose readings carry the tone changes of a word (一个 yí, 统一 yī: 2.9 k);
- ``readings.tsv``: each character's usual reading (pypinyin's first), tone-numbered,
  grouped by syllable; ``kiosk.speech.pinyin`` loads it into two arrays (about 0.3 MB).

This tool derives both from the pypinyin installed; ``tests/test_speech_service.py`` checks
the files still match it.
"""
from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).with_name("polyphones.tsv")
READINGS = Path(__file__).with_name("readings.tsv")


def build() -> list[str]:
    """The lines of ``polyphones.tsv``: a header naming the pypinyin version, then
    ``phrase<TAB>syllables`` (tone-numbered, neutral tone 5) sorted by phrase."""
    from pypinyin.contrib.tone_convert import to_tone3

    root = resources.files("pypinyin")
    chars = json.loads((root / "pinyin_dict.json").read_text(encoding="utf-8"))
    phrases = json.loads((root / "phrases_dict.json").read_text(encoding="utf-8"))

    def t3(p: str) -> str:
        return to_tone3(p, neutral_tone_with_five=True)

    lines = []
    for word, readings in sorted(phrases.items()):
        said = [t3(r[0]) for r in readings]
        usual = [t3(chars.get(str(ord(c)), "").split(",")[0]) for c in word]
        if len(said) == len(word) and (said != usual or "一" in word or "不" in word):
            lines.append(f"{word}\t{' '.join(said)}")
    return [f"# phrases whose reading differs from their characters' usual ones; from pypinyin "
            f"{metadata.version('pypinyin')} by kiosk.speech.build_phrases"] + lines


def build_readings() -> list[str]:
    """The lines of ``readings.tsv``: a header, then ``syllable<TAB>characters`` for every
    character pypinyin knows, by its usual (first) reading, sorted."""
    from pypinyin.contrib.tone_convert import to_tone3

    chars = json.loads((resources.files("pypinyin") / "pinyin_dict.json").read_text(encoding="utf-8"))
    by_syllable: dict[str, list[str]] = {}
    for cp, readings in chars.items():
        said = to_tone3(readings.split(",")[0], neutral_tone_with_five=True)
        if said[-1:].isdigit():
            by_syllable.setdefault(said, []).append(chr(int(cp)))
    return [f"# usual reading of each character, tone-numbered; from pypinyin {metadata.version('pypinyin')} "
            f"by kiosk.speech.build_phrases"] + [f"{s}\t{''.join(sorted(cs))}" for s, cs in sorted(by_syllable.items())]


def main() -> int:
    OUT.write_text("\n".join(build()) + "\n", encoding="utf-8")
    READINGS.write_text("\n".join(build_readings()) + "\n", encoding="utf-8")
    print(f"wrote {OUT} and {READINGS}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
