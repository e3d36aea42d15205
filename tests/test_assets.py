"""The pictures in assets/: every icon and picture has its SVG source, both rendered PNGs and a
line in SOURCES.md; the PNGs hold a visible glyph in the right colour."""
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from kiosk import assets


@pytest.mark.parametrize("name", assets.ICONS)
def test_icon_has_source_pngs_and_origin(name):
    assert (assets.ROOT / "icons" / f"{name}.svg").is_file()
    assert f"`{name}.svg`" in (assets.ROOT / "SOURCES.md").read_text(encoding="utf-8")
    for on_dark, rgb in ((False, (0x15, 0x15, 0x15)), (True, (255, 255, 255))):
        img = Image.open(assets.icon(name, on_dark)).convert("RGBA")
        assert img.size == (160, 160)
        alpha = img.getchannel("A")
        covered = sum(1 for a in alpha.getdata() if a > 200) / (160 * 160)
        assert 0.05 < covered < 0.8, (name, covered)  # a bold glyph, not empty, not a block
        opaque = Counter(px[:3] for px in img.getdata() if px[3] == 255)
        assert opaque.most_common(1)[0][0] == rgb


def test_card_placement_picture_in_both_themes():
    assert (assets.ROOT / "pictures" / "card-placement.svg").is_file()
    light = Image.open(assets.picture("card-placement")).convert("RGBA")
    dark = Image.open(assets.picture("card-placement", high_contrast=True)).convert("RGBA")
    assert light.size == dark.size == (480, 360)
    assert (0x0D, 0x3B, 0x66, 255) in set(light.getdata()) and (0xFF, 0xD5, 0x00, 255) in set(dark.getdata())


def test_unknown_names_are_refused():
    with pytest.raises(KeyError):
        assets.icon("nope")
    with pytest.raises(KeyError):
        assets.picture("nope")


def test_every_svg_has_both_pngs():
    # make icons renders them (git does not keep file times, so age is not checked).
    for svg in Path(assets.ROOT).glob("*/*.svg"):
        pngs = list((svg.parent / "png").glob(f"{svg.stem}*.png"))
        assert len(pngs) == 2, svg
