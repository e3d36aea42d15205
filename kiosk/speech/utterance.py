"""A text to read → short chunks of spoken Chinese and pinyin, each synthesised and played
in turn, the first one short so the first sound comes quickly."""
from __future__ import annotations

import re
from dataclasses import dataclass

from kiosk.speech.normalise import normalise
from kiosk.speech.pinyin import syllables, to_pinyin

_SENTENCE_END = "。！？；"


@dataclass(frozen=True)
class Chunk:
    """One piece read at a time: ``spoken`` Chinese, its ``pinyin`` for espeak-ng and the
    number of ``syllables`` (letters included, pauses not)."""

    spoken: str
    pinyin: str
    syllables: int


def split(spoken: str, first_chars: int = 12, max_chars: int = 40) -> list[str]:
    """Cut spoken text into sentences; a sentence longer than ``max_chars`` is cut at its
    pauses, and the first piece at its first pause after 4 characters when the sentence is
    longer than ``first_chars`` (so synthesis of the first sound has little to do)."""
    sentences = [s for s in re.findall(r"[^" + _SENTENCE_END + r"]+[" + _SENTENCE_END + r"]*", spoken) if s.strip("，、：" + _SENTENCE_END)]
    out: list[str] = []
    for k, s in enumerate(sentences):
        limit = first_chars if k == 0 else max_chars
        while len(s) > limit:
            cut = next((m.end() for m in re.finditer(r"[，、：]", s) if 4 <= m.end() < len(s) and m.end() <= max(limit, 4)), None)
            if cut is None:  # no pause early enough: the first pause at all, else keep it whole
                cut = next((m.end() for m in re.finditer(r"[，、：]", s) if 4 <= m.end() < len(s)), None)
            if cut is None:
                break
            out.append(s[:cut])
            s = s[cut:]
            limit = max_chars
        out.append(s)
    return out


def prepare(text: str, first_chars: int = 12, max_chars: int = 40) -> list[Chunk]:
    """``text`` as shown → the chunks to read, in order; [] when nothing is sayable."""
    chunks = []
    for piece in split(normalise(text), first_chars, max_chars):
        py = to_pinyin(piece)
        n = sum(1 for s in syllables(piece) if s.kind != "pause")
        if n:
            chunks.append(Chunk(piece, py, n))
    return chunks
