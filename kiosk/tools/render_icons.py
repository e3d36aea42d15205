"""Render the SVG icons and pictures in ``assets/`` to the PNGs the kiosk shows
(``make icons``; needs ``rsvg-convert`` from Debian's ``librsvg2-bin``, which the make target
installs; the kiosk itself needs no SVG renderer, the PNGs are committed).

Each icon (a one-colour glyph) becomes two PNGs, :data:`ICON_PX` square:
``assets/icons/png/<name>-ink.png`` (dark glyph, for the light page) and
``<name>-white.png`` (white glyph: on dark buttons and in the high-contrast theme; a Kivy
``Image`` with ``color`` set tints it to any colour). Each picture (several colours, given as
tokens in its SVG) becomes ``assets/pictures/png/<name>.png`` and ``<name>-hc.png``.

Why rsvg-convert: librsvg renders the whole of SVG 1.1 these files use, is one Debian package
on every kiosk-building machine, and gives the same pixels each run (the PNGs are in git).
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "assets"
ICON_PX = 160  # 20 mm at 4.1 px/mm is 82 px: twice that leaves room for bigger tiles
INK, WHITE = "#151515", "#ffffff"
#: Colour tokens of the pictures → (light page, high contrast).
PICTURE_COLOURS = {
    "#0A0A0A": ("#151515", "#ffffff"),   # ink: outlines and text lines
    "#0B0B0B": ("#0d3b66", "#ffd500"),   # accent: the reading area, the arrow (theme blue; yellow on black)
    "#0C0C0C": ("#ffffff", "#000000"),   # card face
}


def _render(svg_text: str, out: Path, width: int, height: int | None = None) -> None:
    with tempfile.NamedTemporaryFile("w", suffix=".svg", delete=False, encoding="utf-8") as f:
        f.write(svg_text)
    try:
        args = ["rsvg-convert", "-w", str(width)] + (["-h", str(height)] if height else []) + ["-o", str(out), f.name]
        subprocess.run(args, check=True)
    finally:
        Path(f.name).unlink()


def _with_fill(svg: str, colour: str) -> str:
    """A one-colour icon with its glyph painted ``colour`` (Material Symbols paths carry no
    fill of their own)."""
    return re.sub(r"<svg ", f'<svg fill="{colour}" ', svg, count=1)


def render(root: Path = ROOT) -> list[Path]:
    """Render every SVG under ``root/icons`` and ``root/pictures``; returns the PNGs written.

    Raises:
        FileNotFoundError: rsvg-convert is not installed.
    """
    if not shutil.which("rsvg-convert"):
        raise FileNotFoundError("rsvg-convert not found: apt-get install librsvg2-bin")
    written = []
    (root / "icons" / "png").mkdir(parents=True, exist_ok=True)
    for svg in sorted((root / "icons").glob("*.svg")):
        text = svg.read_text(encoding="utf-8")
        for suffix, colour in (("ink", INK), ("white", WHITE)):
            out = root / "icons" / "png" / f"{svg.stem}-{suffix}.png"
            _render(_with_fill(text, colour), out, ICON_PX, ICON_PX)
            written.append(out)
    (root / "pictures" / "png").mkdir(parents=True, exist_ok=True)
    for svg in sorted((root / "pictures").glob("*.svg")):
        text = svg.read_text(encoding="utf-8")
        width = int(re.search(r'<svg[^>]*\swidth="(\d+)"', text).group(1))
        for k, suffix in ((0, ""), (1, "-hc")):
            colored = text
            for token, colours in PICTURE_COLOURS.items():
                colored = colored.replace(token, colours[k])
            out = root / "pictures" / "png" / f"{svg.stem}{suffix}.png"
            _render(colored, out, width)
            written.append(out)
    return written


def main() -> int:
    for p in render():
        print(p.relative_to(ROOT.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main())
