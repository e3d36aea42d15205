"""The database inside a signed bundle is checked, not trusted: its schema exactly, then
SQLite's own check, ``meta`` and the record counts against the manifest, all within a time
limit (docs/bundle-format.md §5, "What a kiosk accepts" step 9).

Why exactly: third parties may build bundles, and a signature only says who built one. A
county-signed database with a VIEW named ``finance`` ran the view's SQL on every query
(and hid a record), an endlessly recursive view hung the import with the import lock held,
a dropped column crashed a detail screen. So ``sqlite_master`` must equal, row for row
(type, name, table, SQL text), what the schema of the database's revision creates: no view,
no trigger, no extra table or index, no column changed. The expected rows come from running
the revision's SQL in an in-memory database with this kiosk's SQLite (so FTS5's shadow
tables are the ones it makes). The SQL text is compared with its comments taken out and its
white space collapsed: a builder may lay the documented schema out its own way, not change
one word of it. ``sqlite_stat1``/``sqlite_stat4`` from ``ANALYZE`` are the only objects
allowed beyond it.

Schema revisions (docs/bundle-format.md; ``meta.schema_revision``, absent = 1) are listed in
:data:`kiosk.cache.schemas.FILES`: adding one is one line there and its SQL file. A kiosk
accepts every revision it knows, each compared exactly. A newer revision than it knows
(declared in ``meta``) only adds (docs/bundle-format.md, "Schema revisions"): it is accepted
when the newest known revision's objects are there exactly and everything else is a plain
table, an FTS5 table or an index — never a view or a trigger.
"""
from __future__ import annotations

import re
import sqlite3
import time
from functools import lru_cache
from pathlib import Path

from kiosk.cache import schemas
from kiosk.cache.bundle import COUNTED, FORMAT_VERSION, BundleError, Manifest

#: schema revision → its SQL file (one table for the builder and this check)
REVISIONS = schemas.FILES

#: what ANALYZE may add (statistics for the query planner; no SQL of the builder runs from them)
STAT_TABLES = frozenset({"sqlite_stat1", "sqlite_stat4"})
#: SQLite VM instructions between two looks at the clock
STEPS = 10_000

Row = tuple[str, str, str, str | None]  # type, name, tbl_name, sql


@lru_cache(maxsize=None)
def expected_schema(revision: int) -> frozenset[Row]:
    """``sqlite_master`` rows that revision ``revision``'s SQL creates (statistics excluded)."""
    sql = schemas.schema_sql(revision)
    con = sqlite3.connect(":memory:")
    try:
        con.executescript(sql)
        return frozenset(_rows(con))
    finally:
        con.close()


