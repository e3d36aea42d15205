"""A cache row planted with a malicious pickle is refused and never executed."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import diskcache
import pytest
from diskcache.core import MODE_PICKLE

from kiosk.cache.safecache import SafeDisk, UnsafeCacheEntry, cache_dir, open_cache


class Evil:
    """Unpickling this creates a file: proof that code ran."""

    def __init__(self, path: Path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _plant_with_plain_diskcache(d: Path, key, value) -> None:
    c = diskcache.Cache(str(d))  # default Disk: pickles the object, stores MODE_PICKLE
    c.set(key, value)
    c.close()


def test_roundtrip_json_and_bytes(tmp_path):
    c = open_cache(tmp_path, "sync")
    c.set("etag:/b/manifest.json", {"etag": "W/\"1\"", "size": 4096, "names": ["数据包"]})
    c.set(b"raw", b"\x00\xffpartial")
    c.set("big", b"x" * 100_000)  # stored as a file (MODE_BINARY)
    c.set(7, [1, 2.5, None, True])
    assert c.get("etag:/b/manifest.json") == {"etag": "W/\"1\"", "size": 4096, "names": ["数据包"]}
    assert c.get(b"raw") == b"\x00\xffpartial"
    assert c.get("big") == b"x" * 100_000
    assert c.get(7) == [1, 2.5, None, True]
    with pytest.raises(TypeError):
        c.set(("tuple", "key"), 1)
    with pytest.raises(TypeError):
        c.set("obj", object())
    # nothing pickled anywhere
    con = sqlite3.connect(cache_dir(tmp_path, "sync") / "cache.db")
    assert con.execute("SELECT count(*) FROM Cache WHERE mode = ?", (MODE_PICKLE,)).fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM Cache WHERE raw = 0").fetchone()[0] == 0


@pytest.mark.parametrize("disk", [diskcache.JSONDisk, None])
def test_plain_diskcache_would_execute_the_planted_pickle(tmp_path, disk):
    """The threat is real: JSONDisk and Disk both run the planted pickle."""
    d = tmp_path / "c"
    proof = tmp_path / "pwned"
    _plant_with_plain_diskcache(d, "k", Evil(proof))
    c = diskcache.Cache(str(d), disk=disk or diskcache.Disk)
    if disk is diskcache.JSONDisk:
        # JSONDisk compresses keys, so hand it the stored row as Cache.get would; the
        # pickle runs inside super().fetch before JSON decoding fails on its result.
        mode, value = c._sql("SELECT mode, value FROM Cache").fetchone()
        with pytest.raises(TypeError):
            c._disk.fetch(mode, None, value, False)
    else:
        c.get("k")
    assert proof.exists()


def test_planted_pickle_value_is_refused_and_not_run(tmp_path):
    proof = tmp_path / "pwned"
    d = cache_dir(tmp_path, "sync")
    _plant_with_plain_diskcache(d, "etag", Evil(proof))
    _plant_with_plain_diskcache(d, "big", [Evil(proof)] + ["pad" * 20_000])  # pickle in a .val file
    c = open_cache(tmp_path, "sync")
    assert c.get("etag") is None and c.get("big", "miss") == "miss"
    with pytest.raises(UnsafeCacheEntry):
        c._disk.fetch(MODE_PICKLE, None, b"irrelevant", False)
    assert not proof.exists()
    assert "etag" not in c  # the refused row was deleted


def test_pickled_key_is_refused(tmp_path):
    proof = tmp_path / "pwned"
    d = cache_dir(tmp_path, "sync")
    _plant_with_plain_diskcache(d, (Evil(proof),), b"v")  # a tuple key is pickled (raw = 0)
    c = open_cache(tmp_path, "sync")
    with pytest.raises(UnsafeCacheEntry):
        list(c.iterkeys())
    assert not proof.exists()


def test_tampered_settings_wipe_the_cache(tmp_path):
    c = open_cache(tmp_path, "sync")
    c.set("a", 1)
    c.close()
    con = sqlite3.connect(cache_dir(tmp_path, "sync") / "cache.db")
    con.execute("INSERT INTO Settings VALUES ('sqlite_temp_store_directory', '''/tmp''')")
    con.commit()
    con.close()
    c = open_cache(tmp_path, "sync")
    assert c.get("a") is None  # wiped, reopened empty
    assert SafeDisk(str(tmp_path)).min_file_size == 2 ** 15
