"""本村监督提示: the village's own flags (财务没有按月公开), which belong to no one record: their
请关注 boxes in full, each with its 打印问题反映单. Opened from 首页's notice and from 监督提示."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import BooleanProperty

from kiosk.screens.attention import load_flags
from kiosk.screens.widgets import KioskScreen


class FlagDetailScreen(KioskScreen):
    """``app.go("flag_detail", id=<village code>)``; ``id`` may be left out (the village shown)."""

    warm_on_idle = True  # prepared while idle, once per data version (kiosk/screens/workahead.py)

    #: the village has flags (else a line says there are none)
    found = BooleanProperty(False)

    def open(self, id=None, **params):
        self.title = "本村监督提示"
        self.found = False
        self.ids.attention.clear()
        self.load(lambda m: load_flags(m, "village", id or ""), self._got)

    def _got(self, flags) -> None:
        self.ids.attention.show(flags)  # each box prints its own 问题反映单
        self.found = bool(flags)

    def spoken(self) -> list[tuple[str, str]]:
        return [("", self.title)] + (self.ids.attention.spoken() or [("", self.ids.none.text)])


Builder.load_file(os.path.join(os.path.dirname(__file__), "flag_detail.kv"))