def _rows(con: sqlite3.Connection) -> list[Row]:
    return [(t, n, tbl, normalise(sql)) for t, n, tbl, sql in
            con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master") if n not in STAT_TABLES]


def normalise(sql: str | None) -> str | None:
    """SQL text without its ``--`` and ``/* */`` comments, white space collapsed to one
    space (none next to ``(``, ``)`` and ``,``). Quoted strings and identifiers are kept
    exactly as they are."""
    if not isinstance(sql, str):
        return sql
    parts: list[tuple[bool, str]] = []  # (quoted, text)
    plain: list[str] = []
    i, n = 0, len(sql)

    def flush() -> None:
        if plain:
            parts.append((False, "".join(plain)))
            plain.clear()

    while i < n:
        c = sql[i]
        if c in "'\"`[":  # a quoted string or identifier: kept as it is
            close = "]" if c == "[" else c
            j = i + 1
            while j < n:
                if sql[j] == close:
                    if close != "]" and j + 1 < n and sql[j + 1] == close:  # a doubled quote
                        j += 2
                        continue
                    break
                j += 1
            flush()
            parts.append((True, sql[i:j + 1]))
            i = j + 1
        elif sql.startswith("--", i):
            j = sql.find("\n", i)
            i = n if j < 0 else j
            plain.append(" ")
        elif sql.startswith("/*", i):
            j = sql.find("*/", i + 2)
            i = n if j < 0 else j + 2
            plain.append(" ")
        else:
            plain.append(" " if c.isspace() else c)
            i += 1
    flush()
    out = []
    for quoted, t in parts:
        out.append(t if quoted else re.sub(r" ?([(),]) ?", r"\1", re.sub(r"\s+", " ", t)))
    text = "".join(out)
    return text.strip()


def _describe(rows: set[Row]) -> str:
    r = sorted(rows)[0]
    return f"{r[0]} {r[1]}" + (f" (and {len(rows) - 1} more)" if len(rows) > 1 else "")


def check_schema(con: sqlite3.Connection) -> int:
    """The revision whose schema ``con``'s database has, exactly (see module doc). Reads only
    ``sqlite_master`` and, once it is known to be the revision's table, ``meta``.

    Raises:
        BundleError: any object missing, extra or different (a view, a trigger, a dropped or
            changed column, an index), or ``meta.schema_revision`` naming another revision.
    """
    try:
        actual = set(_rows(con))
    except sqlite3.DatabaseError as exc:
        raise BundleError(f"database cannot be read: {exc}", "数据库无法读取") from None
    for revision in sorted(REVISIONS, reverse=True):
        if actual == expected_schema(revision):
            break
    else:
        declared = _declared_revision(con, actual)
        newest = max(REVISIONS)
        if declared is not None and declared > newest:
            # a newer revision only adds (docs/bundle-format.md, "Schema revisions"): what this
            # kiosk knows must be there exactly, and the rest may only be tables and indexes
            known = expected_schema(newest)
            added = actual - known
            if known <= actual and all(_only_adds(r) for r in added):
                return declared
            raise BundleError(f"database schema revision {declared} is newer than this kiosk's {newest} and does "
                              "not only add tables and indexes to it (views, triggers and changed objects are refused)",
                              "数据库结构与数据包格式不符（含有视图、触发器、未知对象或缺少字段），拒绝")
        want = expected_schema(max(REVISIONS))
        extra, missing = actual - want, want - actual
        what = (f"has {_describe(extra)}" + (" where the schema has " + _describe(missing) if missing else "")
                if extra else f"lacks {_describe(missing)}")
        raise BundleError(f"database schema differs from every known revision: it {what} "
                          "(views, triggers and unknown objects are refused)",
                          "数据库结构与数据包格式不符（含有视图、触发器、未知对象或缺少字段），拒绝")
    meta = dict(con.execute("SELECT key, value FROM meta WHERE key = 'schema_revision'"))
    declared = meta.get("schema_revision", "1")
    if declared != str(revision):
        raise BundleError(f"database schema is revision {revision} but meta.schema_revision says {declared!r}",
                          "数据库结构版本与记录不符，拒绝")
    return revision


_ADDED_TABLE = re.compile(r"CREATE TABLE |CREATE VIRTUAL TABLE \S+ USING fts5\(", re.I)
_ADDED_INDEX = re.compile(r"CREATE (UNIQUE )?INDEX ", re.I)


def _only_adds(r: Row) -> bool:
    """An object a newer revision may add: a plain table (or an FTS5 table and its shadow
    tables), an index. Never a view or a trigger."""
    kind, _, _, sql = r
    if kind == "table":
        return sql is not None and bool(_ADDED_TABLE.match(sql))
    if kind == "index":
        return sql is None or bool(_ADDED_INDEX.match(sql))  # None: a UNIQUE/PRIMARY KEY autoindex
    return False


def _declared_revision(con: sqlite3.Connection, actual: set[Row]) -> int | None:
    """``meta.schema_revision`` of a database whose schema matched no known revision, read
    only when ``meta`` is the plain table of revision 1 (never a view); None otherwise."""
    meta = {r for r in expected_schema(1) if r[2] == "meta"}
    if not meta <= actual or any(r[2] == "meta" and r not in meta for r in actual):
        return None
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'schema_revision'").fetchone()
        return int(row[0]) if row else 1
    except (sqlite3.DatabaseError, ValueError, TypeError):
        return None


def check_database(db: Path, m: Manifest, time_limit: float) -> int:
    """Check the database of a bundle against its manifest, within ``time_limit`` seconds:
    the schema (:func:`check_schema`), ``PRAGMA quick_check``, ``meta.format_version`` and
    ``meta.scope``, and each counted table's ``count(*)`` against ``m.counts``. Returns the
    schema revision.

    Raises:
        BundleError: one line naming the first defect, or the time limit.
    """
    deadline = time.monotonic() + time_limit

    def over_time() -> int:
        return 1 if time.monotonic() > deadline else 0

    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    except sqlite3.DatabaseError as exc:
        raise BundleError(f"database cannot be read: {exc}", "数据库无法读取") from None
    try:
        con.set_progress_handler(over_time, STEPS)
        if time_limit <= 0:
            raise sqlite3.OperationalError("interrupted")
        revision = check_schema(con)
        if (r := con.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
            raise BundleError(f"database check failed: {r}", "数据库自检失败")
        meta = dict(con.execute("SELECT key, value FROM meta"))
        if meta.get("format_version") != str(FORMAT_VERSION) or meta.get("scope") != m.scope:
            raise BundleError("database meta does not match the manifest", "数据库与清单不符")
        for table in COUNTED:  # names from our own list, never from the database
            n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            if n != m.counts.get(table):
                raise BundleError(f"database has {n} {table} records, manifest says {m.counts.get(table)}",
                                  "数据库记录数与清单不符")
        return revision
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            raise BundleError(f"database check took longer than {time_limit:g} s (timeouts.database_check)",
                              "数据库检查超时，拒绝") from None
        raise BundleError(f"database cannot be read: {exc}", "数据库无法读取") from None
    except sqlite3.DatabaseError as exc:
        raise BundleError(f"database cannot be read: {exc}", "数据库无法读取") from None
    finally:
        con.close()
