"""The public database for phones (county side: built with the bundle): the bundle's records without personal data,
and the hash tree that lets a browser verify each 4 KiB chunk it reads by HTTP range request.

Three listed files of a bundle (docs/bundle-format.md, section 13)::

    web/public.json            descriptor: sizes, chunk size, the tree's levels and top hashes
    web/public.sqlite          the kiosk database minus the personal and search tables
    web/public.sqlite.sha256   hash tree: SHA-256 of every chunk (level 0), then of every
                               block of 128 hashes (level 1, …)

A browser verifies ``manifest.json``'s signature, then ``public.json`` against the manifest's
SHA-256 for it, and from there every chunk of the database and every tree block it reads, so a
record is shown from a few chunks, never the whole file.

Personal data never goes to the web: ``payments`` is not copied, ``services.applicant_key`` is
written empty, the ID-hash parameters are left out of ``meta``. The full-text search tables
are left out too (the phone viewer browses, it does not search).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

PUBLIC_DIR = "web"
DESCRIPTOR = "web/public.json"
DATABASE = "web/public.sqlite"
TREE = "web/public.sqlite.sha256"
FILES = (DESCRIPTOR, DATABASE, TREE)
#: chunk = SQLite page: one range request per page a query touches
CHUNK = 4096
#: hashes per tree block: 128 × 32 bytes = one 4 KiB block
FANOUT = 128
DESCRIPTOR_TYPE = "cunwu-public-db"
DESCRIPTOR_VERSION = 1

#: tables never copied: personal records, and the kiosk's search index (its FTS5 shadow tables too)
SKIPPED_TABLES = ("payments", "search", "search_span", "search_terms")
#: columns written as '' in the public copy (the column stays, so the schema is the kiosk's)
BLANKED_COLUMNS = {"services": ("applicant_key",)}
SKIPPED_INDEXES = ("services_by_key",)
SKIPPED_META_PREFIX = "id_hash_"


def _skipped(name: str) -> bool:
    return name in SKIPPED_TABLES or any(name.startswith(t + "_") for t in ("search",))


def write_database(kiosk_db: Path, out: Path) -> None:
    """Write the public database ``out`` from the built kiosk database ``kiosk_db``.

    Every table of ``kiosk_db`` is copied with its exact schema text (so tables added later,
    such as the supervision flags, come along), except :data:`SKIPPED_TABLES`; the columns of
    :data:`BLANKED_COLUMNS` are written as ``''``. Rows are inserted into a fresh file (no
    freed page can hold an old value) and indexes built afterwards, so each b-tree's pages lie
    together and a lookup touches few chunks.
    """
    out = Path(out)
    out.unlink(missing_ok=True)
    con = sqlite3.connect(out, isolation_level=None)
    try:
        con.execute(f"PRAGMA page_size={CHUNK}")
        con.execute("PRAGMA journal_mode=OFF")
        con.execute("PRAGMA synchronous=OFF")
        con.execute("PRAGMA secure_delete=ON")
        con.execute("ATTACH DATABASE ? AS k", (f"file:{kiosk_db}?mode=ro",))
        objs = con.execute("SELECT type, name, tbl_name, sql FROM k.sqlite_master WHERE sql IS NOT NULL"
                           " ORDER BY rowid").fetchall()
        tables = [(n, sql) for t, n, _, sql in objs if t == "table" and not n.startswith("sqlite_") and not _skipped(n)]
        indexes = [sql for t, n, tbl, sql in objs if t == "index" and not _skipped(tbl) and n not in SKIPPED_INDEXES]
        con.execute("BEGIN")
        for name, sql in tables:
            con.execute(sql)
            cols = [r[1] for r in con.execute(f'PRAGMA k.table_info("{name}")')]
            blank = BLANKED_COLUMNS.get(name, ())
            sel = ", ".join("''" if c in blank else f'"{c}"' for c in cols)
            where = f" WHERE key NOT LIKE '{SKIPPED_META_PREFIX}%'" if name == "meta" else ""
            con.execute(f'INSERT INTO main."{name}" ({", ".join(chr(34) + c + chr(34) for c in cols)})'
                        f' SELECT {sel} FROM k."{name}"{where}')
        con.execute("INSERT OR REPLACE INTO main.meta (key, value) VALUES ('database', 'public')")
        con.execute("COMMIT")
        con.execute("DETACH DATABASE k")
        for sql in indexes:
            con.execute(sql)
        con.execute("ANALYZE")
    finally:
        con.close()


def hash_tree(data_path: Path) -> tuple[list[list[bytes]], int]:
    """Levels of the hash tree over ``data_path``'s 4 KiB chunks, and the file size.

    Level 0: SHA-256 of each chunk (the last one may be short). Level n+1: SHA-256 of each run
    of :data:`FANOUT` consecutive level-n hashes (32 bytes each, concatenated). It stops at the
    first level of at most FANOUT hashes (the top, which goes into the descriptor).
    """
    level: list[bytes] = []
    size = 0
    with open(data_path, "rb") as f:
        while chunk := f.read(CHUNK):
            size += len(chunk)
            level.append(hashlib.sha256(chunk).digest())
    levels = [level]
    while len(levels[-1]) > FANOUT:
        prev = levels[-1]
        levels.append([hashlib.sha256(b"".join(prev[i:i + FANOUT])).digest() for i in range(0, len(prev), FANOUT)])
    return levels, size


def _prefetch(db: Path) -> list[int]:
    """Chunks every query reads first: page 1 and the schema table's pages (0-based chunk
    numbers). A browser fetches them in parallel while SQLite is still loading."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        pages = [r[0] for r in con.execute("SELECT pageno FROM dbstat WHERE name = 'sqlite_schema' ORDER BY pageno")]
    except sqlite3.OperationalError:  # SQLite built without the dbstat table: page 1 only
        pages = [1]
    finally:
        con.close()
    return sorted({0, *(p - 1 for p in pages)})


