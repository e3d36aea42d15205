"""Atomic install of a verified bundle into the kiosk's mirror.

Layout under ``KIOSK_HOME/mirror/``::

    state.json                  # the one pointer: current, last_known_good, highest_seq, scope, ...
    versions/v000007-1a2b3c4d/  # installed bundles, exactly as signed (manifest, signature, data)
    staging/                    # copies being verified; never read by the UI

Order of an install (each step is recorded through ``on_step`` so tests can assert it):
``precheck`` (signature, scope, seq, issue time, chain on the source; nothing written) →
``clean`` (leftovers of an interrupted import) → ``copy`` to internal disk, each file
fsynced and dropped from the page cache → ``fsync`` the staging folders → ``verify`` the
internal copy, read back from disk (sticks lie about sync) → ``check_db`` (SQLite
quick_check, meta and counts vs manifest) → ``publish`` (rename staging → versions/, fsync
dir) → ``switch`` (state.json written to a temp file, fsynced, ``os.replace``, fsync dir) →
``gc`` (versions other than current and last known good).
A power cut anywhere leaves state.json naming the old or the new version, never a mixture;
whatever an interrupted import left in ``staging/`` or ``versions/`` is removed by the next
import or by :func:`cleanup`.

Rules beyond the signature (docs/bundle-format.md, "What a kiosk accepts"):

* ``seq`` must be above ``highest_seq``, the highest ever installed (kept through fallbacks).
  The one exception is a *repair*: the exact bundle of ``highest_seq`` (same manifest
  SHA-256) may be installed again when the kiosk no longer shows it (after a fallback).
* ``issued_at`` more than a day after :meth:`Clock.trusted_now` is refused, only when the
  clock is synchronised.
* ``previous``: when ``seq == highest_seq + 1`` and ``previous`` is set, it must equal the
  SHA-256 of the installed ``highest_seq`` manifest (else two different histories exist: a
  fork, refused). When versions were skipped it cannot be checked and is recorded as
  ``skipped``.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from kiosk.cache import bundle as B
from kiosk.cache.clock import FUTURE_TOLERANCE, SYSTEM, Clock, parse_utc
from kiosk.cache.fsutil import atomic_write_json, fsync_dir, read_json
from kiosk.cache.keys import TrustStore
from kiosk.errors import KioskError

COPY_CHUNK = 1 << 20
HISTORY_KEEP = 200  # install/fallback events kept in state.json
Progress = Callable[[str, int, int], None]  # (phase, done_bytes, total_bytes)


class ImportBusy(KioskError):
    exit_code = 4
    default_zh = "另一个导入正在进行，请稍后再试"


@dataclass(frozen=True)
class InstallResult:
    old_seq: int | None
    new_seq: int
    fingerprint: str
    data_as_of: str
    counts: dict[str, int]
    version_dir: str
    chain: str = "first"   # first | linked | skipped | unlinked | repair


def mirror_dir(home: Path) -> Path:
    return Path(home) / "mirror"


def read_state(home: Path) -> dict[str, Any]:
    """The mirror pointer (empty dict before the first install; also if unreadable)."""
    try:
        st = read_json(mirror_dir(home) / "state.json", {}) or {}
    except (ValueError, OSError):
        return {}
    return st if isinstance(st, dict) else {}


def write_state(home: Path, state: dict[str, Any]) -> None:
    """Durably replace state.json (temp file, fsync, os.replace, fsync dir). Hold the import lock."""
    atomic_write_json(mirror_dir(home) / "state.json", state)


def current_version_id(home: Path) -> str | None:
    """Cheap poll for the UI: the name of the version shown now (changes on install and
    on fallback), or None. Reads one small file; no SQLite."""
    return read_state(home).get("current")


def now_iso(clock: Clock = SYSTEM) -> str:
    return clock.now().astimezone(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def add_history(state: dict[str, Any], event: dict[str, Any]) -> list[dict[str, Any]]:
    return (list(state.get("history") or []) + [event])[-HISTORY_KEEP:]


def version_name(seq: int, fp: str) -> str:
    return f"v{seq:06d}-{fp}"


@contextmanager
def import_lock(home: Path) -> Iterator[None]:
    """Exclusive lock so two imports (stick + sync) never interleave. Locks the KIOSK_HOME
    directory itself, so a refused import creates no lock file."""
    fd = os.open(str(home), os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ImportBusy("another import is running", "另一个导入正在进行，请稍后再试") from None
        yield
    finally:
        os.close(fd)


def _check_acceptable(m: dict, manifest_sha: str, state: dict, scope_cfg: str | None, clock: Clock) -> str:
    """Scope, sequence, issue time and chain rules. Returns the chain verdict.

    Raises:
        BundleError: one line naming the rule broken.
    """
    scope = scope_cfg or state.get("scope")
    if scope and m["scope"] != scope:
        raise B.BundleError(f"bundle is for {m['scope']}, this kiosk shows {scope}",
                            f"数据包属于其他村（{m['scope']}），本终端为 {scope}")
    highest = int(state.get("highest_seq", 0))
    repair = (m["seq"] == highest and manifest_sha == state.get("highest_manifest_sha256")
              and state.get("current") != version_name(m["seq"], manifest_sha[:8]))
    cur = state.get("current")
    if cur and cur == version_name(m["seq"], manifest_sha[:8]) and \
            (state.get("manifests") or {}).get(cur, manifest_sha) == manifest_sha:
        raise B.BundleError(f"bundle 第{m['seq']}版 (指纹 {manifest_sha[:8]}) is already installed",
                            "本版数据已安装，无需重复导入")
    if m["seq"] <= highest and not repair:
        raise B.BundleError(f"sequence number {m['seq']} is not newer than {highest} (already installed or older)",
                            f"数据包版本 第{m['seq']}版 不比已安装的 第{highest}版 新，拒绝导入")
    issued = parse_utc(m["issued_at"])  # format checked by read_signed_manifest
    if clock.synchronized():
        limit = clock.trusted_now(state.get("newest_issued_at")) + FUTURE_TOLERANCE
        if issued > limit:
            raise B.BundleError(f"manifest issued_at {m['issued_at']} is more than a day in the future (clock synchronised)",
                                f"数据包签发时间 {m['issued_at'][:10]} 晚于当前时间一天以上，拒绝导入")
    prev, prev_sha = m.get("previous"), state.get("highest_manifest_sha256")
    if repair:
        return "repair"
    if not highest:
        return "first"
    if prev is None:
        return "unlinked"
    if m["seq"] == highest + 1 and prev_sha:
        if prev != prev_sha:
            raise B.BundleError(f"manifest 'previous' does not match the installed 第{highest}版 (a different history; fork)",
                                f"数据包的上一版记录与本机第{highest}版不一致，拒绝导入")
        return "linked"
    return "skipped"


def _drop_cache(f) -> None:
    """Evict a file's pages so the following verify reads what reached the disk."""
    try:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass


