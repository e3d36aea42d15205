"""diskcache caches that never unpickle: a file planted in a cache cannot run code.

Why our own ``Disk``: diskcache pickles keys and values by default, and even its
``JSONDisk`` calls ``pickle.load`` on a row whose stored ``mode`` column says
``MODE_PICKLE``. A village official may be able to write to the kiosk's disk, so a cache
row is untrusted input. :class:`SafeDisk` stores only

* values: ``bytes`` as bytes (``MODE_RAW``/``MODE_BINARY``, file handles with
  ``read=True`` too), anything else as JSON text (``MODE_RAW`` str or ``MODE_TEXT``);
* keys: ``str``, ``bytes``, ``int`` or ``float`` only (stored raw, never pickled);

and refuses (:class:`UnsafeCacheEntry`) any row whose mode is ``MODE_PICKLE`` or whose key
is not raw. :class:`SafeCache` ``get`` treats such a row as a miss and deletes it.

:func:`open_cache` also refuses a cache whose ``Settings`` table was edited to hold
unknown ``sqlite_*``/``disk_*`` keys (diskcache turns those into ``PRAGMA`` statements
and ``Disk`` arguments); such a cache is wiped, it is only a cache.

Usage::

    cache = open_cache(home, "sync")       # KIOSK_HOME/cache/sync/
    cache.set("etag:" + url, {"etag": etag, "size": n})
    cache.get("etag:" + url)               # dict, or None (miss or refused row)
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import diskcache
from diskcache.core import DEFAULT_SETTINGS, MODE_BINARY, MODE_PICKLE, MODE_RAW, MODE_TEXT, UNKNOWN

from kiosk.errors import KioskError

CACHE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")


class UnsafeCacheEntry(KioskError, KeyError):
    """A cache row that would need unpickling (planted or written by other code)."""

    default_zh = "缓存内容异常，已忽略"

    def __str__(self) -> str:  # KeyError's default repr-quoting would garble the line
        return KioskError.__str__(self)


class SafeDisk(diskcache.Disk):
    """A diskcache ``Disk`` that stores JSON or bytes and never unpickles.

    Raises:
        TypeError: ``put``/``store`` of a key that is not str/bytes/int/float, or a value
            that is not bytes and not JSON-serialisable.
        UnsafeCacheEntry: ``get``/``fetch`` of a pickled key or value.
    """

    def __init__(self, directory, min_file_size: int = 2 ** 15, **_ignored: Any):
        # pickle_protocol and any other setting are ignored: nothing is ever pickled.
        super().__init__(directory, min_file_size=min_file_size, pickle_protocol=0)

    def put(self, key):
        if type(key) not in (str, bytes, int, float) or (type(key) is int and not -2 ** 63 <= key < 2 ** 63):
            raise TypeError(f"cache keys must be str, bytes, int or float, not {type(key).__name__}")
        return super().put(key)

    def get(self, key, raw):
        if not raw:
            raise UnsafeCacheEntry("cache key is stored pickled; refusing to unpickle", "缓存键格式异常，已忽略")
        return super().get(key, raw)

    def store(self, value, read, key=UNKNOWN):
        if read or type(value) is bytes:
            return super().store(value, read, key=key)
        try:
            text = json.dumps(value, ensure_ascii=False, sort_keys=True, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"cache values must be bytes or JSON-serialisable: {exc}") from None
        return super().store(text, read, key=key)

    def fetch(self, mode, filename, value, read):
        if mode == MODE_PICKLE or mode not in (MODE_RAW, MODE_BINARY, MODE_TEXT):
            raise UnsafeCacheEntry(f"cache row has mode {mode} (pickle or unknown); refusing to read it",
                                   "缓存内容格式异常，已忽略")
        if mode == MODE_BINARY:
            return super().fetch(mode, filename, value, read)
        data = super().fetch(mode, filename, value, False)
        if isinstance(data, bytes):
            return data
        if isinstance(data, str):
            try:
                return json.loads(data)
            except (json.JSONDecodeError, RecursionError):
                raise UnsafeCacheEntry("cache row is not valid JSON", "缓存内容格式异常，已忽略") from None
        return data  # a raw int/float row: plain data, harmless


def _settings_are_sane(db: Path) -> bool:
    """False if ``Settings`` holds a pragma/disk key diskcache would not write itself."""
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            rows = con.execute("SELECT key, value FROM Settings").fetchall()
        finally:
            con.close()
    except sqlite3.DatabaseError:
        return False
    for key, value in rows:
        if not isinstance(key, str):
            return False
        if key.startswith(("sqlite_", "disk_")):
            if key not in DEFAULT_SETTINGS:
                return False
            if not isinstance(value, (int, float)) and not (isinstance(value, str) and value.isalnum()):
                return False
    return True


class SafeCache(diskcache.Cache):
    """``diskcache.Cache`` whose ``get`` treats a refused row as a miss (and deletes it)."""

    def get(self, key, default=None, *args, **kwargs):
        try:
            return super().get(key, default, *args, **kwargs)
        except UnsafeCacheEntry:
            self.delete(key)
            return default


def cache_dir(home: Path, name: str) -> Path:
    if not CACHE_NAME.match(name):
        raise ValueError(f"bad cache name {name!r}")
    return Path(home) / "cache" / name


def open_cache(home: Path, name: str, **settings: Any) -> SafeCache:
    """A diskcache ``Cache`` at ``KIOSK_HOME/cache/<name>/`` using :class:`SafeDisk`.

    ``name`` is ``[a-z0-9][a-z0-9_-]*``. A cache whose settings were tampered with or
    whose database cannot be read is deleted and recreated empty. Extra ``settings`` go to
    ``diskcache.Cache`` (e.g. ``size_limit``).
    """
    d = cache_dir(home, name)
    db = d / diskcache.core.DBNAME
    if db.exists() and not _settings_are_sane(db):
        shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True, exist_ok=True)
    return SafeCache(str(d), disk=SafeDisk, **settings)
