"""Monospaced receipt layout in printer columns.

A thermal printer's font A is a grid: ASCII takes one 12-dot column, every character printed
in Chinese mode (hanzi, full-width punctuation, ·, —, “”) takes two. The raster path draws on
the same grid, so text lines and raster lines line up. ``unicodedata.east_asian_width`` is not
used on purpose: it calls “ ” · — "ambiguous" (one column), but GB fonts print them full width.
"""
from __future__ import annotations

import unicodedata


def char_width(ch: str) -> int:
    """Columns ``ch`` takes: 1 for ASCII, 0 for combining marks, 2 for everything else."""
    if ord(ch) < 0x80:
        return 1
    if unicodedata.combining(ch):
        return 0
    return 2


def text_width(text: str) -> int:
    """Columns ``text`` takes."""
    return sum(char_width(c) for c in text)


#: Chinese line-breaking rules (禁则, GB/T 15834 usage): these never start a line …
NO_LINE_START = set("，。、；：？！）》」』】〉”’…—,.;:?!)]}%")
#: … and these never end one.
NO_LINE_END = set("（《「『【〈“‘([{")
#: Middle dots join two parts (a title and its subtitle, 阿依古丽·买买提): never at either end.
MIDDLE_DOTS = set("·・•‧")
#: A middle dot with a space each side is a separator: a line may break there, and then the
#: separator is dropped like a space (the line break separates the parts already).
_SEP = {f" {d} " for d in MIDDLE_DOTS}


def _units(para: str, columns: int) -> list[str]:
    """``para`` as unbreakable pieces: ASCII words (when they fit a line), `` · `` separators,
    single spaces and single other characters."""
    units: list[str] = []
    i = 0
    while i < len(para):
        if para[i:i + 3] in _SEP:
            units.append(para[i:i + 3])
            i += 3
            continue
        j = i
        while j < len(para) and para[j].isascii() and not para[j].isspace():
            j += 1
        at_start = i == 0 or not (para[i - 1].isascii() and not para[i - 1].isspace())
        if at_start and j - i > 1 and text_width(para[i:j]) <= columns:
            units.append(para[i:j])
            i = j
        else:
            units.append(para[i])
            i += 1
    return units


def _is_gap(u: str) -> bool:
    return u == " " or u in _SEP


def _may_break(before: str, after: str) -> bool:
    """禁则 between the last piece of one line and the first of the next."""
    return not (before[-1] in NO_LINE_END or before[-1] in MIDDLE_DOTS
                or after[0] in NO_LINE_START or after[0] in MIDDLE_DOTS)


