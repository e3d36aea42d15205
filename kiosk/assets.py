"""Where the pictures in ``assets/`` are (icons and the card-placement picture; no Kivy).

``assets/`` sits beside the ``kiosk`` package in the source tree (the kiosk runs from it:
``make`` installs the project in editable mode). Names and variants: ``assets/SOURCES.md``.
"""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent / "assets"

#: Icons by name (assets/icons/<name>.svg): the home sections (named as their screens) and
#: the main buttons.
ICONS = ("finance", "projects", "services", "assets", "powers", "flags", "complaints", "mine", "search",
         "back", "home", "print", "read_aloud", "large_text", "contrast", "keep_using")
PICTURES = ("card-placement",)


def icon(name: str, on_dark: bool = False) -> str:
    """Path of icon ``name``'s PNG: a dark glyph for the light page, or (``on_dark``) a white
    one for dark buttons and the high-contrast theme (tint it with ``Image.color``).

    Raises:
        KeyError: no such icon.
    """
    if name not in ICONS:
        raise KeyError(f"no icon {name!r}")
    return str(ROOT / "icons" / "png" / f"{name}-{'white' if on_dark else 'ink'}.png")


def picture(name: str, high_contrast: bool = False) -> str:
    """Path of picture ``name``'s PNG for the default or the high-contrast theme.

    Raises:
        KeyError: no such picture.
    """
    if name not in PICTURES:
        raise KeyError(f"no picture {name!r}")
    return str(ROOT / "pictures" / "png" / f"{name}{'-hc' if high_contrast else ''}.png")
