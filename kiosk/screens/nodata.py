"""尚无数据: shown before any data version is installed, with whom to call."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.screens.widgets import KioskScreen, rich


class NoDataScreen(KioskScreen):
    def contact(self, app) -> str:
        return rich(app.cfg.get("contact_when_empty", ""))

    def explain(self, app) -> str:
        """Why nothing is shown: the integrity failure line when data was withdrawn."""
        from kiosk.cache import integrity

        try:
            line = integrity.status_line(app.home)
        except (OSError, ValueError):
            line = None
        return rich(line) if line else "本终端还没有导入村务公开数据。"


Builder.load_file(os.path.join(os.path.dirname(__file__), "nodata.kv"))