def _break(seq: list[str], columns: int) -> tuple[list[str], list[str]]:
    """Split ``seq`` (one piece wider than a line) into a line and the rest.

    Prefers the last `` · `` separator, then the last space, whose line fills at least half the
    paper; then the last place the 禁则 allow; if none leaves a rest that fits, the rule gives
    way and the line ends before the last piece.
    """
    seps, spaces, chars = [], [], []
    for p in range(len(seq) - 1, 0, -1):
        if _is_gap(seq[p]):
            left, right = seq[:p], seq[p + 1:]
            while left and left[-1] == " ":
                left = left[:-1]
            if left and (not right or _may_break(left[-1], right[0])):
                (seps if seq[p] in _SEP else spaces).append((left, right))
        elif not _is_gap(seq[p - 1]) and _may_break(seq[p - 1], seq[p]):
            chars.append((seq[:p], seq[p:]))

    def fits(left, right):
        return text_width("".join(right)) <= columns

    for left, right in seps + spaces:
        if fits(left, right) and text_width("".join(left)) * 2 >= columns:
            return left, right
    for left, right in chars + seps + spaces:
        if fits(left, right):
            return left, right
    return seq[:-1], seq[-1:]


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` columns, never inside a character.

    An ASCII word (e.g. a URL or a fingerprint group) is kept whole when it fits on a line; a
    line breaks at its last `` · `` separator, else its last space, when that fills at least half
    the line (the separator is then dropped); Chinese breaks between any two characters, except that
    closing punctuation (、，。）》…) does not start a line, opening brackets do not end one and
    a middle dot does neither (neighbouring characters move down with it). Explicit ``\\n``
    starts a new line. Empty text gives one empty line.
    """
    if columns < 2:
        raise ValueError("need at least 2 columns")
    out: list[str] = []
    for para in text.split("\n"):
        line: list[str] = []
        for u in _units(para, columns):
            if text_width("".join(line) + u) <= columns or not line:
                line.append(u)
                continue
            left, line = _break(line + [u], columns)
            out.append("".join(left).rstrip(" "))
            while line and _is_gap(line[0]) and len(line) > 1:
                line = line[1:]
            if line and _is_gap(line[0]):
                line = []
        out.append("".join(line).rstrip(" "))
    return out


def pad(text: str, columns: int, align: str = "left") -> str:
    """``text`` padded with spaces to exactly ``columns`` columns (``left``, ``right``, ``center``).

    Raises:
        ValueError: the text is wider than ``columns``.
    """
    w = text_width(text)
    if w > columns:
        raise ValueError(f"{text!r} is {w} columns, more than {columns}")
    gap = columns - w
    if align == "right":
        return " " * gap + text
    if align == "center":
        return " " * (gap // 2) + text + " " * (gap - gap // 2)
    return text + " " * gap


def key_value(key: str, value: str, columns: int) -> list[str]:
    """``key`` at the left and ``value`` at the right of one line; if both do not fit, the key
    (wrapped) and then the value (wrapped, right-aligned) on lines of their own."""
    kw, vw = text_width(key), text_width(value)
    if kw + 1 + vw <= columns:
        return [key + " " * (columns - kw - vw) + value]
    lines = wrap(key, columns)
    lines += [pad(v, columns, "right") for v in wrap(value, columns)]
    return lines


def column_widths(rows: list[list[str]], columns: int, gap: int = 1,
                  aligns: list[str] | None = None) -> list[int]:
    """Widths for a table's columns so the whole row fits ``columns``.

    Amount columns (every column not aligned ``left``; by default all but the first) get
    exactly their widest cell, so a figure is never wrapped; the text columns share the rest.
    When the text does not fit, the widest text column gives up columns first (never below 4,
    so a Chinese character and a digit still fit, and its cells wrap); spare columns go to the
    first column, so the table spans the paper and amounts end at the right edge.

    Raises:
        ValueError: the amount columns alone do not leave 4 columns for each text column.
    """
    n = max(len(r) for r in rows)
    aligns = list(aligns or ["left"] + ["right"] * (n - 1))
    text_cols = [i for i in range(n) if (aligns[i] if i < len(aligns) else "left") == "left"] or [0]
    widths = [max((text_width(r[i]) for r in rows if i < len(r)), default=0) for i in range(n)]
    widths = [max(w, 2) for w in widths]
    budget = columns - gap * (n - 1)
    fixed = sum(w for i, w in enumerate(widths) if i not in text_cols)
    if budget - fixed < 4 * len(text_cols):
        raise ValueError(f"{n} table columns do not fit {columns} columns")
    while sum(widths) > budget:
        i = max(text_cols, key=lambda k: widths[k])
        widths[i] -= 1
    widths[0] += budget - sum(widths)  # spare room goes to the first (description) column
    return widths


def table(rows: list[list[str]], columns: int, aligns: list[str], gap: int = 1,
          widths: list[int] | None = None) -> list[str]:
    """Lay out ``rows`` (lists of cell strings) as aligned lines of ``columns`` columns.

    A cell too wide for its column wraps inside the column (the row gets more lines); the other
    cells stay on the row's first line. ``aligns`` gives ``left``/``right``/``center`` per column.
    ``widths`` (from :func:`column_widths`) lets several parts of one table share columns.
    """
    widths = widths or column_widths(rows, columns, gap, aligns)
    out: list[str] = []
    for row in rows:
        cells = [wrap(row[i] if i < len(row) else "", widths[i]) for i in range(len(widths))]
        height = max(len(c) for c in cells)
        for k in range(height):
            parts = [pad(c[k] if k < len(c) else "", widths[i], aligns[i] if i < len(aligns) else "left")
                     for i, c in enumerate(cells)]
            out.append((" " * gap).join(parts).rstrip(" "))
    return out
