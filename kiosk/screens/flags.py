"""监督提示: every flag of the village, grouped by rule (a header per rule with its count), one
keyset page at a time; an entry opens its record (the village's own flag: 本村监督提示).
本县规则 (kiosk.screens.rules_page) lists the rules themselves.

A revision-1 bundle carries no flags: the screen says so instead of an empty list.
"""
from __future__ import annotations

import os

from kivy.app import App
from kivy.lang import Builder
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from kiosk.cache.mirror import Page
from kiosk.formatting import date_cn
from kiosk.rules.words import SEVERITY_WORD
from kiosk.screens.attention import SCREEN_OF_KIND, SEVERITY_TONE, WrapLabel  # noqa: F401  (kv)
from kiosk.screens.widgets import KioskScreen, KLabel, rich, text_size_of

#: flags per page (the list asks for the next page when scrolled near the end)
PAGE = 30
#: height of a rule's header row in the list (mm)
HEADER_MM = 22


class FlagHeader(KLabel):
    """A rule's header in the 监督提示 list: its title and how many flags it has (flags.kv).
    As tall as its wrapped title needs (RowsLayout asks :meth:`row_height`)."""

    rule_id = StringProperty("")
    index = NumericProperty(0)

    @classmethod
    def row_height(cls, item: dict, width: float, th) -> int:
        pad = th.mm(4)
        h = text_size_of(item.get("text", ""), width - 2 * pad, th.fonts["large"], True)[1]
        return max(th.mm(HEADER_MM), h + th.mm(5))


def flags_fetch(m, after) -> Page:
    """One page of the list, with a header row in front of each rule's first flag (worker).

    The cursor is ``(flags seq, rule id of the last row)``, so a page that goes on with the
    previous page's rule gets no second header. Rows: ``{"header": True, "rule_id", "title",
    "n"}`` or a ``Mirror.flags_page`` row."""
    if m is None or not m.has_flags:
        return Page([], None)
    counts = m.flag_counts()
    page = m.flags_page(after=(after[0],) if after else None, limit=PAGE)
    last = after[1] if after else None
    rows = []
    for r in page.rows:
        if r["rule_id"] != last:
            rows.append({"header": True, "rule_id": r["rule_id"], "title": r["rule_title"],
                         "n": counts.get(r["rule_id"], 0)})
            last = r["rule_id"]
        rows.append(r)
    return Page(rows, (page.next[0], last) if page.next else None)


def flag_row(r: dict) -> dict:
    """A list row (RecycleView data) for a header or a flag."""
    if r.get("header"):
        return {"viewclass": "FlagHeader", "text": rich(f"{r['title']}　{r['n']} 条"), "rule_id": r["rule_id"]}
    return {"viewclass": "ListRow", "title": rich(r["title"]), "sub": rich(_sub(r)),
            "side": SEVERITY_WORD.get(r["severity"], "请关注"),
            "side_tone": SEVERITY_TONE.get(r["severity"], "text"),
            "target": SCREEN_OF_KIND.get(r["kind"], ""), "rec_id": r["record_id"]}


def _sub(r: dict) -> str:
    """The figures, after the record's date unless its title starts with it; 县里有说明 first
    when the county explained the record."""
    d = r.get("record_date") or ""
    when = date_cn(d) if d and not (r.get("title") or "").startswith(d) else ""
    text = f"{when}　{r['detail']}" if when else r["detail"]
    return f"县里有说明。{text}" if r.get("note") else text


def said(r: dict) -> tuple[str, str]:
    """How 朗读 reads a row of the list: a rule's header, or an entry (severity, title, figures)."""
    if r.get("header"):
        return ("", f"{r['title']}，{r['n']} 条")
    return (SEVERITY_WORD.get(r["severity"], "请关注"), f"{r['title']}。{_sub(r)}")


def summary(m) -> dict:
    """What the top of the screen says (worker): ``has_flags``, ``total``, ``rules`` (rules
    with flags)."""
    if m is None or not m.has_flags:
        return {"has_flags": False, "total": 0, "rules": 0}
    counts = m.flag_counts()
    return {"has_flags": True, "total": sum(counts.values()), "rules": len(counts)}


def summary_text(s: dict) -> str:
    if not s["has_flags"]:
        return "这一版数据没有监督提示：县里生成这一版数据时还没有做规则比对。"
    if not s["total"]:
        return "按本县规则自动比对，本村这一版数据没有需要关注的记录。"
    return (f"按本县规则自动比对，共有 {s['total']} 条提示，涉及 {s['rules']} 项规则。"
            "提示不是结论，记录也可能有合理的原因；点一条可以看这条记录和详细说明。")


class FlagsScreen(KioskScreen):
    """监督提示 (``app.go("flags")``)."""

    warm_on_idle = True  # prepared while idle, once per data version (kiosk/screens/workahead.py)

    #: the list has entries to show (else the message alone)
    listed = BooleanProperty(False)
    message = StringProperty("")
    total = NumericProperty(0)

    def open(self, **params):
        self._said: list[tuple[str, str]] = []
        self.load(summary, self._got_summary)
        self.ids.list.start(flags_fetch, self._row)

    def _row(self, r: dict) -> dict:
        self._said.append(said(r))
        return flag_row(r)

    def _got_summary(self, s: dict) -> None:
        self.total = s["total"]
        self.listed = bool(s["total"])
        self.message = summary_text(s)

    def spoken(self) -> list[tuple[str, str]]:
        """The summary, then each rule's header and the entries loaded so far, in list order."""
        return [("", "监督提示"), ("", self.message)] + list(getattr(self, "_said", []))


Builder.load_file(os.path.join(os.path.dirname(__file__), "flags.kv"))
