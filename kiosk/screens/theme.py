"""Physical sizes, the fixed font sizes and the colours of every screen (no Kivy imports).

Sizes are physical, computed from the configured panel (``config["panel"]``: pixels and the
diagonal in inches, or the visible area in millimetres), never hardcoded pixels, so a
different panel keeps the same millimetres:

- touch targets: at least :data:`TARGET_MM` (20 mm) in both directions;
- text: a Label's ``font_size`` (the em box in px, which a CJK ideograph fills almost
  entirely, so it is the height of a Chinese character) is at least :data:`MIN_TEXT_MM`
  (8 mm) of px; only the few sizes in :attr:`Theme.fonts` are used (Kivy caches text
  textures per size), from one ladder shared by 标准, 大字 and 特大字 (:data:`FONT_LADDER_MM`);
- line spacing: ``line_height`` :data:`LINE_HEIGHT` (≥ 1.3, MIIT 适老化 2021);
- contrast: text colour against its effective background at least 7:1 (WCAG 2.x
  relative-luminance contrast ratio, level AAA, https://www.w3.org/TR/WCAG21/#contrast-enhanced),
  in the default palette and in 高对比 (:data:`PALETTES`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

TARGET_MM = 20.0
MIN_TEXT_MM = 8.0
LINE_HEIGHT = 1.35
MIN_CONTRAST = 7.0
#: a line's glyph box (ascent to descent) in ems of the main font (Noto Sans CJK SC: 1.448)
GLYPH_BOX = 1.45


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


#: The two palettes. Every text/background pair used on screen is ≥ 7:1 in both (the layout
#: test checks each widget at every setting). Both have the same names: kv rules bind to the
#: palette in use (kiosk.screens.palette.C), so switching palettes recolours every screen.
PALETTES: dict[str, dict[str, tuple]] = {
    "default": {
        "bg": hex_rgba("#f7f5ef"),          # warm off-white page
        "text": hex_rgba("#151515"),
        "muted": hex_rgba("#333333"),       # secondary text, still 11:1 on bg
        "header_bg": hex_rgba("#0d3b66"),   # deep blue header
        "header_text": hex_rgba("#ffffff"),
        "button_bg": hex_rgba("#0d3b66"),
        "button_text": hex_rgba("#ffffff"),
        "button2_bg": hex_rgba("#ffffff"),  # secondary (outlined) buttons, chips
        "button2_text": hex_rgba("#0d3b66"),
        "pressed_bg": hex_rgba("#151515"),  # a button under the finger
        "pressed2_bg": hex_rgba("#eef2f7"),
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
        "header_line": hex_rgba("#0d3b66"),  # under the header (invisible on the light page)
        "tool_on_bg": hex_rgba("#ffd500"),   # a header control that is on (大字, 高对比, 朗读)
        "tool_on_text": hex_rgba("#000000"),
        "amber_text": hex_rgba("#5c3d00"),   # 提示 as text: amber-brown, 9.9:1 on white, 8.7:1 on row_alt_bg
    },
    # 高对比: light text on black, yellow for what can be tapped (the usual high-contrast
    # scheme of phones and of the MIIT 适老化 guidance for apps).
    "high": {
        "bg": hex_rgba("#000000"),
        "text": hex_rgba("#ffffff"),
        "muted": hex_rgba("#d8d8d8"),
        "header_bg": hex_rgba("#000000"),
        "header_text": hex_rgba("#ffffff"),
        "button_bg": hex_rgba("#000000"),
        "button_text": hex_rgba("#ffff00"),
        "button2_bg": hex_rgba("#000000"),
        "button2_text": hex_rgba("#ffffff"),
        "pressed_bg": hex_rgba("#404040"),
        "pressed2_bg": hex_rgba("#404040"),
        "chip_on_bg": hex_rgba("#ffff00"),
        "chip_on_text": hex_rgba("#000000"),
        "row_bg": hex_rgba("#000000"),
        "row_alt_bg": hex_rgba("#1a1a1a"),
        "income": hex_rgba("#7cff7c"),
        "expense": hex_rgba("#ffa0a0"),
        "footer_bg": hex_rgba("#000000"),
        "footer_text": hex_rgba("#ffffff"),
        "stale_bg": hex_rgba("#ffb000"),
        "stale_text": hex_rgba("#000000"),
        "banner_bg": hex_rgba("#7a0000"),
        "banner_text": hex_rgba("#ffffff"),
        "done_bg": hex_rgba("#003d00"),
        "done_text": hex_rgba("#ffffff"),
        "skipped_bg": hex_rgba("#404040"),
        "skipped_text": hex_rgba("#ffffff"),
        "pending_bg": hex_rgba("#000000"),
        "pending_text": hex_rgba("#d8d8d8"),
        "sample_bg": hex_rgba("#ffb000"),
        "sample_text": hex_rgba("#000000"),
        "decision_bg": hex_rgba("#333300"),
        "line": hex_rgba("#ffffff"),
        "border": hex_rgba("#ffff00"),
        "header_line": hex_rgba("#ffff00"),
        "tool_on_bg": hex_rgba("#ffff00"),
        "tool_on_text": hex_rgba("#000000"),
        "amber_text": hex_rgba("#ffc04d"),
    },
}
CONTRASTS = tuple(PALETTES)

#: The palette in use, changed in place by :func:`use_palette` (Python code that builds
#: widgets reads colours from here; kv rules bind to kiosk.screens.palette.C instead).
COLORS: dict[str, tuple] = dict(PALETTES["default"])


def use_palette(contrast: str) -> dict:
    """Make ``contrast`` (``default`` | ``high``) the palette in :data:`COLORS`; returns it.

    Raises:
        KeyError: an unknown palette.
    """
    COLORS.update(PALETTES[contrast])
    return COLORS


# ---- physical panel size ------------------------------------------------------------------
MM_PER_INCH = 25.4

#: Physical sizes of the panels counties buy, by resolution, for screenshots and tests of a
#: resolution the config does not describe: (diagonal in inches, what it is).
TYPICAL_PANELS: dict[tuple[int, int], tuple[float, str]] = {
    (1920, 1080): (21.5, "21.5-inch wall or desk kiosk"),
    (1366, 768): (18.5, "18.5-inch desk kiosk"),
    (1280, 800): (15.6, "15.6-inch wall kiosk"),
    (1280, 1024): (17.0, "17-inch 5:4 desk kiosk"),
    (1080, 1920): (32.0, "32-inch floor-standing kiosk, portrait"),
}


def panel_mm(panel: dict) -> tuple[float, float]:
    """Physical width and height (mm) of ``panel`` (``config["panel"]``): ``width_mm`` and
    ``height_mm`` when given (the visible area from the panel's data sheet), else from
    ``diagonal_inch`` and the pixel size (square pixels).

    Raises:
        ValueError: a missing or non-positive dimension.
    """
    try:
        w, h = float(panel["width_px"]), float(panel["height_px"])
        if panel.get("width_mm") and panel.get("height_mm"):
            wmm, hmm = float(panel["width_mm"]), float(panel["height_mm"])
        else:
            d = float(panel["diagonal_inch"]) * MM_PER_INCH
            wmm, hmm = d * w / math.hypot(w, h), d * h / math.hypot(w, h)
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        raise ValueError(f"bad panel size: {panel!r} (give width_px, height_px and diagonal_inch or width_mm/height_mm)") from None
    if min(w, h, wmm, hmm) <= 0:
        raise ValueError(f"bad panel size: {panel!r}")
    return wmm, hmm


def typical_panel(width_px: int, height_px: int, fallback: dict | None = None) -> dict:
    """A panel of ``width_px`` × ``height_px``: ``fallback``'s physical size when it has those
    pixels, else the typical diagonal of :data:`TYPICAL_PANELS`, else ``fallback``'s diagonal."""
    if fallback and (int(fallback["width_px"]), int(fallback["height_px"])) == (width_px, height_px):
        return dict(fallback)
    if (width_px, height_px) in TYPICAL_PANELS:
        return {"width_px": width_px, "height_px": height_px, "diagonal_inch": TYPICAL_PANELS[(width_px, height_px)][0]}
    return {"width_px": width_px, "height_px": height_px,
            "diagonal_inch": float((fallback or {}).get("diagonal_inch", 21.5))}


# ---- text sizes ---------------------------------------------------------------------------
#: The text scales: 标准, 大字 (1.25×), 特大字 (1.5×).
TEXT_SCALES = (1.0, 1.25, 1.5)
TEXT_SCALE_NAMES = {1.0: "标准", 1.25: "大字", 1.5: "特大字"}
#: Font sizes in mm (the em height) used at any scale: each role at 大字 and 特大字 is the
#: step nearest 1.25× and 1.5× of its size at 标准, so the three settings together use 8
#: sizes rather than 12 (every size is a font face and a set of glyphs Kivy keeps).
FONT_LADDER_MM = (9, 11, 14, 17, 19, 21, 24, 28)
ROLES = ("body", "large", "title", "huge")
ROLE_MM = {
    1.0: {"body": 9, "large": 11, "title": 14, "huge": 19},
    1.25: {"body": 11, "large": 14, "title": 17, "huge": 24},
    1.5: {"body": 14, "large": 17, "title": 21, "huge": 28},
}


@dataclass(frozen=True)
class Theme:
    """Pixel sizes for one panel at one text scale, and the palette in use.

    Layout sizes grow with the text: :meth:`mm` is millimetres at the current scale (a box
    of ``mm(30)`` is 30 mm at 标准 and 45 mm at 特大字), so what fits at 标准 on a panel fits at
    特大字 on one 1.5 times as large; :attr:`width_mm`/:attr:`height_mm` say how much room
    that leaves (layouts choose their columns by them).

    Attributes:
        px_per_mm: pixels per physical millimetre of the panel.
        scale: text scale (1.0, 1.25, 1.5).
        contrast: ``default`` | ``high``.
        target: touch target side in px for layouts (20 mm × scale).
        min_target: the smallest touch target allowed, in px (20 mm, physical).
        min_font: the smallest font_size allowed, in px (8 mm, physical).
        fonts: the only font sizes used, in px, by role: body, large, title, huge, and ui
            (the frame's own controls and footer: the body size of 标准 at every scale, so
            the buttons that change the text size stay where and as they were).
        width_mm, height_mm: the window in millimetres at this scale (physical ÷ scale).
    """

    px_per_mm: float
    target: int
    min_font: int
    fonts: dict = field(default_factory=dict)
    scale: float = 1.0
    contrast: str = "default"
    min_target: int = 0
    width_mm: float = 0.0
    height_mm: float = 0.0

    def mm(self, v: float) -> int:
        """``v`` millimetres at this text scale in whole px (rounded up, so a minimum stays a
        minimum)."""
        return math.ceil(v * self.px_per_mm * self.scale)

    def phys_mm(self, v: float) -> int:
        """``v`` physical millimetres in whole px (rounded up)."""
        return math.ceil(v * self.px_per_mm)

    def lines_px(self, role: str, n: int = 1) -> int:
        """Height in px of ``n`` lines of text in ``role``'s size: each line's glyph box
        (ascent to descent, :data:`GLYPH_BOX` of the size) and the line spacing between them."""
        box = self.fonts[role] * GLYPH_BOX
        return math.ceil(n * box + (n - 1) * (LINE_HEIGHT - 1) * box)

    @property
    def portrait(self) -> bool:
        return self.height_mm > self.width_mm

    def cols(self, min_col_mm: float, most: int) -> int:
        """How many columns of at least ``min_col_mm`` (at this scale) fit across the
        window, from 1 to ``most``."""
        return max(1, min(most, int(self.width_mm // min_col_mm)))


def theme_for(panel: dict, scale: float = 1.0, contrast: str = "default",
              window_px: tuple[int, int] | None = None) -> Theme:
    """Theme for ``panel`` (``config["panel"]``, see :func:`panel_mm`) at text ``scale`` (one
    of :data:`TEXT_SCALES`) with palette ``contrast``; ``window_px`` is the window's size
    (default: the panel's pixels).

    Raises:
        ValueError: a bad panel size, an unknown scale or palette.
    """
    if scale not in ROLE_MM:
        raise ValueError(f"text scale must be one of {TEXT_SCALES}, not {scale!r}")
    if contrast not in PALETTES:
        raise ValueError(f"contrast must be one of {CONTRASTS}, not {contrast!r}")
    wmm, _hmm = panel_mm(panel)
    ppm = float(panel["width_px"]) / wmm
    phys = lambda v: math.ceil(v * ppm)  # noqa: E731
    fonts = {role: phys(ROLE_MM[scale][role]) for role in ROLES}
    fonts["ui"] = phys(ROLE_MM[1.0]["body"])
    win_w, win_h = window_px or (float(panel["width_px"]), float(panel["height_px"]))
    return Theme(px_per_mm=ppm, target=math.ceil(TARGET_MM * ppm * scale), min_font=phys(MIN_TEXT_MM),
                 fonts=fonts, scale=scale, contrast=contrast, min_target=phys(TARGET_MM),
                 width_mm=win_w / (ppm * scale), height_mm=win_h / (ppm * scale))
