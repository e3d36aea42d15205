"""The public database for phones: no personal data, the kiosk's schema, a hash tree that
verifies every chunk, and kiosks that install bundles carrying it (docs/bundle-format.md §13)."""
from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

from conftest import run_cli
from kiosk.cache import bundle as B
from kiosk.county import public


def _rows(db, sql):
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_public_database_has_no_personal_data(demo_bundle):
    kiosk_db, pub = demo_bundle / B.DB_PATH, demo_bundle / public.DATABASE
    tables = {r[0] for r in _rows(pub, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "payments" not in tables and not any(t.startswith("search") for t in tables)
    assert {"finance", "projects", "project_stages", "assets", "services", "powers", "power_steps",
            "power_edges", "villages", "accounts", "meta"} <= tables
    assert _rows(pub, "SELECT DISTINCT applicant_key FROM services") == [("",)]
    meta = dict(_rows(pub, "SELECT key, value FROM meta"))
    assert meta["database"] == "public" and not any(k.startswith("id_hash") for k in meta)
    assert _rows(pub, "PRAGMA freelist_count") == [(0,)]
    # not one byte of a key, the salt or a payment holder is anywhere in the file
    raw = pub.read_bytes()
    secrets = [r[0] for r in _rows(kiosk_db, "SELECT applicant_key FROM services LIMIT 50")]
    secrets += [r[0] for r in _rows(kiosk_db, "SELECT holder_key FROM payments LIMIT 50")]
    secrets += [r[0] for r in _rows(kiosk_db, "SELECT value FROM meta WHERE key = 'id_hash_salt'")]
    assert secrets and not [s for s in secrets if s.encode() in raw]


def test_public_database_matches_the_kiosks_records(demo_bundle):
    kiosk_db, pub = demo_bundle / B.DB_PATH, demo_bundle / public.DATABASE
    for t in ("finance", "projects", "assets", "powers", "power_steps", "power_edges", "project_stages"):
        assert _rows(pub, f"SELECT * FROM {t} ORDER BY 1, 2") == _rows(kiosk_db, f"SELECT * FROM {t} ORDER BY 1, 2")
    cols = "seq, id, village_code, power_id, power_name, applicant, group_name, result, decided_on, steps_json"
    assert _rows(pub, f"SELECT {cols} FROM services ORDER BY seq") == _rows(kiosk_db, f"SELECT {cols} FROM services ORDER BY seq")
    # the same schema text for every shared table, so the viewer's queries are the kiosk's
    ddl = "SELECT name, sql FROM sqlite_master WHERE name IN ('finance', 'services', 'powers') ORDER BY name"
    assert _rows(pub, ddl) == _rows(kiosk_db, ddl)
    assert _rows(pub, "PRAGMA page_size") == [(public.CHUNK,)] and _rows(pub, "PRAGMA quick_check") == [("ok",)]


def test_descriptor_and_tree_verify_every_chunk_and_catch_a_change(demo_bundle):
    m = json.loads((demo_bundle / B.MANIFEST).read_bytes())
    listed = {f["path"]: f for f in m["files"]}
    desc_bytes = (demo_bundle / public.DESCRIPTOR).read_bytes()
    assert hashlib.sha256(desc_bytes).hexdigest() == listed[public.DESCRIPTOR]["sha256"]
    desc = json.loads(desc_bytes)
    db, tree = (demo_bundle / public.DATABASE).read_bytes(), (demo_bundle / public.TREE).read_bytes()
    n = -(-len(db) // public.CHUNK)
    assert desc["database"]["size"] == len(db) and desc["villages"] == [m["scope"]]
    assert all(public.verify_chunk(desc, tree, db, i) for i in range(n))
    assert 0 in desc["prefetch"] and max(desc["prefetch"]) < n
    bad = bytearray(db)
    bad[5 * public.CHUNK + 100] ^= 1
    assert not public.verify_chunk(desc, tree, bytes(bad), 5)
    assert public.verify_chunk(desc, tree, bytes(bad), 6)
    bad_tree = bytearray(tree)
    bad_tree[32 * 7] ^= 1
    assert not public.verify_chunk(desc, bytes(bad_tree), db, 7)


@pytest.mark.parametrize("chunks", [1, 128, 129, 128 * 128 + 1])
def test_tree_levels_for_any_size(tmp_path, chunks):
    """Up to 128 chunks the top is level 0; above, one more level per factor of 128."""
    f = tmp_path / "db"
    f.write_bytes(bytes(range(256)) * (16 * chunks - 1))  # last chunk short
    levels, size = public.hash_tree(f)
    assert size == f.stat().st_size and len(levels[0]) == chunks
    assert len(levels[-1]) <= public.FANOUT and (len(levels) == 1) == (chunks <= public.FANOUT)
    # the descriptor and tree file the builder would write verify the first, middle and last chunk
    tree = b"".join(b"".join(lv) for lv in (levels[:-1] or levels))
    offs, off = [], 0
    for lv in levels[:-1] or levels:
        offs.append({"offset": off, "count": len(lv)})
        off += 32 * len(lv)
    desc = {"chunk_size": public.CHUNK, "tree": {"fanout": public.FANOUT, "levels": offs if len(levels) > 1 else [],
                                                 "top": [h.hex() for h in levels[-1]]}}
    data = f.read_bytes()
    for i in {0, chunks // 2, chunks - 1}:
        assert public.verify_chunk(desc, tree, data, i)


def test_a_kiosk_imports_a_bundle_with_public_files(demo_home, demo_bundle):
    """Kiosks copy and verify the listed public files like the database (older kiosks do the
    same: they verify every listed file and refuse only unlisted ones)."""
    installed = next((demo_home / "mirror" / "versions").iterdir())
    for rel in public.FILES:
        assert (installed / rel).read_bytes() == (demo_bundle / rel).read_bytes()


def test_changed_public_file_is_refused_by_verify(tmp_path, small_bundle, test_key):
    import shutil

    b = tmp_path / "b"
    shutil.copytree(small_bundle, b)
    p = b / public.DATABASE
    raw = bytearray(p.read_bytes())
    raw[-10] ^= 1
    p.write_bytes(bytes(raw))
    assert run_cli("bundle", "verify", b, "--pubkey", test_key / "signing.pub") == 3
