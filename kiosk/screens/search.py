"""查找: search by tapping (no typing on public screens), and staff mode with a keyboard.

Left: tabs for the grids of this village (姓氏 most frequent first, 常用词, 年份, 类别) and a
big-key pinyin-initials pad (Z S → 张*三); right: what is being looked for and the results
grouped by kind; a row opens the record's detail screen. Queries run on the app's worker
(kiosk/search.py through ``Mirror.search``).

Staff mode (``open(staff=True)`` from the unlocked 技术员维护 menu only): a text box for a
physical keyboard above the tabs (Chinese through the OS input method where one runs; Latin
letters, digits and punctuation always). Submitting runs the same ``kiosk.search`` query as
the buttons: letters only (``ZS``) are pinyin initials like the pad, anything else is a
substring of the shown text. The search index holds only what public screens show, so staff
mode finds nothing a villager could not tap to. The text box is in the widget tree only
while staff mode is on; it ends when the screen is left (except to a record opened from the
results, whose 返回 comes back to it), so also on 首页 and on the idle timeout.
"""
from __future__ import annotations

import os
import re

from kivy.app import App
from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import BooleanProperty, StringProperty

from kiosk.formatting import date_cn
from kiosk.search import KIND_LABELS
from kiosk.screens.widgets import Chip, KButton, KioskScreen, pooled, rich

DETAIL = {"finance": "finance_detail", "projects": "project_detail", "assets": "asset_detail",
          "services": "service_detail", "powers": "power_detail"}
TABS = (("surname", "姓氏"), ("word", "常用词"), ("year", "年份"), ("category", "类别"), ("pinyin", "拼音首字母"))
_DATED = re.compile(r"^(\d{4}-\d{2}-\d{2}) (.*)$")
LETTERS = "ABCDEFGHJKLMNOPQRSTWXYZ"  # no I, U, V: no Mandarin syllable starts with them
_INITIALS = re.compile(r"^[A-Za-z]{1,8}$")


def typed_query(typed: str) -> tuple[str, str]:
    """Staff text → ``(text, initials)`` for ``kiosk.search``: letters only are pinyin
    initials (``'zs'`` → ``('', 'ZS')``), anything else is a substring (``'记202401-001'`` →
    ``('记202401-001', '')``); surrounding spaces dropped, ``('', '')`` for nothing."""
    t = typed.strip()
    if _INITIALS.match(t):
        return "", t.upper()
    return t, ""


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
            title, sub = (m.group(2), date_cn(m.group(1))) if m else (h.title, KIND_LABELS[kind])
            rows.append({"title": rich(title), "sub": rich(sub), "side": "›", "target": DETAIL[kind],
                         "rec_id": h.record_id})
    return [dict(r, index=i) for i, r in enumerate(rows)]


