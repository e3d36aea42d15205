"""Regenerate ``kiosk/speech/polyphones.tsv`` from pypinyin's phrase data
(``python -m kiosk.speech.build_phrases``, or ``make speech-phrases``).

Why: pypinyin's phrase dictionary costs about 42 MB of memory once loaded, more than the
whole budget of speech on the kiosk (20 MB). Only the phrases whose reading differs from
their characters' usual readings (银行 háng, 还清 huán, 重建 chóng: 8.8 k of 47 k) change what
is said, plus those holding 一 or 不, whose readings carry the tone changes of a word
(一个 yí, 统一 yī: 2.9 k). The kiosk loads only those (``kiosk.speech.pinyin``) with
pypinyin's single-character table; this tool derives them from the pypinyin installed, and
``tests/test_speech_pinyin.py`` checks the file still matches it.
"""
from __future__ import annotations

import json
import sys
from importlib import metadata, resources
from pathlib import Path

OUT = Path(__file__).with_name("polyphones.tsv")


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


def main() -> int:
    OUT.write_text("\n".join(build()) + "\n", encoding="utf-8")
    print(f"wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
