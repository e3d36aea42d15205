"""Draw receipt lines as a 1-bit image with the app's fonts (Pillow), on the printer's grid.

Used for printers without a Chinese font and for any line holding a character the printer's
font lacks. Each character is drawn centred in its own cell (12 dots for ASCII, 24 for the
rest, times the magnification), so a raster line keeps the same columns as a text line.
Fonts: the Simplified Chinese main font, then the fallbacks for Ext-A/B (kiosk.fonts).
"""
from __future__ import annotations

import functools

from PIL import Image, ImageDraw, ImageFont

from kiosk import fonts

from .errors import UnprintableText
from .layout import char_width
from .profiles import CELL_H, CELL_W, LINE_PITCH

#: Ink threshold on the anti-aliased grey image (0 black .. 255 white).
THRESHOLD = 150


@functools.lru_cache(maxsize=64)
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size)


def font_path_for(ch: str, bold: bool = False) -> str:
    """The font that has a glyph for ``ch`` (main, then fallbacks).

    Raises:
        UnprintableText: no installed font has it (it would print as a box).
    """
    path = fonts.font_for(ch, bold)
    if not ch.isspace() and not fonts.covers(path, ch):
        raise UnprintableText(
            f"no font has a glyph for {ch!r} (U+{ord(ch):04X})",
            f"字符“{ch}”无法打印，请联系技术人员",
        )
    return path


def line_height(scale: int = 1) -> int:
    """Dots one raster line takes at magnification ``scale``."""
    return LINE_PITCH * scale


def render_lines(lines: list[tuple[str, int, bool]], width: int) -> Image.Image:
    """A ``width``-dot wide 1-bit image (mode ``"1"``, 0 = ink) of ``lines``.

    Args:
        lines: ``(text, scale, bold)``; text already laid out in columns (see :mod:`.layout`).
        width: paper width in dots.

    Raises:
        UnprintableText: a character no font has.
    """
    height = sum(line_height(s) for _, s, _ in lines)
    img = Image.new("L", (width, max(height, 1)), 255)
    draw = ImageDraw.Draw(img)
    y = 0
    for text, scale, bold in lines:
        x = 0
        cy = y + (line_height(scale) - CELL_H * scale) // 2 + CELL_H * scale // 2
        for ch in text:
            cw = char_width(ch) * CELL_W * scale
            if cw and not ch.isspace():
                path = font_path_for(ch, bold)
                # 24-dot characters in a 24-dot cell; ASCII in the main font's half-width design.
                f = _font(path, CELL_H * scale)
                draw.text((x + cw / 2, cy), ch, font=f, fill=0, anchor="mm")
            x += cw
            if x > width:
                raise ValueError(f"line wider than {width} dots: {text!r}")
        y += line_height(scale)
    return img.point(lambda v: 0 if v < THRESHOLD else 255).convert("1")
