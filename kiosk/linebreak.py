"""Chinese line breaking (禁则), shared by the screens and the receipt composer.

``wrap(text, width, measure)`` breaks a text into lines no wider than ``width``, where
``measure(s)`` gives the width of a piece in any unit (printer columns, pixels). The rules,
from common Chinese typesetting practice (GB/T 15834 punctuation usage; W3C "Requirements
for Chinese Text Layout", clq-req §3.1.7):

- Chinese breaks between any two characters, except that closing punctuation
  (:data:`NO_LINE_START`: ，。、；：？！）》」』〕… ％ and the like) never starts a line, opening
  punctuation (:data:`NO_LINE_END`: （《「『〔 and the like) never ends one, and neither a
  middle dot (阿依古丽·买买提) nor a no-break space (U+00A0) does either.
- These pieces are never broken inside: a Latin word, code or number (``3f9a1c07``,
  ``2026-10-31``, ``https://…``); a number with its unit (``28,280.00 元``, ``30 年``,
  ``1,616 条``, ``第12版``, ``2026年10月15日``); a dash or ellipsis pair (——, ……); and a
  marked name (:data:`NAME_START` … :data:`NAME_END`, see :func:`mark_name`). Only a piece
  wider than a whole line is cut, between characters.
- A line prefers to break at a `` · `` separator, then at a space, when that fills at least
  half the line; the separator or space is then dropped. ``\\n`` starts a new line.
- When no break is allowed that lets the rest fit, the rule gives way rather than overflow.

Why our own: the PyPI line-breakers (uniseg, PyICU) implement Unicode UAX #14, which breaks
``28,280.00 元`` before 元 and knows nothing of names; ICU also needs a C library on the kiosk.
"""
from __future__ import annotations

import re
from typing import Callable, Iterable

#: A name is marked by these two invisible characters (FIRST STRONG ISOLATE … POP
#: DIRECTIONAL ISOLATE): it is never split across lines, and speech reads its first
#: character as a surname (曾 zeng1, 单 shan4). :func:`wrap` removes the marks.
NAME_START = "\u2068"
NAME_END = "\u2069"

#: Never at the start of a line (closing punctuation, marks that follow what they belong to).
NO_LINE_START = frozenset("，。、；：？！）》」』】〉〕〗”’…—～‰％℃°·,.;:?!)]}%\u00a0")
#: Never at the end of a line (opening punctuation, marks that lead what follows).
NO_LINE_END = frozenset("（《「『【〈〔〖“‘([{¥￥$\u00a0")
#: Middle dots join two parts (a title and its subtitle, 阿依古丽·买买提): never at either end.
MIDDLE_DOTS = frozenset("·・•‧")
_SEPARATORS = frozenset(f" {d} " for d in MIDDLE_DOTS)

#: Units kept on the line of their number (a space or no-break space may sit between).
UNITS = ("平方公里", "平方米", "立方米", "万元", "亿元", "千克", "公斤", "公里", "小时", "分钟", "个月",
         "元", "角", "分", "年", "月", "日", "号", "时", "秒", "岁", "条", "笔", "户", "人", "个", "项",
         "次", "家", "份", "张", "名", "间", "台", "辆", "栋", "座", "处", "块", "只", "头", "棵", "株",
         "口", "组", "批", "期", "届", "天", "周", "位", "件", "本", "亩", "吨", "斤", "倍", "层", "套",
         "版", "页", "米", "%", "％", "‰", "℃", "㎡", "m²", "kg", "km")
_ASCII_RUN = re.compile(r"[!-~]+")  # printable ASCII without the space
_NUMBER = re.compile(r"[-−+]?[¥￥$]?\d[\d,]*(?:\.\d+)?")
_WITH_UNIT = re.compile(r"[ \u00a0]?(?:" + "|".join(map(re.escape, sorted(UNITS, key=len, reverse=True))) + ")")
_CN_DATE = re.compile(r"\d{4}年(?:\d{1,2}月(?:\d{1,2}[日号])?)?|\d{1,2}月\d{1,2}[日号]")
_PAIRS = ("——", "……", "⋯⋯")

Measure = Callable[[str], float]


def columns(text: str) -> int:
    """The default measure: 1 for ASCII, 2 for anything else (a Chinese character, full-width
    punctuation), as on a receipt printer or a terminal."""
    return sum(1 if ord(c) < 0x80 else 2 for c in text)


def mark_name(name: str) -> str:
    """``name`` marked so that it is never split and is read with surname readings."""
    return f"{NAME_START}{name}{NAME_END}" if name else name


def strip_marks(text: str) -> str:
    """``text`` without name marks."""
    return text.replace(NAME_START, "").replace(NAME_END, "")


