"""我的查询: placeholder until the ID-card reader is wired: asks for the card."""
from __future__ import annotations

import os

from kivy.lang import Builder

from kiosk.screens.widgets import KioskScreen


class MineScreen(KioskScreen):
    pass


Builder.load_file(os.path.join(os.path.dirname(__file__), "mine.kv"))
