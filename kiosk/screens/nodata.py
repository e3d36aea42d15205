"""尚无数据: shown before any data version is installed, with whom to call."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.screens.widgets import KioskScreen, rich


class NoDataScreen(KioskScreen):
    def contact(self, app) -> str:
        return rich(app.cfg.get("contact_when_empty", ""))


Builder.load_file(os.path.join(os.path.dirname(__file__), "nodata.kv"))
