"""Search by tapping: substring search over what public screens show, facets for the grids.

Kivy-free. Two halves:

* build side (county, called by :mod:`kiosk.cache.bundle`): :func:`index_body` spaces the
  shown text so FTS5's unicode61 tokenizer indexes every character (a phrase query then
  matches any substring, one- and two-character queries included; the trigram tokenizer
  cannot, and on SQLite 3.40 ``LIKE`` on a trigram table silently returns nothing);
  :class:`FacetCounter` counts the grid terms (surnames, common words, years, categories).
* kiosk side: :func:`search` runs one ``MATCH`` restricted to one village's rowid span
  (rows of a village are written contiguously, table ``search_span``), :func:`facets` reads
  the grid terms.

Matching rule (what the property test checks against a plain Python scan): the query and
every shown field are reduced by :func:`norm` (letters, digits and the mask ``*`` kept,
lower-cased, everything else dropped); a record matches when the reduced query is a
substring of one reduced field. Fields are separated by the token ``|`` so a phrase never
spans two fields, and ``*`` is a token so 张三 does not match the masked 张*三.
"""
from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable

#: Result groups in display order, with their labels.
KIND_LABELS = {"finance": "财务收支", "projects": "工程项目", "assets": "资产资源",
               "services": "办事结果", "powers": "权力清单"}
KINDS = tuple(KIND_LABELS)
FIELD_SEP = "|"
MASK = "*"
#: Common words of village books and notices offered as buttons (kept when they occur).
WORDS = ("低保", "特困", "五保", "危房改造", "养老", "医保", "残疾", "救助", "补贴", "补助", "慰问",
         "道路", "硬化", "桥", "水利", "山塘", "水渠", "饮水", "路灯", "垃圾", "厕所", "绿化",
         "租金", "承包", "山林", "耕地", "鱼塘", "厂房", "房屋", "门面", "出租",
         "工资", "办公", "电费", "会议", "培训", "维修", "修缮", "误工", "招待", "转移支付",
         "分红", "利息", "土地", "宅基地", "建房", "入学", "就业", "务工", "产业", "合作社")
FACETS = ("surname", "word", "year", "category")
FACET_LIMIT = 30
DEFAULT_LIMIT = 100  # per kind: a screenful of pages; more is refined by another tap


def _keep(ch: str) -> bool:
    return ch == MASK or unicodedata.category(ch)[0] in "LN"


def norm(text: str | None) -> str:
    """Text reduced to what is matched: letters, digits and ``*``, lower-cased. ``'记-002 重复'`` → ``'记002重复'``."""
    return "".join(ch for ch in (text or "").lower() if _keep(ch))


def index_body(*fields: str | None) -> str:
    """FTS5 body: each field's characters spaced, fields separated by ``|`` (see module doc)."""
    return f" {FIELD_SEP} ".join(" ".join(norm(f)) for f in fields if f)


def phrase(text: str) -> str:
    """The FTS5 phrase for a substring query: ``'低保'`` → ``'"低 保"'``; ``''`` if nothing is left.
    A ``*`` stays a character (staff may type a name as shown, 张*丰)."""
    chars = list(norm(text))
    return '"' + " ".join(chars) + '"' if chars else ""


def surname(shown: str | None) -> str | None:
    """Surname of a masked name as shown: 张*三 → 张, 欧阳*娜 → 欧阳, 阿*提 → 阿; None when not masked."""
    if not shown or MASK not in shown:
        return None
    s = shown.split(MASK, 1)[0].strip()
    return s or None


# ------------------------------------------------------------------ build side
class FacetCounter:
    """Counts the grid terms of one village while its records are indexed (build side).

    ``add(kind, fields, year, names, categories)`` once per indexed record; :meth:`rows`
    gives rows for table ``search_terms``: ``{village_code, facet, term, n}``, most frequent
    first within a facet (ties by term), at most :data:`FACET_LIMIT` per facet.
    """

    def __init__(self) -> None:
        self.counts = {f: Counter() for f in FACETS}

    def add(self, fields: Iterable[str | None], year: str | None = None, names: Iterable[str | None] = (),
            categories: Iterable[str | None] = ()) -> None:
        text = FIELD_SEP.join(norm(f) for f in fields if f)
        c = self.counts
        c["word"].update(w for w in WORDS if w in text)
        if year:
            c["year"][year] += 1
        c["surname"].update(s for s in map(surname, names) if s)
        c["category"].update(x for x in categories if x)

    def rows(self, village_code: str) -> list[dict]:
        out = []
        for facet, counter in self.counts.items():
            items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
            if facet == "year":
                items = sorted(counter.items(), reverse=True)  # newest year first
            out += [{"village_code": village_code, "facet": facet, "term": t, "n": n}
                    for t, n in items[:FACET_LIMIT]]
        return out