def pieces(text: str) -> list[str]:
    """``text`` (one paragraph) as the pieces :func:`wrap` never breaks inside: names (marks
    removed), Latin words and numbers with their units, `` · `` separators, dash pairs,
    single spaces and single other characters."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == NAME_START:
            j = text.find(NAME_END, i + 1)
            j = n if j < 0 else j
            if j > i + 1:
                out.append(strip_marks(text[i + 1:j]))
            i = j + 1
            continue
        if ch == NAME_END:
            i += 1
            continue
        if text[i:i + 3] in _SEPARATORS:
            out.append(text[i:i + 3])
            i += 3
            continue
        if text[i:i + 2] in _PAIRS:
            out.append(text[i:i + 2])
            i += 2
            continue
        m = _CN_DATE.match(text, i)
        if m:
            out.append(m.group())
            i = m.end()
            continue
        m = _ASCII_RUN.match(text, i) if ch.isascii() else _NUMBER.match(text, i)
        if m:
            j = m.end()
            if _NUMBER.fullmatch(text, i, j):
                u = _WITH_UNIT.match(text, j)
                j = u.end() if u else j
                if out and out[-1] == "第":  # 第12版 stays whole
                    out[-1] += text[i:j]
                    i = j
                    continue
            out.append(text[i:j])
            i = j
            continue
        out.append(ch)
        i += 1
    return out


def _is_gap(p: str) -> bool:
    return p == " " or p in _SEPARATORS


def may_break(before: str, after: str) -> bool:
    """Whether a line may end after the piece ``before`` and the next start with ``after``."""
    return not (before[-1] in NO_LINE_END or before[-1] in MIDDLE_DOTS
                or after[0] in NO_LINE_START or after[0] in MIDDLE_DOTS)


class _Widths:
    """Widths of pieces, each measured once (a Kivy measure is slow); a line's width is the
    sum of its pieces'."""

    def __init__(self, measure: Measure):
        self.measure, self.cache = measure, {}

    def __call__(self, seq: Iterable[str]) -> float:
        total = 0.0
        for p in seq:
            w = self.cache.get(p)
            if w is None:
                w = self.cache[p] = self.measure(p)
            total += w
        return total


def _break(seq: list[str], width: float, w: _Widths) -> tuple[list[str], list[str]]:
    """Split ``seq`` (wider than a line) into a line and the rest (see the module docstring)."""
    seps, spaces, chars = [], [], []
    for p in range(len(seq) - 1, 0, -1):
        if _is_gap(seq[p]):
            left, right = seq[:p], seq[p + 1:]
            while left and left[-1] == " ":
                left = left[:-1]
            if left and (not right or may_break(left[-1], right[0])):
                (seps if seq[p] in _SEPARATORS else spaces).append((left, right))
        elif not _is_gap(seq[p - 1]) and may_break(seq[p - 1], seq[p]):
            chars.append((seq[:p], seq[p:]))

    def fits(left, right):
        while right and _is_gap(right[-1]):  # a trailing space takes no room at a line end
            right = right[:-1]
        return w(left) <= width and w(right) <= width

    for left, right in seps + spaces:
        if fits(left, right) and w(left) * 2 >= width:
            return left, right
    for left, right in chars + seps + spaces:
        if fits(left, right):
            return left, right
    return seq[:-1], seq[-1:]


def wrap(text: str, width: float, measure: Measure = columns) -> list[str]:
    """Break ``text`` into lines at most ``width`` wide (see the module docstring).

    Args:
        width: the line width, in ``measure``'s unit.
        measure: width of a piece of text (default :func:`columns`). Screens pass their
            label's text width in pixels, e.g. ``lambda s: core_label.get_extents(s)[0]``;
            widths are assumed to add up (a line is measured piece by piece).

    Returns the lines, without name marks and without the spaces or separators where lines
    break; an empty text gives one empty line.

    Raises:
        ValueError: ``width`` is not positive.
    """
    if width <= 0:
        raise ValueError("width must be positive")
    w = _Widths(measure)
    out: list[str] = []
    for para in text.split("\n"):
        lines: list[list[str]] = []
        line: list[str] = []
        for piece in _fit(pieces(para), width, w):
            # A space is only a place to break: the break is decided by what follows it.
            if not line or _is_gap(piece) or w(line) + w([piece]) <= width:
                line.append(piece)
                continue
            left, line = _break(line + [piece], width, w)
            while left and left[-1] == " ":
                left = left[:-1]
            lines.append(left)
            while line and _is_gap(line[0]) and len(line) > 1:
                line = line[1:]
            if line and _is_gap(line[0]):
                line = []
        while line and _is_gap(line[-1]):
            line.pop()
        lines.append(line)
        _no_widow(lines, width, w)
        out.extend("".join(ln) for ln in lines)
    return out


def _is_widow(line: list[str]) -> bool:
    """A last line of one Chinese character, with at most its closing punctuation (…监督平台投
    / 诉。): Chinese typesetting avoids it (W3C clreq §3.1.7, 孤字)."""
    text = "".join(line).rstrip("".join(NO_LINE_START))
    return len(text) == 1 and "\u3400" <= text <= "\u9fff"


def _no_widow(lines: list[list[str]], width: float, w: _Widths) -> None:
    """Give a widowed last line the previous line's last piece, where a break is allowed
    before that piece and the previous line keeps at least two characters."""
    if len(lines) < 2 or not _is_widow(lines[-1]):
        return
    prev = lines[-2]
    if len(prev) < 2 or len("".join(prev[:-1])) < 2 or _is_gap(prev[-1]) or _is_gap(prev[-2]) \
            or not may_break(prev[-2], prev[-1]):
        return
    if w([prev[-1]] + lines[-1]) <= width:
        lines[-1].insert(0, prev.pop())


def _fit(seq: list[str], width: float, w: _Widths) -> list[str]:
    """Pieces wider than a whole line are cut into characters (nothing else can fit)."""
    out: list[str] = []
    for p in seq:
        if len(p) > 1 and not _is_gap(p) and w([p]) > width:
            parts = re.findall(r"\d+[年月日号]", p) if _CN_DATE.fullmatch(p) else []
            # a date cut into 2025年 / 7月 / 16日 (a part still too wide: into characters)
            out.extend(_fit(parts, width, w) if len(parts) > 1 and "".join(parts) == p else list(p))
        else:
            out.append(p)
    return out
