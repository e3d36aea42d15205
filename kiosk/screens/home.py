"""首页: the village's name and one big button per section, with its icon and record count
(and 查找); the village's own 监督提示 (e.g. 财务没有按月公开) as a notice; below them
我的查询 (with the ID card).

The sections come from :data:`ENTRIES` (one button each, in that order). Columns follow the
room the panel gives at the text size (:meth:`HomeScreen.columns`); where the sections do not
fit in height (a small panel at 特大字), the page scrolls rather than squeezing them.
"""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.rules.words import SEVERITY_WORD
from kiosk.screens.attention import WrapLabel, load_flags  # noqa: F401  (kv)
from kiosk.screens.theme import LINE_HEIGHT
from kiosk.screens.widgets import KButton, KioskScreen

#: (screen, label, counts key or None) in the order shown. ``flags``: the 监督提示 count,
#: which the screen loads (it is not among the manifest's record counts). The screen's name
#: is also its icon's name (kiosk.assets).
ENTRIES = [
    ("finance", "财务收支", "finance"),
    ("projects", "工程项目", "projects"),
    ("services", "办事结果", "services"),
    ("assets", "资产资源", "assets"),
    ("powers", "权力清单", "powers"),
    ("flags", "监督提示", "flags"),
    ("complaints", "监督投诉", None),
]
#: the last button of the grid, outlined: 查找 (no count)
SEARCH = ("search", "查找", None)
#: the narrowest a section button may get (mm at the text scale): its icon and its
#: four-character name in the title size beside it, with room around them
TILE_MIN_MM = 92
TILE_GAP_MM = 4


def home_flags(m) -> dict:
    """首页's 监督提示 (worker): ``has_flags``, ``total`` (the sum of ``Mirror.flag_counts``)
    and ``village`` (the village's own flags, as :func:`kiosk.screens.attention.load_flags`)."""
    if m is None or not m.has_flags:
        return {"has_flags": False, "total": 0, "village": []}
    return {"has_flags": True, "total": sum(m.flag_counts().values()),
            "village": load_flags(m, "village", m.village or "")}


def tile_text_height(theme) -> float:
    """Height of a section button's two lines: its name in the title size, then the count."""
    return theme.lines_px("title") * LINE_HEIGHT + theme.lines_px("body")


class HomeButton(KButton):
    """A section's button (home.kv)."""

    def content_height(self, font_size: float, icon_top: bool) -> float:
        """Height of the icon and the two lines (name in the title size, count)."""
        text = tile_text_height(App.get_running_app().theme)
        return text + (self.icon_room(font_size, True)[1] if icon_top else 0)


class HomeScreen(KioskScreen):
    entries = ENTRIES
    #: 监督提示 of the data shown (-1 until loaded)
    flag_total = NumericProperty(-1)
    has_flags = BooleanProperty(False)
    #: the village's own flag as one line (empty: none), and its severity
    village_notice = StringProperty("")
    village_severity = StringProperty("red")

    def on_kv_post(self, base_widget):
        app = App.get_running_app()
        grid = self.ids.grid
        for screen, label, key in self.entries + [SEARCH]:
            b = HomeButton(icon=screen, primary=screen != SEARCH[0])
            b.bind(on_release=lambda _b, s=screen: App.get_running_app().go(s))
            grid.add_widget(b)
            self.ids[screen] = b  # tests and work ahead find a section by its screen's name
            b._entry = (label, key)
        app.bind(info=self._texts, theme=self._texts)
        self.bind(flag_total=self._texts, has_flags=self._texts)
        self._texts()

    def _texts(self, *_):
        info = App.get_running_app().info
        for b in self.ids.grid.children:
            label, key = b._entry
            b.text = self.button_text(label, key, info) if b.icon != SEARCH[0] else self.search_text()

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
        """Two lines: the section in the title size, then how many records it holds."""
        big = App.get_running_app().theme.fonts["title"]
        return f"[size={big}]{label}[/size]\n{self.count_text(key, info).replace(' ', chr(0xa0))}"

    def search_text(self) -> str:
        return f"[size={App.get_running_app().theme.fonts['title']}]{SEARCH[1]}[/size]"

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

    def tiles(self) -> int:
        return len(self.entries) + 1  # and 查找

    def columns(self, theme) -> int:
        """Columns of section buttons: as many as fit across at their narrowest, at most 4,
        and no more than the buttons need."""
        n = self.tiles()
        return max(1, min(n, 4, int((theme.width_mm + TILE_GAP_MM) // (TILE_MIN_MM + TILE_GAP_MM))))

    def min_page_height(self, theme, cols: int, rest: float) -> float:
        """The page's least height: every row of buttons at the height of its words and icon
        beside them, then ``rest`` (the notice and the 我的查询 bar) and the gaps."""
        rows = -(-self.tiles() // max(1, cols or 1))
        tile = tile_text_height(theme) + theme.mm(4)
        gap = theme.mm(TILE_GAP_MM)
        return rows * tile + (rows - 1) * gap + 2 * gap + rest


Builder.load_file(os.path.join(os.path.dirname(__file__), "home.kv"))
