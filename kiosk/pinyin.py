"""Pinyin initials of names as shown, for the big-key initials pad (ZS → 张*三).

County side only (bundle build): uses pypinyin (well-kept, ships its own dictionary); the
kiosk never imports this module, it only queries the ``initials`` column the build wrote.

Only visible characters count: a masked name 张*三 gives the initials of 张 and 三, never of
the hidden character (it is not in the bundle at all). Polyphonic characters (曾 zeng/ceng,
单 shan/dan/chan) give every reading, so a villager who says either finds the name.
Characters pypinyin does not know (rare Ext-B characters) contribute no letter.
"""
from __future__ import annotations

import itertools
import re
from functools import lru_cache

#: Upper bound of readings kept per name (product of polyphonic choices).
MAX_VARIANTS = 8
_HIDDEN = re.compile(r"[*＊·•\s]+")


@lru_cache(maxsize=65536)
def char_initials(ch: str) -> tuple[str, ...]:
    """Lower-case first letters of every reading of one character: 单 → ('d', 'c', 's'); () if unknown."""
    from pypinyin import Style, pinyin  # imported late: build-time dependency only

    if ch.isascii():
        return (ch.lower(),) if ch.isalnum() else ()
    readings = pinyin(ch, style=Style.FIRST_LETTER, heteronym=True, errors="ignore")
    letters = [r[:1].lower() for group in readings for r in group if r and r[:1].isalpha()]
    return tuple(dict.fromkeys(letters))


def name_initials(shown: str | None) -> list[str]:
    """Every initials string of a name as shown: ``张*三`` → ``['zs']``, ``曾*`` → ``['z', 'c']``.

    ``shown`` is the public form (already masked); the mask character and separators are
    skipped. Returns at most :data:`MAX_VARIANTS` strings, the common reading first; [] for
    an empty name or one without any known character.
    """
    if not shown:
        return []
    choices = [c for c in (char_initials(ch) for ch in _HIDDEN.sub("", shown)) if c]
    if not choices:
        return []
    return ["".join(p) for p in itertools.islice(itertools.product(*choices), MAX_VARIANTS)]
