"""Chinese line breaking (禁则, :mod:`kiosk.linebreak`) for Kivy labels.

Kivy breaks lines only at ASCII spaces, so Chinese text is broken anywhere or nowhere. Every
label of the kiosk (``KLabel``) wraps its markup with :func:`wrap_markup` before Kivy lays
it out, whenever it has a wrap width (``text_size``) and is not shortened, so screens give a
label its text as usual. For plain text elsewhere, wrap it first, then give the label the
result::

    label.text = rich(wrapped(text, label.width - padding, label.font_name, label.font_size))

:func:`wrapped` measures with the label's own font and size, breaks by the shared rules and
joins the lines with ``\\n``; spaces left inside a line become no-break spaces, so Kivy does
not break the line again (keep ``text_size`` at the same width or ``(None, None)``). Name
marks (:func:`kiosk.linebreak.mark_name`) keep a name on one line and are removed.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable

from kivy.core.text import Label as CoreLabel

from kiosk.linebreak import NAME_END, NAME_START, strip_marks, wrap


@lru_cache(maxsize=32)
def measure_for(font_name: str, font_size: float, bold: bool = False) -> Callable[[str], float]:
    """A measure (text → width in px) for one font, size and weight; results are cached."""
    core = CoreLabel(font_name=font_name, font_size=font_size, bold=bold)

    @lru_cache(maxsize=8192)
    def measure(s: str) -> float:
        return float(core.get_extents(s)[0])

    return measure


def wrapped(text: str, width: float, font_name: str, font_size: float, bold: bool = False) -> str:
    """``text`` broken into lines no wider than ``width`` px in that font (see the module
    docstring); ``text`` unchanged when ``width`` is not positive yet (a layout not done)."""
    if width <= 0:
        return text
    lines = wrap(text, width, measure_for(font_name, float(font_size), bold))
    return "\n".join(line.replace(" ", "\u00a0") for line in lines)


_TAG = re.compile(r"\[.*?\]")  # what Kivy's markup parser takes for a tag (MarkupLabel.markup)
_ENTITIES = (("&bl;", "["), ("&br;", "]"), ("&amp;", "&"))
#: wrapped markup by (markup, width, font, size, bold); labels render again on every layout
_CACHE: dict = {}
_CACHE_MAX = 4000


def _plain_with_positions(markup: str, font_size: float) -> tuple[str, list[tuple[int, int]], list[float]]:
    """The text a markup string shows; for each of its characters the (start, end) of the
    markup that writes it (an entity such as ``&bl;`` is one character), and its font size
    (``[size=N]`` … ``[/size]``)."""
    plain, spans, sizes = [], [], []
    stack = [float(font_size)]
    i, n = 0, len(markup)
    while i < n:
        if markup[i] == "[":
            m = _TAG.match(markup, i)
            if m:
                tag = m.group()
                if tag.startswith("[size=") and tag[6:-1].isdigit():
                    stack.append(float(tag[6:-1]))
                elif tag == "[/size]" and len(stack) > 1:
                    stack.pop()
                i = m.end()
                continue
        ch, width = markup[i], 1
        if ch == "&":
            for ent, c in _ENTITIES:
                if markup.startswith(ent, i):
                    ch, width = c, len(ent)
                    break
        plain.append(ch)
        spans.append((i, i + width))
        sizes.append(stack[-1])
        i += width
    return "".join(plain), spans, sizes


def wrap_markup(markup: str, width: float, font_name: str, font_size: float, bold: bool = False) -> str:
    """Kivy markup (as :func:`kiosk.screens.widgets.rich` makes it) with a ``\\n`` wherever the
    shared 禁则 rules (:func:`kiosk.linebreak.wrap`) break its text at ``width`` px; the
    spaces or `` · `` separators a line breaks at are dropped, name marks removed, and the
    tags are kept. Measured in the label's font, each paragraph at the largest size it uses
    (``[size=N]``) and in bold where any of it is (``[b]``), so a line is never wider than
    ``width`` (Kivy would break it again, between any two characters).

    ``markup`` unchanged (marks removed) when ``width`` is not positive or it fits on its
    lines as it is.
    """
    key = (markup, int(width), font_name, font_size, bold)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    out = _wrap_markup(markup, width, font_name, font_size, bold)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = out
    return out


def _wrap_markup(markup: str, width: float, font_name: str, font_size: float, bold: bool) -> str:
    clean = strip_marks(markup)
    if width <= 0:
        return clean
    plain, spans, sizes = _plain_with_positions(markup, font_size)
    text = plain.replace("\u00a0", " ")  # rich() made every space a no-break space for Kivy
    bold = bold or "[b]" in markup
    out, m_pos, start, fits = [], 0, 0, True
    paras = []
    for para_end in [i for i, ch in enumerate(text) if ch == "\n"] + [len(text)]:
        # a paragraph is measured at the largest size it uses: never wider than measured
        measure = measure_for(font_name, max(sizes[start:para_end], default=float(font_size)), bold)
        paras.append((start, para_end, measure))
        fits = fits and measure(strip_marks(text[start:para_end])) <= width
        start = para_end + 1
    if fits:
        return clean
    for start, para_end, measure in paras:
        j = start
        for k, line in enumerate(wrap(text[start:para_end], width, measure)):
            if not line:
                continue
            # the line's characters in order; what lies between two lines (the spaces or
            # separator a line broke at, name marks) is dropped, tags there are kept
            while text[j] != line[0]:
                j += 1
            first = j
            for ch in line:
                while text[j] != ch:
                    j += 1
                j += 1
            m_first, m_last = spans[first][0], spans[j - 1][1]
            between = markup[m_pos:m_first]
            out.append(between if k == 0 else "\n" + "".join(_TAG.findall(between)))
            out.append(markup[m_first:m_last])
            m_pos = m_last
        if para_end < len(text):  # the paragraph's own "\n" and the tags around it
            m_nl = spans[para_end][1]
            out.append(markup[m_pos:m_nl])
            m_pos = m_nl
    out.append(markup[m_pos:])
    return strip_marks("".join(out))
