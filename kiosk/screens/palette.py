"""The palette in use, as Kivy properties kv rules bind to (``C.text``, ``C.header_bg``).

kv files import it with ``#:import C kiosk.screens.palette.C`` and write ``C.<name>``: a kv
rule watches dotted names only, so ``C.text`` follows a palette switch (高对比) while a
plain dict lookup such as ``COLORS['text']`` would keep the colour it had when the widget
was built. ``C.by_name[name]`` serves a name chosen at run time (it changes as a whole, so a
rule using it is re-evaluated once per switch).
"""
from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.properties import DictProperty, ListProperty, StringProperty

from kiosk.screens.theme import COLORS, PALETTES, use_palette


class _Palette(EventDispatcher):
    """The palette's switch; :class:`Palette` adds one ListProperty per colour."""

    contrast = StringProperty("default")
    by_name = DictProperty({})

    def use(self, contrast: str) -> bool:
        """Switch every colour to palette ``contrast``; False when it was in use already.

        Raises:
            KeyError: an unknown palette.
        """
        colours = use_palette(contrast)
        if contrast == self.contrast and self.by_name:
            return False
        for name, rgba in colours.items():
            setattr(self, name, list(rgba))
        self.by_name = dict(colours)
        self.contrast = contrast
        return True


#: One ListProperty (RGBA 0..1) per colour name of :data:`kiosk.screens.theme.PALETTES`,
#: made from that table so the two never differ.
Palette = type("Palette", (_Palette,), {n: ListProperty(list(v)) for n, v in PALETTES["default"].items()})

#: The palette kv rules bind to.
C = Palette()
C.by_name = dict(COLORS)