# ------------------------------------------------------------------ kiosk side
@dataclass(frozen=True)
class Hit:
    kind: str
    record_id: str
    title: str
    village_code: str


@dataclass
class Results:
    """Hits grouped by kind in :data:`KINDS` order. ``truncated``: more matched than ``limit``."""

    groups: dict[str, list[Hit]] = field(default_factory=dict)
    truncated: bool = False

    @property
    def total(self) -> int:
        return sum(len(v) for v in self.groups.values())


def match_expression(text: str | None = None, initials: str | None = None, year: str | int | None = None) -> str:
    """The FTS5 MATCH string for a query, '' when it asks for nothing.

    ``text``: substring of a shown field; ``initials``: prefix of a person's pinyin
    initials (``ZS``); ``year``: four digits. All given parts must hold.
    """
    parts = []
    if text and (p := phrase(text)):
        parts.append(f"body : {p}")
    if initials:
        ini = re.sub(r"[^a-z]", "", initials.lower())
        if ini:
            parts.append(f"initials : {ini}*")
    if year:
        y = str(year)
        if not re.fullmatch(r"\d{4}", y):
            raise ValueError(f"year must be four digits, got {year!r}")
        parts.append(f'year : "{y}"')
    return " AND ".join(parts)


def village_spans(con: sqlite3.Connection, village_code: str) -> dict[str, tuple[int, int]]:
    """``{kind: (first rowid, last rowid)}`` of the village's rows in ``search``."""
    cur = con.execute("SELECT kind, first_rowid, last_rowid FROM search_span WHERE village_code = ?",
                      (village_code,))
    cur.row_factory = None  # plain tuples, whatever the connection's factory
    return {k: (a, b) for k, a, b in cur.fetchall()}


def search(con: sqlite3.Connection, village_code: str | None = None, text: str | None = None,
           initials: str | None = None, year: str | int | None = None, limit: int = DEFAULT_LIMIT) -> Results:
    """Records matching the query, grouped by kind (:data:`KINDS` order), newest first.

    ``village_code`` restricts to one village: one query per kind over that village's rowid
    span, at most ``limit`` hits per kind. None searches the whole bundle (first ``limit``
    hits overall). ``truncated`` is set when some group was cut at ``limit``.
    Raises ValueError for a malformed year. Payments are never indexed (shown only to the
    card holder), nor are ID hashes.
    """
    expr = match_expression(text, initials, year)
    res = Results({k: [] for k in KINDS})
    if not expr:
        return res
    sql = "SELECT kind, record_id, title, village_code FROM search WHERE search MATCH ?"
    if village_code is None:
        queries = [(sql + " ORDER BY rowid DESC LIMIT ?", (expr, limit + 1))]
    else:
        spans = village_spans(con, village_code)
        queries = [(sql + " AND rowid BETWEEN ? AND ? ORDER BY rowid DESC LIMIT ?", (expr, *spans[k], limit + 1))
                   for k in KINDS if k in spans]
    for q, args in queries:
        cur = con.execute(q, args)
        cur.row_factory = None
        rows = cur.fetchall()
        res.truncated = res.truncated or len(rows) > limit
        for kind, rid, title, vcode in rows[:limit]:
            res.groups.setdefault(kind, []).append(Hit(kind, rid, title, vcode))
    return res


def facets(con: sqlite3.Connection, village_code: str) -> dict[str, list[tuple[str, int]]]:
    """Grid terms of a village: ``{facet: [(term, count), ...]}`` in display order."""
    cur = con.execute("SELECT facet, term, n FROM search_terms WHERE village_code = ?", (village_code,))
    cur.row_factory = None
    out: dict[str, list[tuple[str, int]]] = {f: [] for f in FACETS}
    for facet, term, n in cur.fetchall():
        out.setdefault(facet, []).append((term, n))
    for f, items in out.items():
        items.sort(key=(lambda kv: kv[0]) if f == "year" else (lambda kv: (-kv[1], kv[0])),
                   reverse=False)
        if f == "year":
            items.reverse()
    return out
