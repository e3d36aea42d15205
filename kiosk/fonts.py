"""Fonts for Simplified Chinese, with a per-run fallback so no character shows as a box.

Why our own code: neither Kivy nor Pillow has font fallback, and Debian's Noto Sans CJK ships
as a ``.ttc`` whose face 0 is Japanese (Kivy and SDL_ttf always open face 0). We extract the
"Noto Sans CJK SC" faces once with fontTools into a cache folder, and split text into runs
by which font covers each character (Hanazono A/B cover CJK Ext-A/B name characters).

No Kivy imports: the printer's raster path uses the same fonts through Pillow.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import platformdirs

#: Where Debian/Ubuntu put the fonts the Makefile installs.
NOTO_CJK_DIRS = ("/usr/share/fonts/opentype/noto", "/usr/share/fonts/opentype/noto-cjk")
HANAZONO_DIR = "/usr/share/fonts/truetype/hanazono"
SC_FACE_NAME = "Noto Sans CJK SC"


class FontError(Exception):
    """A required font is missing; the message says which package provides it."""


def _cache_dir() -> Path:
    d = Path(os.environ.get("KIOSK_FONT_CACHE") or platformdirs.user_cache_dir("cunwu-kiosk")) / "fonts"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _find_ttc(weight: str) -> Path:
    for d in NOTO_CJK_DIRS:
        p = Path(d) / f"NotoSansCJK-{weight}.ttc"
        if p.exists():
            return p
    raise FontError(f"NotoSansCJK-{weight}.ttc not found: install the Debian package fonts-noto-cjk")


@functools.lru_cache(maxsize=None)
def main_font_path(bold: bool = False) -> str:
    """Path of a single-face Simplified Chinese OTF (Regular or Bold), extracted on first use.

    Raises:
        FontError: fonts-noto-cjk is not installed.
    """
    weight = "Bold" if bold else "Regular"
    out = _cache_dir() / f"NotoSansCJKsc-{weight}.otf"
    if out.exists() and out.stat().st_size > 1_000_000:
        return str(out)
    from fontTools.ttLib import TTCollection  # slow import, only on first extraction

    src = _find_ttc(weight)
    coll = TTCollection(str(src), lazy=True)
    for face in coll.fonts:
        if face["name"].getDebugName(4) == f"{SC_FACE_NAME}{'' if not bold else ' Bold'}" or (
            face["name"].getDebugName(1) == SC_FACE_NAME
        ):
            tmp = out.with_suffix(f".tmp{os.getpid()}")
            face.save(str(tmp))
            os.replace(tmp, out)  # atomic: a half-written font is never picked up
            return str(out)
    raise FontError(f"{src} has no '{SC_FACE_NAME}' face")


@functools.lru_cache(maxsize=None)
def fallback_font_paths() -> tuple[str, ...]:
    """Fallback fonts in order (Hanazono A then B: CJK Ext-A/B). Empty if not installed."""
    names = ("HanaMinA.ttf", "HanaMinB.ttf")
    return tuple(str(Path(HANAZONO_DIR) / n) for n in names if (Path(HANAZONO_DIR) / n).exists())


@functools.lru_cache(maxsize=None)
def _cmap(path: str) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(path, lazy=True) as f:
        return frozenset(f.getBestCmap().keys())


def covers(path: str, ch: str) -> bool:
    """Whether the font at ``path`` has a glyph for character ``ch``."""
    return ord(ch) in _cmap(path)


def font_for(ch: str, bold: bool = False) -> str:
    """The first font (main, then fallbacks) that has ``ch``; the main font if none has it."""
    main = main_font_path(bold)
    if ch.isspace() or covers(main, ch):
        return main
    for fb in fallback_font_paths():
        if covers(fb, ch):
            return fb
    return main


def split_runs(text: str, bold: bool = False) -> list[tuple[str, str]]:
    """Split ``text`` into ``[(font_path, run), ...]`` so each run's font has all its glyphs.

    >>> split_runs("王䶮")  # doctest: +SKIP
    [('/…/NotoSansCJKsc-Regular.otf', '王'), ('/…/HanaMinA.ttf', '䶮')]
    """
    runs: list[tuple[str, str]] = []
    for ch in text:
        f = font_for(ch, bold)
        if runs and runs[-1][0] == f:
            runs[-1] = (f, runs[-1][1] + ch)
        else:
            runs.append((f, ch))
    return runs


def missing_from_main(text: str, bold: bool = False) -> set[str]:
    """Characters of ``text`` the main font lacks (they need a fallback run)."""
    main = main_font_path(bold)
    return {c for c in text if not c.isspace() and not covers(main, c)}
