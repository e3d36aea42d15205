"""Fonts for Simplified Chinese, with a per-run fallback so no character shows as a box.

Why our own code: neither Kivy nor Pillow has font fallback, and Debian's Noto Sans CJK ships
as a ``.ttc`` whose face 0 is Japanese (Kivy and SDL_ttf always open face 0). We extract the
"Noto Sans CJK SC" faces once with fontTools into a cache folder, and split text into runs
by which font covers each character (Hanazono A/B cover CJK Ext-A/B name characters).

No Kivy imports: the printer's raster path uses the same fonts through Pillow.
"""
from __future__ import annotations

import bisect
import functools
import hashlib
import json
import os
import re
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


class Coverage:
    """Which code points one font file has glyphs for, as sorted ``[start, end]`` ranges.

    ``missing`` is a compiled regex that matches the first character the font lacks
    (whitespace never counts as lacking), so checking a whole string is one C-level scan.
    """

    def __init__(self, ranges: list[list[int]]):
        self.starts = [a for a, _ in ranges]
        self.ends = [b for _, b in ranges]
        cls = "".join(re.escape(chr(a)) + ("" if a == b else "-" + re.escape(chr(b))) for a, b in ranges)
        self.missing = re.compile(f"[^\\s{cls}]")

    def __contains__(self, cp: int) -> bool:
        i = bisect.bisect_right(self.starts, cp) - 1
        return i >= 0 and cp <= self.ends[i]


def _ranges(codepoints) -> list[list[int]]:
    out: list[list[int]] = []
    for c in sorted(codepoints):
        if out and out[-1][1] == c - 1:
            out[-1][1] = c
        else:
            out.append([c, c])
    return out


@functools.lru_cache(maxsize=None)
def _coverage(path: str) -> Coverage:
    """The font's coverage, read from a small JSON file in the font cache (keyed by the
    font's path, size and mtime); computed with fontTools only when that file is missing.
    Parsing a CJK font's cmap with fontTools costs 0.3-0.6 s and ~10 MB per font, too much
    for the kiosk's start-up and for every label's fallback check."""
    st = os.stat(path)
    key = hashlib.sha256(f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:16]
    cached = _cache_dir() / f"coverage-{Path(path).stem}-{key}.json"
    try:
        return Coverage(json.loads(cached.read_text(encoding="ascii")))
    except (OSError, ValueError):
        pass
    from fontTools.ttLib import TTFont  # slow import, only when the cache file is missing

    with TTFont(path, lazy=True) as f:
        ranges = _ranges(f.getBestCmap().keys())
    tmp = cached.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(ranges, separators=(",", ":")), encoding="ascii")
    os.replace(tmp, cached)  # atomic: a half-written file is never read
    return Coverage(ranges)


def covers(path: str, ch: str) -> bool:
    """Whether the font at ``path`` has a glyph for character ``ch``."""
    return ord(ch) in _coverage(path)


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
    main = main_font_path(bold)
    if not text:
        return []
    if not _coverage(main).missing.search(text):  # the usual case: one run, no per-character work
        return [(main, text)]
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