class SearchScreen(KioskScreen):
    warm_on_idle = True
    list_id = "results"
    text = StringProperty("")      # a tapped surname, word or category
    initials = StringProperty("")  # letters from the pad
    year = StringProperty("")
    tab = StringProperty("surname")
    summary = StringProperty("")
    staff = BooleanProperty(False)  # keyboard search for staff (see module doc)

    def __init__(self, **kw):
        self.facets = {}
        self._grid_shown = None  # (tab, its term list) the grid holds now
        self._pad = []           # the pinyin pad's keys, made once
        self._staff_row = None   # StaffSearchRow, made on the first staff visit
        self._staff_box = None   # its TextInput
        self._staff_paused = False
        super().__init__(**kw)

    def open(self, **params):
        self.staff = bool(params.get("staff")) and self._staff_allowed()
        self._staff_paused = False
        self.text = self.initials = self.year = ""
        tabs = self.ids.tabs
        if not tabs.children:
            for key, label in TABS:
                tabs.add_widget(Chip(text=label, value=key, on_release=lambda c: self.switch_tab(c.value)))
        self.ids.results.data = []
        self._refresh_summary()
        self.load(lambda m: m.search_facets(), self._got_facets)

    # ---- staff mode ---------------------------------------------------------------------
    @staticmethod
    def _staff_allowed() -> bool:
        """Staff mode only from the 技术员维护 menu shown after the PIN (the app opens the
        next screen while the current one is still up)."""
        app = App.get_running_app()
        sm = getattr(app, "sm", None)
        if sm is None or sm.current != "technician":
            return False
        return getattr(sm.get_screen("technician"), "state", "") == "menu"

    def on_staff(self, *_):
        body = self.ids.body
        if self.staff:
            row = self._staff_row or self._make_staff_row()
            if row.parent is None:
                body.add_widget(row, index=len(body.children))  # top of the vertical box
            Clock.schedule_once(lambda dt: setattr(self._staff_box, "focus", self.staff), 0)
        elif self._staff_row is not None:
            box = self._staff_box
            box.focus = False
            box.text = ""
            if self._staff_row.parent is not None:
                body.remove_widget(self._staff_row)

    def _make_staff_row(self):
        from kivy.factory import Factory

        row = self._staff_row = Factory.StaffSearchRow()
        box = self._staff_box = row.ids.box.__self__  # strong ref: kv ids are weak
        box.bind(on_text_validate=lambda b: self.submit_typed(b.text), text=self._typing)
        row.ids.go.bind(on_release=lambda b: self.submit_typed(box.text))
        return row

    @staticmethod
    def _typing(*_):
        App.get_running_app().nav.activity()  # keys are activity too: no idle return while typing

    def submit_typed(self, typed: str) -> None:
        """Run the staff text (see :func:`typed_query`); nothing when staff mode is off."""
        if not self.staff:
            return
        self.text, self.initials = typed_query(typed)
        self.run()

    def on_pre_enter(self, *_):
        if self._staff_paused:  # back from a record opened from the staff results
            self._staff_paused = False
            self.staff = True

    def on_leave(self, *_):
        if self.staff:
            self._staff_paused = self.manager is not None and self.manager.current in DETAIL.values()
            self.staff = False

    # ---- grids --------------------------------------------------------------------------
    def _got_facets(self, facets):
        self.facets = facets or {}
        self.show_tab("surname" if self.facets.get("surname") else "word")

    def switch_tab(self, key: str) -> None:
        """A tab tapped: another tab starts a fresh search (the tester's 补贴 then B T searched
        "补贴 · 首字母 BT" and found nothing); the same tab again keeps the query."""
        if key != self.tab:
            self.text = self.initials = self.year = ""
            if self._staff_box is not None:
                self._staff_box.text = ""
            self.run()
        self.show_tab(key)

    def show_tab(self, key: str) -> None:
        """Fill the grid for tab ``key``. Buttons are reused (the pad's keys are made once,
        term buttons come from the grid's pool): creating ~28 KButtons on every visit was
        the slowest screen of the navigation walk (docs/performance.md)."""
        self.tab = key
        for c in self.ids.tabs.children:
            c.selected = c.value == key
        grid = self.ids.grid
        terms = None if key == "pinyin" else self.facets.get(key, [])
        shown = (key, terms)
        if self._grid_shown != shown:  # same tab, same terms: the grid holds them already
            self._grid_shown = shown
            grid.clear_widgets()
            if key == "pinyin":
                grid.cols = 6
                for b in self._pad or self._make_pad():
                    grid.add_widget(b)
            else:
                grid.cols = 3
                small = self._small()
                for term, n in terms:
                    label = f"{term}年" if key == "year" else term
                    b = pooled(grid, "KButton", text=f"{rich(label)} [size={small}]{n}[/size]",
                               primary=False, shorten=True)
                    b.facet, b.term = key, term
                    if not getattr(b, "_search_bound", False):
                        b._search_bound = True
                        b.bind(on_release=lambda b: self.pick(b.facet, b.term))
                    grid.add_widget(b)
        Clock.schedule_once(lambda dt: setattr(self.ids.gridscroll, "scroll_y", 1), 0)  # after layout

    def _make_pad(self) -> list:
        self._pad = [KButton(text=ch, primary=False, on_release=lambda b: self.add_letter(b.text)) for ch in LETTERS]
        self._pad.append(KButton(text="退格", on_release=lambda b: self.set_initials(self.initials[:-1])))
        return self._pad

    def _small(self) -> int:
        """Counts in a smaller size than the term (still ≥ the minimum text size)."""
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
        if self._staff_box is not None:
            self._staff_box.text = ""
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
        asked = (text, ini, year)  # a late answer to an earlier query must not replace this one's
        self.load(lambda m: m.search(text or None, ini or None, year or None),
                  lambda res: self._got(res) if asked == (self.text, self.initials, self.year) else None)

    def _got(self, res):
        rows = result_rows(res)
        if not rows:
            rows = [{"title": rich("没有找到，请换一个词再试"), "sub": "", "side": "", "target": "", "rec_id": "", "index": 0}]
        self.ids.results.data = rows
        self.ids.results.scroll_y = 1


Builder.load_file(os.path.join(os.path.dirname(__file__), "search.kv"))