def _clean_leftovers(mdir: Path, state: dict) -> None:
    """Remove what an interrupted import left: staging copies, unpublished versions, temp state files."""
    for d in (mdir / "staging").iterdir() if (mdir / "staging").is_dir() else ():
        shutil.rmtree(d, ignore_errors=True)
    keep = {state.get("current"), state.get("last_known_good")}
    for d in (mdir / "versions").iterdir() if (mdir / "versions").is_dir() else ():
        if d.name not in keep:
            shutil.rmtree(d, ignore_errors=True)
    for t in mdir.glob(".state.json.tmp*") if mdir.is_dir() else ():
        t.unlink(missing_ok=True)


def cleanup(home: Path) -> bool:
    """Remove leftovers of an interrupted import (start-up, ``kiosk check``).

    Returns False (and does nothing) when an import is running right now.
    """
    mdir = mirror_dir(home)
    if not mdir.is_dir():
        return True
    try:
        with import_lock(home):
            _clean_leftovers(mdir, read_state(home))
    except ImportBusy:
        return False
    return True


def _copy(src: Path, dst: Path, progress: Progress | None, done: list[int], total: int) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(COPY_CHUNK):
            fo.write(chunk)
            done[0] += len(chunk)
            if progress:
                progress("copy", done[0], total)
        fo.flush()
        os.fsync(fo.fileno())
        _drop_cache(fo)


def check_database(db: Path, m: dict) -> None:
    """SQLite quick_check and meta/counts against the manifest.

    Raises:
        BundleError: the database is damaged or does not match its manifest.
    """
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
        try:
            if (r := con.execute("PRAGMA quick_check").fetchone()[0]) != "ok":
                raise B.BundleError(f"database check failed: {r}", "数据库自检失败")
            meta = dict(con.execute("SELECT key, value FROM meta"))
            if meta.get("format_version") != str(B.FORMAT_VERSION) or meta.get("scope") != m["scope"]:
                raise B.BundleError("database meta does not match the manifest", "数据库与清单不符")
            tables = {"finance": "finance", "projects": "projects", "assets": "assets", "services": "services",
                      "powers": "powers", "payments": "payments"}
            for kind, table in tables.items():
                n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                if n != m["counts"].get(kind):
                    raise B.BundleError(f"database has {n} {kind} records, manifest says {m['counts'].get(kind)}",
                                        "数据库记录数与清单不符")
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise B.BundleError(f"database cannot be read: {exc}", "数据库无法读取") from None


