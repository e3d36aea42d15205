"""Chinese line breaking (禁则, :mod:`kiosk.linebreak`) for Kivy labels.

Kivy breaks lines only at ASCII spaces, so Chinese text is broken anywhere or nowhere. Wrap
the plain text first, then give the label the result::

    label.text = rich(wrapped(text, label.width - padding, label.font_name, label.font_size))

:func:`wrapped` measures with the label's own font and size, breaks by the shared rules and
joins the lines with ``\\n``; spaces left inside a line become no-break spaces, so Kivy does
not break the line again (keep ``text_size`` at the same width or ``(None, None)``). Name
marks (:func:`kiosk.linebreak.mark_name`) keep a name on one line and are removed.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Callable

from kivy.core.text import Label as CoreLabel

from kiosk.linebreak import wrap


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
