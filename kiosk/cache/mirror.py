"""Read-only queries on the installed version: one page at a time, keyset pagination.

The UI never writes: the database is opened ``mode=ro&immutable=1`` (installed files never
change; immutable also skips locking). Rows are dicts with the column names of
``schema.sql``; amount columns come back as ``Decimal`` (元) and ``*_json`` columns decoded
under the name without ``_json``.
"""
from __future__ import annotations

import datetime as dt
import copy
import json
import sqlite3
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from kiosk.cache import bundle as B
from kiosk.cache.dbcheck import check_schema
from kiosk.cache.idhash import IdHashParams, id_hash
from kiosk.cache.install import current_version_id, mirror_dir, read_state  # noqa: F401 (re-exported for the UI)
from kiosk.formatting import from_fen

AMOUNT_COLUMNS = frozenset({"amount", "budget", "review_amount", "contract_amount", "settlement_amount", "area",
                            "reserve_price", "deal_price", "annual_rent", "deposit"})
DEFAULT_PAGE = 30


@dataclass(frozen=True)
class Totals:
    """Sums in 元 over a period: income, expense, balance = income − expense, line count."""

    income: Decimal
    expense: Decimal
    balance: Decimal
    count: int


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    next: tuple | None  # opaque keyset cursor; None on the last page


@dataclass(frozen=True)
class MirrorInfo:
    village_code: str
    village_name: str
    township_name: str
    county_name: str
    seq: int
    data_as_of: str
    fingerprint: str
    counts: dict[str, int]
    issued_at: str
    profile: dict[str, Any]
    power_list_sample: bool
    banner: str | None = None
    version_dir: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def age_days(self, today: dt.date | None = None) -> int:
        return ((today or dt.date.today()) - dt.date.fromisoformat(self.data_as_of)).days

    def footer(self) -> str:
        """``数据更新至 2026-10-31 · 第3版 · 指纹 1a2b3c4d``"""
        return f"数据更新至 {self.data_as_of} · 第{self.seq}版 · 指纹 {self.fingerprint}"


def _row(cur: sqlite3.Cursor, values: tuple) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for (name, *_), v in zip(cur.description, values):
        if name.endswith("_json"):
            out[name[:-5]] = json.loads(v) if v is not None else None
        elif name in AMOUNT_COLUMNS and v is not None:
            out[name] = Decimal(v)
        else:
            out[name] = v
    return out