def install(bundle_dir: Path, home: Path, scope: str | None = None, progress: Progress | None = None,
            on_step: Callable[[str], None] | None = None, clock: Clock | None = None) -> InstallResult:
    """Verify ``bundle_dir`` against the trusted keys and install it atomically.

    ``progress(phase, done_bytes, total_bytes)`` with phase ``copy`` or ``verify``;
    ``on_step(name)`` at each step named in the module docstring; ``clock`` for tests.

    Refuses (``BundleError``) before writing anything on: no trusted key, bad signature,
    unknown format, another scope, a sequence number not above the highest ever installed,
    an issue time in the future, a broken chain. Refuses after copying (the staging copy is
    removed) on: missing/extra/changed files, a damaged database. On any refusal
    ``KIOSK_HOME`` is left byte-for-byte as it was (unless leftovers of an earlier
    interrupted import had to be cleaned first).

    Raises:
        BundleError, ImportBusy.
    """
    step = on_step or (lambda s: None)
    clock = clock or SYSTEM
    home, bundle_dir = Path(home), Path(bundle_dir)
    trusted = TrustStore(home).keys()
    with import_lock(home):
        step("precheck")
        if not bundle_dir.is_dir():
            raise B.BundleError(f"{bundle_dir}: not a bundle folder", f"找不到数据包文件夹 {bundle_dir}")
        present = B.list_files(bundle_dir)
        m, mbytes, _ = B.read_signed_manifest(bundle_dir, trusted)
        state = read_state(home)
        msha = hashlib.sha256(mbytes).hexdigest()
        _check_acceptable(m, msha, state, scope, clock)
        listed = B.check_layout(m, present)
        total = sum(f["size"] for f in listed.values())

        mdir = mirror_dir(home)
        step("clean")
        _clean_leftovers(mdir, state)
        created = [d for d in (mdir, mdir / "staging", mdir / "versions") if not d.exists()]
        for d in created:
            d.mkdir()
        if created:  # make the new folders durable before anything inside them counts
            fsync_dir(home)
            fsync_dir(mdir)
        stage = mdir / "staging" / f"import-{os.getpid()}-{m['seq']}"
        try:
            step("copy")
            files = [B.MANIFEST, B.SIGNATURE] + sorted(listed)
            done = [0]
            for rel in files:
                (stage / rel).parent.mkdir(parents=True, exist_ok=True)
                try:
                    _copy(bundle_dir / rel, stage / rel, progress, done, total)
                except FileNotFoundError:
                    raise B.BundleError(f"file missing from bundle: {rel}", f"数据包缺少文件 {rel}") from None
                except OSError as exc:
                    raise B.BundleError(f"cannot read {rel} from the bundle: {exc.strerror}",
                                        "读取数据包失败（U盘可能已拔出）") from None
            step("fsync")
            for d in {(stage / rel).parent for rel in files} | {stage}:
                fsync_dir(d)
            step("verify")
            hashed = [0]

            def hp(n: int) -> None:
                hashed[0] += n
                if progress:
                    progress("verify", hashed[0], total)

            vb = B.verify(stage, trusted, hp)
            # the staged copy is what counts (the stick may have changed under us)
            chain = _check_acceptable(vb.manifest, vb.manifest_sha256, state, scope, clock)
            step("check_db")
            check_database(stage / B.DB_PATH, vb.manifest)
            step("publish")
            name = version_name(vb.manifest["seq"], vb.fingerprint)
            target = mdir / "versions" / name
            shutil.rmtree(target, ignore_errors=True)  # a repair: the damaged copy of this version
            os.replace(stage, target)
            fsync_dir(mdir / "versions")
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            for d in reversed(created):
                shutil.rmtree(d, ignore_errors=True)
            raise
        step("switch")
        seen = [t for t in (state.get("newest_issued_at"), vb.manifest["issued_at"]) if t]
        newest = max(seen, key=parse_utc)
        when = now_iso(clock)
        lkg = state.get("current")
        new_state = {
            "current": name,
            "last_known_good": lkg if lkg != name else None,
            "highest_seq": max(vb.manifest["seq"], int(state.get("highest_seq", 0))),
            "highest_manifest_sha256": vb.manifest_sha256,
            # full manifest SHA-256 per kept version: the integrity re-check compares against
            # these (a key rotation must not make installed data unverifiable)
            "manifests": {k: v for k, v in {name: vb.manifest_sha256,
                                            lkg: (state.get("manifests") or {}).get(lkg)}.items() if k and v},
            "scope": vb.manifest["scope"],
            "newest_issued_at": newest,
            "installed_at": when,
            "chain": chain,
            "banner": None,
            "failed": None,
            "last_check": state.get("last_check"),
            "history": add_history(state, {"event": "install", "at": when, "version": name, "seq": vb.manifest["seq"],
                                           "manifest_sha256": vb.manifest_sha256, "chain": chain}),
        }
        write_state(home, new_state)
        step("gc")
        _clean_leftovers(mdir, new_state)
        old = state.get("highest_seq")
        return InstallResult(old, vb.manifest["seq"], vb.fingerprint, vb.manifest["data_as_of"],
                             vb.manifest["counts"], name, chain)
