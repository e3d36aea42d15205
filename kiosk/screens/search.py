"""查找: search by tapping (no typing on public screens).

Left: tabs for the grids of this village (姓氏 most frequent first, 常用词, 年份, 类别) and a
big-key pinyin-initials pad (Z S → 张*三); right: what is being looked for and the results
grouped by kind; a row opens the record's detail screen. Queries run on the app's worker
(kiosk/search.py through ``Mirror.search``).
"""
from __future__ import annotations

import os
import re

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.search import KIND_LABELS
from kiosk.screens.widgets import Chip, KButton, KioskScreen, rich

DETAIL = {"finance": "finance_detail", "projects": "project_detail", "assets": "asset_detail",
          "services": "service_detail", "powers": "power_detail"}
TABS = (("surname", "姓氏"), ("word", "常用词"), ("year", "年份"), ("category", "类别"), ("pinyin", "拼音首字母"))
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2}) (.*)$")
LETTERS = "ABCDEFGHJKLMNOPQRSTWXYZ"  # no I, U, V: no Mandarin syllable starts with them


def result_rows(res) -> list[dict]:
    """ListRow data for grouped results: a header row per kind, then its records."""
    rows: list[dict] = []
    for kind, hits in res.groups.items():
        if not hits:
            continue
        more = "以上" if res.truncated and len(hits) >= 100 else ""
        rows.append({"title": rich(f"{KIND_LABELS[kind]}　{len(hits)} 条{more}"), "sub": "", "side": "",
                     "target": "", "rec_id": ""})
        for h in hits:
            m = _DATED.match(h.title)  # titles of dated records start with the date (bundle build)
            title, sub = (m.group(2), m.group(1)) if m else (h.title, KIND_LABELS[kind])
            rows.append({"title": rich(title), "sub": rich(sub), "side": "›", "target": DETAIL[kind],
                         "rec_id": h.record_id})
    return [dict(r, index=i) for i, r in enumerate(rows)]


class SearchScreen(KioskScreen):
    text = StringProperty("")      # a tapped surname, word or category
    initials = StringProperty("")  # letters from the pad
    year = StringProperty("")
    tab = StringProperty("surname")
    summary = StringProperty("")

    def open(self, **params):
        self.facets = {}
        self.text = self.initials = self.year = ""
        tabs = self.ids.tabs
        if not tabs.children:
            for key, label in TABS:
                tabs.add_widget(Chip(text=label, value=key, on_release=lambda c: self.show_tab(c.value)))
        self.ids.results.data = []
        self._refresh_summary()
        self.load(lambda m: m.search_facets(), self._got_facets)

    def _got_facets(self, facets):
        self.facets = facets or {}
        self.show_tab("surname" if self.facets.get("surname") else "word")

    def show_tab(self, key: str) -> None:
        self.tab = key
        for c in self.ids.tabs.children:
            c.selected = c.value == key
        grid = self.ids.grid
        grid.clear_widgets()
        if key == "pinyin":
            grid.cols = 6
            for ch in LETTERS:
                grid.add_widget(KButton(text=ch, primary=False, on_release=lambda b: self.add_letter(b.text)))
            grid.add_widget(KButton(text="退格", on_release=lambda b: self.set_initials(self.initials[:-1])))
        else:
            grid.cols = 3
            for term, n in self.facets.get(key, []):
                label = f"{term}年" if key == "year" else term
                b = KButton(text=f"{rich(label)} [size={self._small()}]{n}[/size]", primary=False)
                b.shorten = True
                b.term = term
                b.bind(on_release=lambda b, key=key: self.pick(key, b.term))
                grid.add_widget(b)
        Clock.schedule_once(lambda dt: setattr(self.ids.gridscroll, "scroll_y", 1), 0)  # after layout

    def _small(self) -> int:
        """Counts in a smaller size than the term (still ≥ the minimum text size)."""
        from kivy.app import App

        th = App.get_running_app().theme
        return max(th.min_font, int(th.fonts["body"] * 0.8))

    def pick(self, facet: str, term: str) -> None:
        if facet == "year":
            self.year = "" if self.year == term else term
        else:
            self.text = "" if self.text == term else term
        self.run()

    def add_letter(self, ch: str) -> None:
        if len(self.initials) < 4:
            self.set_initials(self.initials + ch)

    def set_initials(self, value: str) -> None:
        self.initials = value
        self.run()

    def clear(self) -> None:
        self.text = self.initials = self.year = ""
        self.run()

    def _refresh_summary(self) -> None:
        parts = [p for p in (self.text and f"“{self.text}”", self.initials and f"首字母 {self.initials}",
                             self.year and f"{self.year}年") if p]
        self.summary = ("查找：" + " · ".join(parts)) if parts else "请点左边的按钮"

    def run(self) -> None:
        self._refresh_summary()
        text, ini, year = self.text, self.initials, self.year
        if not (text or ini or year):
            self.ids.results.data = []
            return
        self.load(lambda m: m.search(text or None, ini or None, year or None), self._got)

    def _got(self, res):
        rows = result_rows(res)
        if not rows:
            rows = [{"title": rich("没有找到，请换一个词再试"), "sub": "", "side": "", "target": "", "rec_id": "", "index": 0}]
        self.ids.results.data = rows
        self.ids.results.scroll_y = 1


Builder.load_file(os.path.join(os.path.dirname(__file__), "search.kv"))
