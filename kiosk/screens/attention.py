"""请关注: the boxes a flagged record's screen shows, and the 打印问题反映单 buttons.

A box per flag (kiosk.rules.words.attention_box): 请关注 (red) or 提示 (amber) by the flag's
severity, the rule's short name, what this record shows, the rule in plain words, its basis,
the county's 说明 when it gave one, whom to ask, and the line that says the box is a prompt,
not a finding. Each box has its own 打印问题反映单 (the slip with that flag); every record has
one more beside 打印 (the slip with all its flags, or none).

Detail screens take :class:`Flagged` as their first base and hold, in their kv, an
``AttentionPanel`` with id ``attention`` and a ``SlipButton`` with id ``slip_btn``. The flags
load on the data worker just after the record (same worker, so in that order).
"""
from __future__ import annotations

import os
from dataclasses import dataclass

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.gridlayout import GridLayout

from kiosk import receipts
from kiosk.rules.words import AttentionBox, attention_box
from kiosk.screens.widgets import AutoLabel, KButton, PBox, pooled, rich

#: the severity word's colour, as a palette name (it follows 高对比): amber itself is too light
#: for text on a white row, so a dark amber-brown there (theme.PALETTES: amber_text)
SEVERITY_TONE = {"red": "expense", "amber": "amber_text"}

#: a flag's kind (the flags table) → the screen that shows its record
SCREEN_OF_KIND = {"finance": "finance_detail", "projects": "project_detail", "assets": "asset_detail",
                  "services": "service_detail", "village": "flag_detail"}


@dataclass(frozen=True)
class ShownFlag:
    """One box to show: the words (``box``) and which flag it is (for its slip)."""

    box: AttentionBox
    kind: str
    record_id: str
    rule_id: str


def load_flags(m, kind: str, record_id: str) -> list[ShownFlag]:
    """The boxes of record ``record_id`` of ``kind`` (``village``: the village's own flags),
    in rule order; ``[]`` for a record without flags or a revision-1 bundle. Worker thread."""
    if m is None or not kind:
        return []
    flags = m.village_flags() if kind == "village" else m.flags_for(kind, record_id)
    profile = m.info.profile
    return [ShownFlag(attention_box(f, f["rule"], profile), kind, record_id, f["rule_id"]) for f in flags]


def print_slip(kind: str, record_id: str, rule: str | None = None) -> None:
    """Print the 问题反映单 of a record (``rule``: only that flag) through the printer service."""
    App.get_running_app().print_record(
        lambda m, link: receipts.question_slip_from(m, kind, record_id, link, rule=rule))


class WrapLabel(AutoLabel):
    """A label showing ``prefix`` (bold) + ``plain``, broken by the Chinese rules
    (kiosk.linebreak) at its width: every KLabel with a wrap width breaks its text so when it
    renders (kiosk.screens.widgets.CoverageLabel.shown_text), so again at each new width or
    text size, and only when it is rendered (a screen off the window renders later)."""

    plain = StringProperty("")
    prefix = StringProperty("")

    def on_plain(self, *_):
        self._rewrap()

    def on_prefix(self, *_):
        self._rewrap()

    def _rewrap(self):
        pre = self.prefix
        self.text = f"[b]{rich(pre)}[/b]{rich(self.plain)}" if pre else rich(self.plain)


class AttentionBoxView(PBox):
    """One 请关注 box (kv: attention.kv). :meth:`set_flag` fills it."""

    heading = StringProperty("")
    title = StringProperty("")
    severity = StringProperty("red")
    #: [(label, text)] under the heading: 本条记录, 规定, 依据, 县里的说明, 可以问
    rows = ListProperty([])
    verdict = StringProperty("")
    note = StringProperty("")

    def set_flag(self, flag: ShownFlag) -> None:
        self.flag = flag
        b = flag.box
        self.heading, self.title, self.severity = b.heading, b.title, b.severity
        lines = b.lines()
        self.verdict = lines[-1][1]
        self.note = b.note or ""
        self.rows = [(k, v) for k, v in lines[1:-1] if k]
        grid = self.ids.lines
        grid.clear_widgets()
        for k, v in self.rows:
            grid.add_widget(pooled(grid, "AttentionRow", key=k, value=v, highlight=k == "县里的说明"))

    def print_slip(self) -> None:
        f = self.flag
        print_slip(f.kind, f.record_id, f.rule_id)


class AttentionPanel(GridLayout):
    """The boxes of one record, top to bottom (empty when it has no flag)."""

    count = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.shown: list[ShownFlag] = []

    def show(self, flags: list[ShownFlag]) -> None:
        self.clear()
        self.shown = list(flags)
        for f in flags:
            view = pooled(self, "AttentionBoxView")
            view.set_flag(f)
            self.add_widget(view)
        self.count = len(flags)

    def clear(self) -> None:
        self.clear_widgets()
        self.shown = []
        self.count = 0

    def spoken(self) -> list[tuple[str, str]]:
        """Each box as read aloud (``box.speech()``), in the order shown."""
        return [("", f.box.speech()) for f in self.shown]


class SlipButton(KButton):
    """打印问题反映单 for the record shown (every flag of it, or none)."""

    kind = StringProperty("")
    record_id = StringProperty("")

    def __init__(self, **kw):
        kw.setdefault("text", "打印问题反映单")
        kw.setdefault("primary", False)
        super().__init__(**kw)

    def on_release(self):
        if self.kind:
            print_slip(self.kind, self.record_id)


class Flagged:
    """Mixin for a DetailScreen (first base): loads the record's flags after the record and
    shows them in ``ids.attention``; ``ids.slip_btn`` prints the slip once the record is there.

    ``flag_kind``: the record's kind in the flags table and on the slip (finance, projects,
    assets, services; powers: no rule concerns them, so no ``attention`` panel, only the slip).
    """

    flag_kind = ""
    #: the record shown was found: its 打印问题反映单 may be tapped
    askable = BooleanProperty(False)

    def open(self, id=None, **params):
        self.askable = False
        self._flags_id = id
        panel = self.ids.get("attention")
        if panel is not None:
            panel.clear()
        super().open(id=id, **params)
        kind = self.flag_kind
        if panel is None:  # a kind no rule concerns (powers): the slip only
            self.load(lambda m: [], lambda flags: self._got_flags(id, flags))
            return
        self.load(lambda m: load_flags(m, kind, id), lambda flags: self._got_flags(id, flags))

    def _got_flags(self, id, flags: list[ShownFlag]) -> None:
        if id != self._flags_id or self.record is None:  # opened again meanwhile, or no such record
            return
        if "attention" in self.ids:
            self.ids.attention.show(flags)
        self.ids.slip_btn.kind, self.ids.slip_btn.record_id = self.flag_kind, id
        self.askable = True

    def spoken(self) -> list[tuple[str, str]]:
        """The screen's reading (the detail screen's own, else its title), then each box."""
        own = getattr(super(), "spoken", None)
        pairs = list(own()) if own is not None else [("", self.title)]
        panel = self.ids.get("attention")
        return pairs + (panel.spoken() if panel is not None else [])


Builder.load_file(os.path.join(os.path.dirname(__file__), "attention.kv"))
