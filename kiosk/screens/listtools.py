"""What the list screens share besides the list itself: filter chips in a row that scrolls
sideways, the 回到顶部 button, and the dialog that jumps to a date in a long list.

The 回到顶部 button keeps its place in the row when hidden (transparent and untouchable),
so its appearing never moves what a finger is about to touch.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Iterable

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, ObjectProperty, StringProperty
from kivy.uix.modalview import ModalView

from kiosk.screens.widgets import Chip, KButton, rich


class ToTopButton(KButton):
    """回到顶部 for the PagedList ``list``: shown once the list is scrolled down by more
    than a screenful."""

    list = ObjectProperty(None, allownone=True)
    #: the list is scrolled down (the button shows and takes touches)
    active = BooleanProperty(False)

    def on_list(self, _inst, lst) -> None:
        if lst is not None:
            lst.bind(scrolled_down=self.setter("active"))
            self.active = lst.scrolled_down

    def on_release(self):
        if self.list is not None:
            chosen(lambda _v: self.list.to_top())(None)


def chosen(on_select: Callable[[Any], None]) -> Callable[[Any], None]:
    """``on_select`` for a tap that changes what a list shows: 朗读 stops first (what it was
    reading is no longer on the screen)."""
    def tapped(value):
        app = App.get_running_app()
        if app is not None and getattr(app, "reading", False):
            app.stop_reading()
        on_select(value)
    return tapped


def chip_values(box) -> list:
    """The values of the chips in ``box``, left to right (Kivy keeps children in reverse)."""
    return [c.value for c in reversed(box.children)]


def set_chips(box, items: Iterable[tuple[str, Any]], on_select: Callable[[Any], None]) -> None:
    """Fill ``box`` with one Chip per ``(label, value)``; chips are kept while the values
    stay the same (a chip rendered again costs a frame on a software renderer)."""
    items = list(items)
    if chip_values(box) == [v for _, v in items] and [c.label for c in reversed(box.children)] == [t for t, _ in items]:
        return
    box.clear_widgets()
    pick = chosen(on_select)
    for label, value in items:
        chip = Chip(text=rich(label), value=value, on_release=lambda c: pick(c.value))
        chip.label = label
        box.add_widget(chip)


def select_chip(box, value) -> None:
    """Show the chip whose value is ``value`` as chosen (and no other)."""
    for c in box.children:
        c.selected = c.value == value


def chosen_label(box) -> str:
    """The plain label of the chosen chip in ``box`` ("" when none)."""
    return next((getattr(c, "label", "") for c in box.children if c.selected), "")


class JumpDialog(ModalView):
    """跳到: big buttons, one per place in the list (e.g. a year's months, a month's
    上旬/中旬/下旬); ``choose(value)`` is called with the one tapped, then the dialog closes.
    取消 closes it without moving."""

    title = StringProperty("跳到哪个时间？")
    items = ListProperty([])  # [(label, value, enabled)]

    def __init__(self, choose: Callable[[Any], None], **kw):
        kw.setdefault("auto_dismiss", True)
        super().__init__(**kw)
        self._choose = chosen(choose)

    def on_items(self, *_):
        grid = self.ids.grid
        grid.clear_widgets()
        for label, value, enabled in self.items:
            b = KButton(text=rich(label), primary=False, disabled=not enabled)
            b.value = value
            b.bind(on_release=self._tapped)
            grid.add_widget(b)

    def _tapped(self, button) -> None:
        self.dismiss()
        self._choose(button.value)


Builder.load_file(os.path.join(os.path.dirname(__file__), "listtools.kv"))
