"""本县规则: every supervision rule the county set (kiosk/rules, the bundle's rule table), each
with its numbers in plain words, its basis, whom to ask, how many of this village's records it
flags, and a coverage line when it could not check all of this village's data
(:func:`kiosk.rules.words.coverage_line`). Reached from 监督提示."""
from __future__ import annotations

import os

from kivy.lang import Builder
from kivy.properties import StringProperty

from kiosk.rules.words import contacts, coverage_line
from kiosk.screens.attention import WrapLabel  # noqa: F401  (kv)
from kiosk.screens.widgets import KioskScreen, pooled


def rules_summary(m) -> dict:
    """What the page shows (worker): ``rules`` (rows of ``Mirror.rules`` with ``n``, this
    village's flags of the rule, ``lines`` [(label, text)] and ``coverage``), ``county``."""
    if m is None or not m.has_flags:
        return {"rules": [], "county": ""}
    counts = m.flag_counts()
    profile = m.info.profile
    out = []
    for r in m.rules():
        lines = [("规定", r["text"]), ("依据", r["basis"]), ("可以问", "；".join(contacts(r["ask"], profile)))]
        out.append({"id": r["id"], "title": r["title"], "n": counts.get(r["id"], 0), "enabled": bool(r["enabled"]),
                    "lines": lines, "coverage": coverage_line(r)})
    return {"rules": out, "county": m.meta.get("rules_county") or ""}


def intro_text(s: dict) -> str:
    if not s["rules"]:
        return "这一版数据没有规则表：县里生成这一版数据时还没有做规则比对。"
    who = f"{s['county']}的" if s["county"] else "本县的"
    return (f"下面是{who} {len(s['rules'])} 项规则。村里的记录不符合其中一项时，这条记录的页面上会显示"
            "“请关注”或“提示”，并写明可以问谁。")


def count_text(rule: dict) -> str:
    if not rule["enabled"]:
        return "未启用"
    return f"本村 {rule['n']} 条提示" if rule["n"] else "本村没有提示"


class RulesPage(KioskScreen):
    """本县规则 (``app.go("rules")``)."""

    warm_on_idle = True  # prepared while idle, once per data version (kiosk/screens/workahead.py)

    intro = StringProperty("")

    def open(self, **params):
        self.load(rules_summary, self._got)

    def _got(self, s: dict) -> None:
        self.summary = s
        self.intro = intro_text(s)
        box = self.ids.rules
        box.clear_widgets()
        for r in s["rules"]:
            card = pooled(box, "RuleCard", title=r["title"], count=count_text(r), flagged=bool(r["n"]))
            rows = card.ids.lines
            rows.clear_widgets()
            for k, v in r["lines"] + ([("检查情况", r["coverage"])] if r["coverage"] else []):
                rows.add_widget(pooled(rows, "AttentionRow", key=k, value=v, highlight=k == "检查情况"))
            box.add_widget(card)
        self.ids.scroll.scroll_y = 1

    def spoken(self) -> list[tuple[str, str]]:
        """The introduction, then each rule: title, count, its lines and coverage."""
        pairs = [("", "本县规则"), ("", self.intro)]
        for r in getattr(self, "summary", {}).get("rules", []):
            pairs.append(("", f"{r['title']}，{count_text(r)}"))
            pairs += r["lines"]
            if r["coverage"]:
                pairs.append(("检查情况", r["coverage"]))
        return pairs


Builder.load_file(os.path.join(os.path.dirname(__file__), "rules_page.kv"))