class Mirror:
    """One installed version, opened read-only.

    A township or county bundle covers several villages (:attr:`villages`); queries of the
    public sections are restricted to :attr:`village` (chosen with :meth:`with_village`; a
    one-village bundle selects its village itself). ``None`` means the whole bundle.
    The card holder's own records (``payments_for``, ``services_for``) span the bundle.
    """

    def __init__(self, version_dir: Path, banner: str | None = None, village: str | None = None):
        self.version_dir = Path(version_dir)
        self.manifest = B.Manifest.parse((self.version_dir / B.MANIFEST).read_bytes())
        self.manifest_bytes = self.manifest.raw
        db = self.version_dir / B.DB_PATH
        self.con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True, check_same_thread=False)
        try:
            # exactly the schema the screens' queries were written for (no view, no dropped
            # column): a version installed before this check existed cannot crash a screen
            self.schema_revision = check_schema(self.con)
        except B.BundleError:
            self.con.close()
            raise
        self.con.row_factory = _row
        self.meta = {r["key"]: r["value"] for r in self.con.execute("SELECT key, value FROM meta")}
        self.scope = self.manifest.scope
        #: villages covered, by township then code: dicts code, name, township_code, township_name
        self.villages = self._all("SELECT code, name, township_code, township_name FROM villages"
                                  " ORDER BY township_code, code")
        self._banner = banner
        self._select(village if village is not None or len(self.villages) != 1 else self.villages[0]["code"])
        self._id_params = IdHashParams.from_meta(self.meta)

    def _select(self, village: str | None) -> None:
        if village is not None and village not in {v["code"] for v in self.villages}:
            raise ValueError(f"village {village} is not covered by this bundle (scope {self.scope})")
        self.village = village
        v = self._one("SELECT * FROM villages WHERE code = ?", village) if village else \
            self._one("SELECT * FROM villages ORDER BY code LIMIT 1")
        counts = dict(self.manifest.counts)
        if village and len(self.villages) > 1:  # this village's own counts (payments: card holder only)
            counts = {k: self._one(f"SELECT count(*) AS n FROM {k} WHERE village_code = ?", village)["n"]
                      for k in ("finance", "projects", "assets", "services", "powers")}
        level = B.scope_level(self.scope)
        self.info = MirrorInfo(
            village_code=village or self.scope,
            village_name=v["name"] if village else v["township_name" if level == "township" else "county_name"],
            township_name=v["township_name"],
            county_name=v["county_name"], seq=self.manifest.seq, data_as_of=self.manifest.data_as_of,
            fingerprint=self.manifest.fingerprint, counts=counts,
            issued_at=self.manifest.issued_at, profile=(v["profile"] or {}) if village else {},
            power_list_sample=self.meta.get("power_list_sample") == "1", banner=self._banner,
            version_dir=self.version_dir.name)

    def with_village(self, code: str | None) -> "Mirror":
        """A view of this version restricted to village ``code`` (None: the whole bundle).

        Shares the connection (close only one of the two). Raises ValueError for a village
        the bundle does not cover.
        """
        m = copy.copy(self)
        m._banner = self.info.banner
        m._select(code)
        return m

    def _v(self, cond: str, *args: Any) -> tuple[str, tuple]:
        """``cond`` restricted to the selected village (indexes lead with village_code)."""
        if self.village is None:
            return cond, args
        return f"village_code = ? AND {cond}", (self.village, *args)

    def close(self) -> None:
        self.con.close()

    def _all(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        return self.con.execute(sql, args).fetchall()

    def _one(self, sql: str, *args: Any) -> dict[str, Any] | None:
        return self.con.execute(sql, args).fetchone()

    # ------------------------------------------------------------ finance
    @staticmethod
    def _period(year: int, month: int | None) -> tuple[str, str]:
        if month:
            start = dt.date(year, month, 1)
            end = dt.date(year + (month == 12), month % 12 + 1, 1)
        else:
            start, end = dt.date(year, 1, 1), dt.date(year + 1, 1, 1)
        return start.isoformat(), end.isoformat()

    def finance_years(self) -> list[int]:
        """Years with finance lines, newest first."""
        w, a = self._v("1")
        return [int(r["y"]) for r in self._all(
            f"SELECT DISTINCT substr(date, 1, 4) AS y FROM finance WHERE {w} ORDER BY y DESC", *a)]

    def finance_months(self, year: int) -> list[int]:
        w, a = self._v("date >= ? AND date < ?", *self._period(year, None))
        return [int(r["m"]) for r in self._all(
            f"SELECT DISTINCT substr(date, 6, 2) AS m FROM finance WHERE {w} ORDER BY m", *a)]

    def finance_days(self, year: int, month: int) -> list[int]:
        """Days of ``year``-``month`` with finance lines, in order."""
        w, a = self._v("date >= ? AND date < ?", *self._period(year, month))
        return [int(r["d"]) for r in self._all(
            f"SELECT DISTINCT substr(date, 9, 2) AS d FROM finance WHERE {w} ORDER BY d", *a)]

    def finance_totals(self, year: int, month: int | None = None) -> Totals:
        """Income, expense and balance in 元 (exact: summed in 分)."""
        w, a = self._v("date >= ? AND date < ?", *self._period(year, month))
        r = self._one("SELECT coalesce(sum(CASE WHEN direction='income' THEN amount_fen END), 0) AS inc,"
                      " coalesce(sum(CASE WHEN direction='expense' THEN amount_fen END), 0) AS exp, count(*) AS n"
                      f" FROM finance WHERE {w}", *a)
        inc, exp = from_fen(r["inc"]), from_fen(r["exp"])
        return Totals(inc, exp, inc - exp, r["n"])

    def finance_page(self, year: int, month: int | None = None, after: tuple | None = None,
                     limit: int = DEFAULT_PAGE) -> Page:
        """Lines of a year or month, newest first; ``after`` is the previous page's ``next``."""
        lo, hi = self._period(year, month)
        if after:
            w, a = self._v("date >= ? AND date < ? AND (date, seq) < (?, ?)", lo, hi, after[0], after[1])
        else:
            w, a = self._v("date >= ? AND date < ?", lo, hi)
        rows = self._all(f"SELECT * FROM finance WHERE {w} ORDER BY date DESC, seq DESC LIMIT ?", *a, limit + 1)
        return self._page(rows, limit, lambda r: (r["date"], r["seq"]))

    def finance_get(self, rid: str) -> dict[str, Any] | None:
        r = self._one("SELECT f.*, a.plain_name FROM finance f LEFT JOIN accounts a ON a.code = f.account_code"
                      " WHERE f.id = ?", rid)
        if r and r["reverses_id"]:
            r["reverses"] = self._one("SELECT id, date, voucher_no, summary, amount FROM finance WHERE id = ?",
                                      r["reverses_id"])
        return r

    def account_plain_name(self, code: str) -> str:
        r = self._one("SELECT plain_name FROM accounts WHERE code = ?", code)
        return r["plain_name"] if r else code

    # ------------------------------------------------------------ generic keyset pages
    @staticmethod
    def _page(rows: list[dict], limit: int, key) -> Page:
        more = len(rows) > limit
        rows = rows[:limit]
        return Page(rows, key(rows[-1]) if more and rows else None)

    def _seq_page(self, table: str, where: str, args: tuple, after: tuple | None, limit: int, desc: bool) -> Page:
        op, order = ("<", "DESC") if desc else (">", "ASC")
        cond, args = self._v(where + (f" AND seq {op} ?" if after else ""), *args, *((after[0],) if after else ()))
        rows = self._all(f"SELECT * FROM {table} WHERE {cond} ORDER BY seq {order} LIMIT ?", *args, limit + 1)
        return self._page(rows, limit, lambda r: (r["seq"],))

    # ------------------------------------------------------------ projects
    def projects_page(self, after: tuple | None = None, limit: int = DEFAULT_PAGE, stage: str | None = None) -> Page:
        """Projects, newest 立项 first; ``stage``: only those whose latest stage reached is
        this one (立项 … 公示)."""
        where, args = ("stage = ?", (stage,)) if stage else ("1", ())
        return self._seq_page("projects", where, args, after, limit, desc=True)

    def project_stage_counts(self) -> dict[str, int]:
        """Latest stage reached → number of projects (stages without projects left out)."""
        w, a = self._v("1")
        return {r["stage"]: r["n"] for r in self._all(
            f"SELECT stage, count(*) AS n FROM projects WHERE {w} GROUP BY stage", *a)}

    def project_get(self, rid: str) -> dict[str, Any] | None:
        r = self._one("SELECT * FROM projects WHERE id = ?", rid)
        if r:
            r["stages"] = self._all("SELECT ord, stage, date, note FROM project_stages WHERE project_id = ? ORDER BY ord", rid)
        return r

    # ------------------------------------------------------------ assets
    def assets_page(self, kind: str | None = None, after: tuple | None = None, limit: int = DEFAULT_PAGE) -> Page:
        """Assets and resources (``kind`` 资产 or 资源 to filter), by kind and category."""
        where, args = ("kind = ?", (kind,)) if kind else ("1", ())
        return self._seq_page("assets", where, args, after, limit, desc=False)

    def asset_get(self, rid: str) -> dict[str, Any] | None:
        return self._one("SELECT * FROM assets WHERE id = ?", rid)

    # ------------------------------------------------------------ services
    def services_page(self, after: tuple | None = None, limit: int = DEFAULT_PAGE, power_id: str | None = None,
                      year: int | None = None) -> Page:
        """Service results, newest decision first; ``power_id`` (the 权力清单 item) and
        ``year`` (of the decision) narrow them. ``applicant_key`` is never returned."""
        conds, args = ["1"], []
        if power_id:
            conds.append("power_id = ?")
            args.append(power_id)
        if year:
            conds.append("decided_on >= ? AND decided_on < ?")
            args += list(self._period(int(year), None))
        page = self._seq_page("services", " AND ".join(conds), tuple(args), after, limit, desc=True)
        for r in page.rows:
            r.pop("applicant_key", None)
        return page

    def services_facets(self) -> dict[str, list]:
        """What 办事结果 can be narrowed by: ``{"years": [(year, n)], newest first,
        "items": [(power_id, power_name, n)]}`` in 权力清单 order."""
        w, a = self._v("1")
        years = [(int(r["y"]), r["n"]) for r in self._all(
            f"SELECT substr(decided_on, 1, 4) AS y, count(*) AS n FROM services WHERE {w} GROUP BY y ORDER BY y DESC", *a)]
        sw = "s.village_code = ?" if self.village is not None else "1"
        items = [(r["power_id"], r["power_name"], r["n"]) for r in self._all(
            "SELECT s.power_id, s.power_name, count(*) AS n, min(coalesce(p.seq, 1e9)) AS o"
            f" FROM services s LEFT JOIN powers p ON p.id = s.power_id WHERE {sw}"
            " GROUP BY s.power_id, s.power_name ORDER BY o, s.power_id", *a)]
        return {"years": years, "items": items}

    def service_get(self, rid: str) -> dict[str, Any] | None:
        r = self._one("SELECT * FROM services WHERE id = ?", rid)
        if r:
            r.pop("applicant_key", None)
        return r

    # ------------------------------------------------------------ powers
    def powers(self, klass: str | None = None) -> list[dict[str, Any]]:
        """Power-list items ordered by class (重大决策, 日常管理, 便民服务) then number."""
        w, a = self._v("class = ?", klass) if klass else self._v("1")
        return self._all(f"SELECT * FROM powers WHERE {w} ORDER BY seq", *a)

    # ------------------------------------------------------------ search (kiosk/search.py)
    def search(self, text: str | None = None, initials: str | None = None, year: int | str | None = None,
               limit: int | None = None):
        """Tap search in the selected village (whole bundle when none): :class:`kiosk.search.Results`."""
        from kiosk import search as S

        return S.search(self.con, self.village, text, initials, year, limit or S.DEFAULT_LIMIT)

    def search_facets(self) -> dict[str, list[tuple[str, int]]]:
        """Grid terms (surname, word, year, category) of the selected village; empty without one."""
        from kiosk import search as S

        return S.facets(self.con, self.village) if self.village else {f: [] for f in S.FACETS}

    def power_get(self, rid: str) -> dict[str, Any] | None:
        r = self._one("SELECT * FROM powers WHERE id = ?", rid)
        if r:
            r["steps"] = self._all("SELECT step_id, ord, label, kind FROM power_steps WHERE power_id = ? ORDER BY ord", rid)
            r["edges"] = self._all("SELECT src, dst, label FROM power_edges WHERE power_id = ?", rid)
        return r

    # ------------------------------------------------------------ supervision flags (schema revision 2)
    # A revision-1 bundle has none of these tables: every call then answers "no flags".

    @property
    def has_flags(self) -> bool:
        """Whether this version carries supervision flags (schema revision ≥ 2)."""
        return int(self.meta.get("schema_revision", "1")) >= 2

    def rules(self) -> list[dict[str, Any]]:
        """The county's rule table in list order (the 本县规则 page): ``id, ord, title, kind,
        enabled, text, basis, ask, params`` and, for the selected village, how much each rule
        could check: ``checked, missing, reason`` (reason None: everything was checked; see
        :func:`kiosk.rules.words.coverage_line`). Empty for a revision-1 bundle."""
        if not self.has_flags:
            return []
        rows = self._all("SELECT * FROM rules ORDER BY ord")
        if self.village:
            cov = {r["rule_id"]: r for r in self._all("SELECT * FROM rule_coverage WHERE village_code = ?", self.village)}
            for r in rows:
                c = cov.get(r["id"]) or {}
                r.update(checked=c.get("checked", 0), missing=c.get("missing", 0), reason=c.get("reason"),
                         as_of=c.get("as_of"))
        return rows

    def _rule_map(self) -> dict[str, dict[str, Any]]:
        if getattr(self, "_rules_cache", None) is None:
            self._rules_cache = {r["id"]: r for r in self._all("SELECT * FROM rules")} if self.has_flags else {}
        return self._rules_cache

    def flag_counts(self) -> dict[str, int]:
        """Flags per rule id for the selected village (whole bundle: None), in list order; rules
        without flags are left out. Sum them for the 监督提示 button's count."""
        if not self.has_flags:
            return {}
        w, a = self._v("1")
        n = {r["rule_id"]: r["n"] for r in self._all(f"SELECT rule_id, count(*) AS n FROM flags WHERE {w} GROUP BY rule_id", *a)}
        return {rid: n[rid] for rid in sorted(n, key=lambda k: self._rule_map()[k]["ord"])}

    def flags_page(self, rule: str | None = None, after: tuple | None = None, limit: int = DEFAULT_PAGE) -> Page:
        """One page of the 监督提示 list: flags grouped by rule (list order), newest record first
        within a rule; ``rule`` restricts it to one rule. Rows: the flags columns (``figures``
        decoded) plus ``rule_title``. ``after`` is the previous page's ``next``."""
        if not self.has_flags:
            return Page([], None)
        cond, args = ("rule_id = ?", (rule,)) if rule else ("1", ())
        if after:
            cond, args = cond + " AND seq > ?", (*args, after[0])
        w, a = self._v(cond, *args)
        rows = self._all(f"SELECT * FROM flags WHERE {w} ORDER BY seq LIMIT ?", *a, limit + 1)
        rm = self._rule_map()
        for r in rows:
            r["rule_title"] = rm[r["rule_id"]]["title"]
        return self._page(rows, limit, lambda r: (r["seq"],))

    def flags_for(self, kind: str, record_id: str) -> list[dict[str, Any]]:
        """The flags of one record (kind: finance, projects, assets, services, village) in rule
        order, each with its rule row under ``rule`` (for :func:`kiosk.rules.words.attention_box`)."""
        if not self.has_flags:
            return []
        rm = self._rule_map()
        rows = self._all("SELECT * FROM flags WHERE kind = ? AND record_id = ?", kind, record_id)
        for r in rows:
            r["rule"] = rm[r["rule_id"]]
        return sorted(rows, key=lambda r: r["rule"]["ord"])

    def village_flags(self) -> list[dict[str, Any]]:
        """Village-level flags of the selected village (首页: 财务没有按月公开), as :meth:`flags_for`."""
        return self.flags_for("village", self.village) if self.village else []

    # ------------------------------------------------------------ the card holder's own records
    def holder_key(self, id_number: str) -> str:
        """The bundle's salted hash of an ID number (slow by design: run off the UI thread)."""
        return id_hash(id_number, self._id_params)

    def payments_for(self, key: str) -> list[dict[str, Any]]:
        """到户资金 paid to the holder of ``key``, newest first (``holder_key`` not returned)."""
        rows = self._all("SELECT * FROM payments WHERE holder_key = ? ORDER BY paid_on DESC, seq DESC", key)
        for r in rows:
            r.pop("holder_key")
        return rows

    def services_for(self, key: str) -> list[dict[str, Any]]:
        rows = self._all("SELECT * FROM services WHERE applicant_key = ? ORDER BY decided_on DESC", key)
        for r in rows:
            r.pop("applicant_key")
        return rows


def current_version_dir(home: Path) -> Path | None:
    state = read_state(home)
    if not state.get("current"):
        return None
    return mirror_dir(home) / "versions" / state["current"]


def banner_for(state: dict[str, Any], seq: int, highest_seq: int | None = None) -> str | None:
    """The notice shown on every screen when the kiosk does not show its newest version.

    A fallback writes its own banner into state.json; otherwise any version older than the
    highest ever installed (``highest_seq``: the maximum of every record, see
    :func:`kiosk.cache.install.highest`) still gets one, so an older version never appears
    silently.
    """
    if state.get("banner"):
        return state["banner"]
    highest = int(state.get("highest_seq", 0)) if highest_seq is None else highest_seq
    if seq < highest:
        return f"正在显示第{seq}版，本机曾安装较新的第{highest}版，请联系技术人员"
    return None


def _open(vdir: Path) -> tuple[Mirror | None, str | None]:
    try:
        return Mirror(vdir), None
    except (OSError, sqlite3.Error, ValueError, KeyError, TypeError, B.BundleError) as exc:
        return None, f"{type(exc).__name__}: {exc}"


def assess(home: Path) -> tuple[Mirror | None, str | None]:
    """``(mirror, line)``: the version to show (None: nothing may be shown) and the Chinese
    line for the screen — the banner over the data, or the reason nothing is shown (None
    when nothing was ever installed). Never raises for missing or damaged files.

    Order: a missing/unreadable state.json shows nothing until the background check has
    rebuilt it; a current version that cannot be opened falls back to the last known good
    (with a banner); a version older than the highest ever installed, a state.json whose
    mark was lowered, or trusted keys changed outside a rotation each add a banner.
    """
    from kiosk.cache import install as I
    from kiosk.cache.keys import keys_problem

    from kiosk.cache.integrity import memory_override

    state, problem = I.state_check(home)
    if (o := memory_override(home)) and state.get("current") == o.failed:
        # a fallback found by this process that a full or read-only disk kept out of state.json
        state = {**state, "current": o.shown, "last_known_good": None, "banner": o.banner}
    if problem and I.problem_kind(problem) != "lowered":
        return None, I.STATE_DAMAGED_ZH + "，暂停显示"
    top, _ = I.highest(home, state)
    notes: list[str] = []
    if problem:
        notes.append(I.STATE_DAMAGED_ZH)
    kp = keys_problem(home)
    if kp:
        notes.append(kp[1])
    cur, lkg = state.get("current"), state.get("last_known_good")
    if not cur:
        line = state.get("banner") or (notes[0] if notes else None)
        return None, line
    vdir = mirror_dir(home) / "versions"
    m, _err = _open(vdir / cur)
    if m is None:
        m2 = _open(vdir / lkg)[0] if lkg else None
        if m2 is None:
            return None, f"第{I.seq_of(cur)}版数据无法读取，且没有可用的上一可信版本，暂停显示，请联系技术人员"
        m = m2
        base = f"正在显示第{m.info.seq}版（上一可信版本）：第{I.seq_of(cur)}版数据无法读取，请联系技术人员"
    else:
        base = banner_for(state, m.info.seq, top)
    line = "；".join([b for b in [base] if b] + [n for n in notes if n != base]) or None
    if line:
        m._banner = line
        m.info = replace(m.info, banner=line)
    return m, line


def open_current(home: Path) -> Mirror | None:
    """The installed version, or None before the first import (or when nothing trustworthy
    can be shown: see ``integrity.status_line`` for the reason). Never raises for missing
    or damaged files (see :func:`assess`).

    ``info.banner`` is a Chinese line to show on every screen, or None.
    """
    return assess(home)[0]
