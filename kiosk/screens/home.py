"""首页: the village's name and one big button per section, with record counts."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder

from kiosk.screens.widgets import KioskScreen

#: (screen, label, counts key or None) in the order shown.
ENTRIES = [
    ("finance", "财务收支", "finance"),
    ("projects", "工程项目", "projects"),
    ("services", "办事结果", "services"),
    ("assets", "资产资源", "assets"),
    ("powers", "权力清单", "powers"),
    ("complaints", "监督投诉", None),
]


class HomeScreen(KioskScreen):
    entries = ENTRIES

    def button_text(self, label: str, key, info) -> str:
        """Two lines: the section in the title size, then how many records it holds."""
        big = App.get_running_app().theme.fonts["title"]
        if key is None:
            sub = "电话与投诉渠道"
        else:
            n = (info.counts or {}).get(key, 0) if info else 0
            sub = f"共 {n:,} 条".replace(" ", "\u00a0")
        return f"[size={big}]{label}[/size]\n{sub}"


Builder.load_file(os.path.join(os.path.dirname(__file__), "home.kv"))
