"""Monospaced receipt layout in printer columns.

A thermal printer's font A is a grid: ASCII takes one 12-dot column, every character printed
in Chinese mode (hanzi, full-width punctuation, ·, —, “”) takes two. The raster path draws on
the same grid, so text lines and raster lines line up. ``unicodedata.east_asian_width`` is not
used on purpose: it calls “ ” · — "ambiguous" (one column), but GB fonts print them full width.
"""
from __future__ import annotations

import unicodedata

from kiosk import linebreak
from kiosk.linebreak import MIDDLE_DOTS, NO_LINE_END, NO_LINE_START  # noqa: F401 - re-exported


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


def wrap(text: str, columns: int) -> list[str]:
    """Break ``text`` into lines of at most ``columns`` printer columns, by the Chinese
    line-breaking rules of :func:`kiosk.linebreak.wrap` (the screens use the same rules).

    Raises:
        ValueError: fewer than 2 columns (a Chinese character needs 2).
    """
    if columns < 2:
        raise ValueError("need at least 2 columns")
    return linebreak.wrap(text, columns, text_width)


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