#: the b-trees a record page of each kind reads (tables and their id indexes)
HOT_BTREES = {
    "finance": ("finance", "sqlite_autoindex_finance_1", "accounts"),
    "project": ("projects", "sqlite_autoindex_projects_1", "project_stages"),
    "asset": ("assets", "sqlite_autoindex_assets_1"),
    "service": ("services", "sqlite_autoindex_services_1"),
    "power": ("powers", "sqlite_autoindex_powers_1", "power_steps", "power_edges"),
}
#: a b-tree with more interior pages than this contributes only its root page
HOT_MAX_INTERIOR = 8


def _hot(db: Path) -> dict[str, list[int]]:
    """Per record kind, the chunks of the root and interior pages of the b-trees its page reads:
    a browser opening a receipt's record fetches them in parallel, so only leaf pages are read
    one after another."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        roots = dict(con.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 0"))
        inner: dict[str, list[int]] = {}
        try:
            for name, page in con.execute("SELECT name, pageno FROM dbstat WHERE pagetype = 'internal'"):
                inner.setdefault(name, []).append(page)
        except sqlite3.OperationalError:
            pass
    finally:
        con.close()
    out = {}
    for kind, trees in HOT_BTREES.items():
        pages: set[int] = set()
        for t in trees:
            if t in roots:
                pages.add(roots[t])
                if len(inner.get(t, [])) <= HOT_MAX_INTERIOR:
                    pages.update(inner.get(t, []))
        out[kind] = sorted(p - 1 for p in pages)
    return out


def write(bundle_dir: Path, kiosk_db: Path, villages: list[str]) -> list[str]:
    """Write the three public files into ``bundle_dir`` from the kiosk database. Returns their
    relative paths (to list in the manifest)."""
    bundle_dir = Path(bundle_dir)
    (bundle_dir / PUBLIC_DIR).mkdir(exist_ok=True)
    write_database(kiosk_db, bundle_dir / DATABASE)
    describe(bundle_dir, villages)
    return list(FILES)


def describe(bundle_dir: Path, villages: list[str]) -> None:
    """Write the hash tree and the descriptor for ``bundle_dir/web/public.sqlite``."""
    db = Path(bundle_dir) / DATABASE
    levels, size = hash_tree(db)
    with open(Path(bundle_dir) / TREE, "wb") as f:
        for lv in levels[:-1] or levels:  # level 0 is always written (no empty listed file)
            f.write(b"".join(lv))
    offsets, off = [], 0
    for lv in levels[:-1] or levels:
        offsets.append({"offset": off, "count": len(lv)})
        off += 32 * len(lv)
    desc: dict[str, Any] = {
        "type": DESCRIPTOR_TYPE,
        "version": DESCRIPTOR_VERSION,
        "database": {"path": DATABASE, "size": size},
        "chunk_size": CHUNK,
        "tree": {"path": TREE, "fanout": FANOUT, "levels": offsets if len(levels) > 1 else [],
                 "top": [h.hex() for h in levels[-1]]},
        "prefetch": _prefetch(db),
        "hot": _hot(db),
        "villages": sorted(villages),
    }
    (Path(bundle_dir) / DESCRIPTOR).write_bytes(
        (json.dumps(desc, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode())


def verify_chunk(desc: dict, tree_bytes: bytes, db_bytes: bytes, index: int) -> bool:
    """Check chunk ``index`` of the database the way the browser does (tests and
    ``kiosk bundle verify``): walk from the descriptor's top hashes down the tree."""
    cs, fan = desc["chunk_size"], desc["tree"]["fanout"]
    levels = desc["tree"]["levels"]
    want_top = [bytes.fromhex(h) for h in desc["tree"]["top"]]
    chunk = db_bytes[index * cs:(index + 1) * cs]
    # the index of the node at each level on the path from the chunk to the top
    path = [index]
    for _ in levels:
        path.append(path[-1] // fan)
    # expected hash of the node at the top level
    expected = want_top[path[len(levels)]] if len(levels) else want_top[index]
    # walk down: the block of level n holding our node hashes to the expected parent
    for n in range(len(levels) - 1, -1, -1):
        lv = levels[n]
        b = path[n] // fan
        start = lv["offset"] + 32 * b * fan
        end = lv["offset"] + 32 * min(lv["count"], (b + 1) * fan)
        block = tree_bytes[start:end]
        if hashlib.sha256(block).digest() != expected:
            return False
        i = path[n] - b * fan
        expected = block[32 * i:32 * (i + 1)]
    return hashlib.sha256(chunk).digest() == expected
