"""Physical sizes, the fixed font sizes and the colours of every screen (no Kivy imports).

Sizes are physical, computed from the configured panel (``config["panel"]``: pixels and the
diagonal in inches), never hardcoded pixels, so a different panel keeps the same millimetres:

- touch targets: at least :data:`TARGET_MM` (20 mm) in both directions;
- text: a Label's ``font_size`` (the em box in px, which a CJK ideograph fills almost
  entirely, so it is the height of a Chinese character) is at least :data:`MIN_TEXT_MM`
  (8 mm) of px; only the few sizes in :attr:`Theme.fonts` are used (Kivy caches text
  textures per size);
- line spacing: ``line_height`` :data:`LINE_HEIGHT` (≥ 1.3, MIIT 适老化 2021);
- contrast: text colour against its effective background at least 7:1 (WCAG 2.x
  relative-luminance contrast ratio, level AAA, https://www.w3.org/TR/WCAG21/#contrast-enhanced).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

TARGET_MM = 20.0
MIN_TEXT_MM = 8.0
LINE_HEIGHT = 1.35
MIN_CONTRAST = 7.0


def hex_rgba(h: str, a: float = 1.0) -> tuple[float, float, float, float]:
    """``"#1a2b3c"`` → ``(r, g, b, a)`` with channels in 0..1 (Kivy colour)."""
    h = h.lstrip("#")
    return (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255, a)


def relative_luminance(rgba) -> float:
    """WCAG 2.x relative luminance of an sRGB colour with channels in 0..1."""

    def lin(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (lin(c) for c in rgba[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg, bg) -> float:
    """WCAG contrast ratio (1..21) of two opaque colours."""
    a, b = sorted((relative_luminance(fg), relative_luminance(bg)), reverse=True)
    return (a + 0.05) / (b + 0.05)


#: Colours (all text/background pairs used on screen are ≥ 7:1; tests check each widget).
COLORS = {
    "bg": hex_rgba("#f7f5ef"),          # warm off-white page
    "text": hex_rgba("#151515"),
    "muted": hex_rgba("#333333"),       # secondary text, still 11:1 on bg
    "header_bg": hex_rgba("#0d3b66"),   # deep blue header
    "header_text": hex_rgba("#ffffff"),
    "button_bg": hex_rgba("#0d3b66"),
    "button_text": hex_rgba("#ffffff"),
    "button2_bg": hex_rgba("#ffffff"),  # secondary (outlined) buttons, chips
    "button2_text": hex_rgba("#0d3b66"),
    "chip_on_bg": hex_rgba("#0d3b66"),
    "chip_on_text": hex_rgba("#ffffff"),
    "row_bg": hex_rgba("#ffffff"),
    "row_alt_bg": hex_rgba("#eef2f7"),
    "income": hex_rgba("#0a5a1e"),      # dark green: 收入
    "expense": hex_rgba("#8a1010"),     # dark red: 支出
    "footer_bg": hex_rgba("#2b2b2b"),
    "footer_text": hex_rgba("#ffffff"),
    "stale_bg": hex_rgba("#ffb000"),    # amber: data older than stale_after_days
    "stale_text": hex_rgba("#000000"),
    "banner_bg": hex_rgba("#7a0000"),
    "banner_text": hex_rgba("#ffffff"),
    "done_bg": hex_rgba("#0a5a1e"),     # project stage done
    "done_text": hex_rgba("#ffffff"),
    "skipped_bg": hex_rgba("#d9d9d9"),  # project stage skipped
    "skipped_text": hex_rgba("#151515"),
    "pending_bg": hex_rgba("#ffffff"),  # project stage not reached
    "pending_text": hex_rgba("#333333"),
    "sample_bg": hex_rgba("#ffb000"),   # 示例 label
    "sample_text": hex_rgba("#000000"),
    "decision_bg": hex_rgba("#fff3c4"), # flowchart decision box
    "line": hex_rgba("#151515"),
    "border": hex_rgba("#0d3b66"),
}


@dataclass(frozen=True)
class Theme:
    """Pixel sizes for one panel.

    Attributes:
        px_per_mm: pixels per millimetre of the panel (from its pixel size and diagonal).
        target: minimum touch target side in px (20 mm).
        min_font: minimum font_size in px (8 mm).
        fonts: the only font sizes used, in px: body, large, title, huge.
    """

    px_per_mm: float
    target: int
    min_font: int
    fonts: dict = field(default_factory=dict)

    def mm(self, v: float) -> int:
        """``v`` millimetres in whole px (rounded up, so a minimum stays a minimum)."""
        return math.ceil(v * self.px_per_mm)


def theme_for(panel: dict) -> Theme:
    """Theme for ``panel`` = ``{"width_px", "height_px", "diagonal_inch"}`` (kiosk/config.py).

    Raises:
        ValueError: a non-positive dimension.
    """
    w, h, d = float(panel["width_px"]), float(panel["height_px"]), float(panel["diagonal_inch"])
    if min(w, h, d) <= 0:
        raise ValueError(f"bad panel size: {panel!r}")
    ppm = math.hypot(w, h) / (d * 25.4)
    mm = lambda v: math.ceil(v * ppm)  # noqa: E731
    fonts = {"body": mm(9), "large": mm(11), "title": mm(14), "huge": mm(19)}
    return Theme(px_per_mm=ppm, target=mm(TARGET_MM), min_font=mm(MIN_TEXT_MM), fonts=fonts)
