"""The bundle database's schema revisions (docs/bundle-format.md, "Schema revisions").

Revision 1 is frozen in ``schema-r1.sql``; the current revision is ``schema.sql``. A newer
revision only adds tables and indexes, so a kiosk that knows revision N reads any later one.
"""
from __future__ import annotations

import sqlite3
from importlib import resources

#: revision → schema file in kiosk/cache/
FILES = {1: "schema-r1.sql", 2: "schema.sql"}
CURRENT = max(FILES)


def schema_sql(revision: int = CURRENT) -> str:
    """The exact schema text of ``revision``. Raises KeyError for an unknown revision."""
    return resources.files("kiosk.cache").joinpath(FILES[revision]).read_text(encoding="utf-8")


def revision_of(con: sqlite3.Connection) -> int:
    """A database's revision: ``meta.schema_revision`` (absent = 1).

    Raises:
        ValueError: the value is not a whole number.
    """
    r = con.execute("SELECT value FROM meta WHERE key = 'schema_revision'").fetchone()
    if r is None:
        return 1
    return int(r[0] if isinstance(r, tuple) else r["value"])
