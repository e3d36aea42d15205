"""首页: the village's name and one big button per section, with record counts; the
village's own 监督提示 (e.g. 财务没有按月公开) as a notice above 我的查询."""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.rules.words import SEVERITY_WORD
from kiosk.screens.attention import WrapLabel, load_flags  # noqa: F401  (kv)
from kiosk.screens.widgets import KioskScreen

#: (screen, label, counts key or None) in the order shown. ``flags``: the 监督提示 count,
#: which the screen loads (it is not among the manifest's record counts).
ENTRIES = [
    ("finance", "财务收支", "finance"),
    ("projects", "工程项目", "projects"),
    ("services", "办事结果", "services"),
    ("assets", "资产资源", "assets"),
    ("powers", "权力清单", "powers"),
    ("flags", "监督提示", "flags"),
    ("complaints", "监督投诉", None),
]


def home_flags(m) -> dict:
    """首页's 监督提示 (worker): ``has_flags``, ``total`` (the sum of ``Mirror.flag_counts``)
    and ``village`` (the village's own flags, as :func:`kiosk.screens.attention.load_flags`)."""
    if m is None or not m.has_flags:
        return {"has_flags": False, "total": 0, "village": []}
    return {"has_flags": True, "total": sum(m.flag_counts().values()),
            "village": load_flags(m, "village", m.village or "")}


class HomeScreen(KioskScreen):
    entries = ENTRIES
    #: 监督提示 of the data shown (-1 until loaded)
    flag_total = NumericProperty(-1)
    has_flags = BooleanProperty(False)
    #: the village's own flag as one line (empty: none), and its severity
    village_notice = StringProperty("")
    village_severity = StringProperty("red")

    def open(self, **params):
        key = self._data_key()
        if key is not None and key == getattr(self, "_flags_key", None):
            return  # same data version and village: already loaded
        self.load(home_flags, lambda s: self._got_flags(key, s))

    @staticmethod
    def _data_key():
        info = App.get_running_app().info
        return (info.fingerprint, info.seq, info.village_code) if info else None

    def _got_flags(self, key, s: dict) -> None:
        self._flags_key = key
        self.has_flags = s["has_flags"]
        self.flag_total = s["total"]
        self.village_flags = s["village"]
        first = s["village"][0].box if s["village"] else None
        self.village_severity = first.severity if first else "red"
        self.village_notice = f"{first.title}：{first.figures}。" if first else ""

    def button_text(self, label: str, key, info, *_bound) -> str:
        """Two lines: the section in the title size, then how many records it holds
        (``_bound``: the properties the text also depends on, so that kv redraws it)."""
        big = App.get_running_app().theme.fonts["title"]
        return f"[size={big}]{label}[/size]\n{self.count_text(key, info).replace(' ', chr(0xa0))}"

    def count_text(self, key, info) -> str:
        """The second line of a section's button, as plain text."""
        if key is None:
            return "电话与投诉渠道"
        if key == "flags":
            return f"共 {self.flag_total:,} 条" if self.has_flags and self.flag_total >= 0 else "本版数据无提示"
        return f"共 {(info.counts or {}).get(key, 0) if info else 0:,} 条"

    def spoken(self) -> list[tuple[str, str]]:
        """The village, the village's own flag if any, then each section with its count."""
        app = App.get_running_app()
        pairs = [("", f"{app.village_name}村务公开")]
        if self.village_notice:
            pairs.append(("", f"{SEVERITY_WORD.get(self.village_severity, '请关注')}：{self.village_notice}"))
        return pairs + [(label, self.count_text(key, app.info)) for _s, label, key in self.entries]


Builder.load_file(os.path.join(os.path.dirname(__file__), "home.kv"))
