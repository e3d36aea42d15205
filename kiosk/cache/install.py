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
import re
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from kiosk.cache import bundle as B
from kiosk.cache import verify as V
from kiosk.cache.clock import FUTURE_TOLERANCE, SYSTEM, Clock, parse_utc
from kiosk.cache import highwater
from kiosk.cache.fsutil import (FULL, HomeNotWritable, atomic_write_json, check_free_space, disk_full, fsync_dir,
                                make_read_only, make_writable_dirs, not_writable, read_json, remove_tree, writing)
from kiosk.cache.keys import TrustStore, verification_keys
from kiosk.errors import Exit, KioskError

COPY_CHUNK = 1 << 20
HISTORY_KEEP = 200  # install/fallback events kept in state.json
Progress = Callable[[str, int, int], None]  # (phase, done_bytes, total_bytes)


class ImportBusy(KioskError):
    exit_code = Exit.BUSY
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


#: ``v`` + the seq, at least six digits (``v000007``, ``v1000000``, ``v2026120701``) + the fingerprint
VERSION_NAME = re.compile(r"^v([0-9]{6,16})-([0-9a-f]{8})$")
STATE_DAMAGED_ZH = "本机数据记录（state.json）被删除、损坏或改动，请联系技术人员"


def seq_of(name: str | None) -> int | None:
    """The seq encoded in a version folder name (``v000007-1a2b3c4d`` → 7), or None."""
    mt = VERSION_NAME.match(name or "")
    return int(mt.group(1)) if mt else None


def _folder_names(home: Path, sub: str) -> list[str]:
    d = mirror_dir(home) / sub
    try:
        return sorted(p.name for p in d.iterdir() if VERSION_NAME.match(p.name)) if d.is_dir() else []
    except OSError:
        return []


def state_check(home: Path) -> tuple[dict[str, Any], str | None]:
    """``(state, problem)``: problem is None, or one English line when ``state.json`` is
    missing or unreadable on a kiosk that has installed data before (high-water record,
    version or quarantine folders), or its ``highest_seq`` is below another record of it."""
    path = mirror_dir(home) / "state.json"
    hw = highwater.read(home)
    try:
        st = read_json(path, None)
    except (ValueError, OSError) as exc:
        return {}, f"mirror/state.json is unreadable ({type(exc).__name__})"
    if st is None:
        if hw["highest_seq"] or _folder_names(home, "versions") or _folder_names(home, "quarantine"):
            return {}, "mirror/state.json is missing although data was installed before"
        return {}, None
    if not isinstance(st, dict) or not isinstance(st.get("highest_seq", 0), int):
        return {}, "mirror/state.json is unreadable (not a state record)"
    recorded = max([hw["highest_seq"]] + [seq_of(n) or 0 for n in (st.get("current"), st.get("last_known_good"))]
                   + [seq_of(n) or 0 for n in _folder_names(home, "quarantine")])
    if int(st.get("highest_seq", 0)) < recorded:
        return st, f"highest_seq in mirror/state.json ({st.get('highest_seq', 0)}) is below the recorded {recorded}"
    return st, None


def highest(home: Path, state: dict[str, Any], damaged: bool = False) -> tuple[int, str | None]:
    """The highest seq ever installed and its manifest SHA-256 (None if unknown): the
    maximum of state.json, the high-water files and the seq in the names of the shown,
    last-known-good and quarantined folders (with ``damaged``: of every version folder)."""
    hw = highwater.read(home)
    cands = [(int(state.get("highest_seq", 0) or 0), state.get("highest_manifest_sha256")),
             (hw["highest_seq"], hw["highest_manifest_sha256"])]
    names = [state.get("current"), state.get("last_known_good")] + _folder_names(home, "quarantine")
    if damaged:
        names += _folder_names(home, "versions")
    cands += [(seq_of(n) or 0, (state.get("manifests") or {}).get(n)) for n in names if n]
    top = max(c[0] for c in cands)
    return top, next((sha for seq, sha in cands if seq == top and sha), None)


def verify_version(home: Path, name: str | None, state: dict[str, Any]) -> str | None:
    """Re-check an installed version folder. Returns None if intact, else a one-line reason.

    Everything is checked again, nothing is taken from state.json on trust (root could
    rewrite a database, its manifest, the folder name and state.json together):

    * the manifest's **signature** against the keys recorded beside the high-water mark
      (``kiosk.cache.keys.verification_keys``: retired keys of a rotation included);
    * the manifest against the **records outside state.json**: the SHA-256 recorded for this
      folder, and for the highest version the high-water mark's (a different signed bundle
      of the same seq is a fork), and against state.json's own record;
    * the folder name (seq and fingerprint) and the scope;
    * the layout and every file's size and SHA-256;
    * the **database**: exact schema, quick_check, meta and each table's record count
      against the manifest's (:func:`check_database`).
    """
    if not name:
        return "no version"
    mt = VERSION_NAME.match(name)
    vdir = mirror_dir(home) / "versions" / name
    if not mt or not vdir.is_dir():
        return f"version folder {name} is missing"
    try:
        present = V.list_files(vdir)
        m = V.verify_manifest(*V.read_manifest(vdir), verification_keys(home))
        recorded = (state.get("manifests") or {}).get(name)
        if recorded and m.sha256 != recorded:
            return "manifest.json differs from the one installed"
        hw = highwater.read(home)
        if (rec := hw["versions"].get(name)) and rec != m.sha256:
            return "manifest.json differs from the high-water record of this version"
        if m.seq == hw["highest_seq"] and hw["highest_manifest_sha256"] and m.sha256 != hw["highest_manifest_sha256"]:
            return f"manifest.json of 第{m.seq}版 differs from the high-water record (another bundle of the same version)"
        if m.fingerprint != mt.group(2) or m.seq != int(mt.group(1)):
            return "manifest does not belong to this version folder"
        if state.get("scope") and m.scope != state["scope"]:
            return "manifest is for another scope"
        V.check_files(vdir, m, present)
        check_database(vdir / B.DB_PATH, m, home)
    except KioskError as exc:
        return exc.message
    except (OSError, ValueError) as exc:
        return f"cannot read version {name}: {exc}"
    return None


def reconstruct(home: Path, problem: str, clock: Clock | None = None) -> dict[str, Any]:
    """Rebuild state.json from the version folders (hold the import lock).

    Every folder in ``versions/`` is re-verified against the trusted keys (signature, every
    file's SHA-256); the newest intact one is shown, the next is last known good, the
    others stay (intact) or move to ``quarantine/`` (damaged): nothing is deleted. The
    high-water mark is the maximum of every record left, so an older bundle stays refused.
    The new state carries a banner (``STATE_DAMAGED_ZH``) until a newer bundle is installed.
    """
    clock = clock or SYSTEM
    mdir = mirror_dir(home)
    old = read_state(home)
    scope = old.get("scope") or highwater.read(home)["scope"]
    good: list[tuple[int, str, str, B.Manifest]] = []
    bad: list[tuple[str, str]] = []
    for name in _folder_names(home, "versions"):
        reason = verify_version(home, name, {"scope": scope})
        if reason is None:
            m = B.Manifest.parse((mdir / "versions" / name / B.MANIFEST).read_bytes())
            good.append((seq_of(name) or 0, name, m.sha256, m))
        else:
            bad.append((name, reason))
    good.sort(key=lambda g: (g[0], g[1]), reverse=True)
    top, top_sha = highest(home, old, damaged=True)
    shown = good[0] if good else None
    if shown and shown[0] >= top:
        top, top_sha = shown[0], shown[2]
    when = now_iso(clock)
    banner = STATE_DAMAGED_ZH
    if shown is None:
        banner += "；没有可用的可信版本，暂停显示"
    elif shown[0] < top:
        banner += f"；正在显示第{shown[0]}版，本机曾安装较新的第{top}版"
    issued = [t for t in [old.get("newest_issued_at"), highwater.read(home)["newest_issued_at"]]
              + [g[3].issued_at for g in good] if isinstance(t, str)]
    state = {
        "current": shown[1] if shown else None,
        "last_known_good": good[1][1] if len(good) > 1 else None,
        "highest_seq": top, "highest_manifest_sha256": top_sha,
        "manifests": {g[1]: g[2] for g in good[:2]},
        "scope": scope or (shown[3].scope if shown else None),
        "newest_issued_at": max(issued, key=parse_utc) if issued else None,
        "installed_at": old.get("installed_at"), "chain": "repair", "banner": banner,
        "failed": None if shown else {"version": None, "seq": None, "reason": problem, "at": when},
        "damaged": {"at": when, "reason": problem, "quarantined": [n for n, _ in bad]},
        "last_check": old.get("last_check"),
        "history": add_history(old, {"event": "reconstructed", "at": when, "reason": problem,
                                     "version": shown[1] if shown else None, "highest_seq": top}),
    }
    with writing(home):
        if bad:
            (mdir / "quarantine").mkdir(exist_ok=True)
            for name, _ in bad:
                make_writable_dirs(mdir / "versions" / name)
                os.replace(mdir / "versions" / name, mdir / "quarantine" / name)
            fsync_dir(mdir / "versions")
        write_state(home, state)
        highwater.raise_to(home, top, top_sha, state["newest_issued_at"], state["scope"], state["manifests"])
    return state


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


def _check_acceptable(m: B.Manifest, state: dict, scope_cfg: str | None, clock: Clock) -> str:
    """Scope, sequence, issue time and chain rules. Returns the chain verdict.

    Raises:
        BundleError: one line naming the rule broken.
    """
    scope = scope_cfg or state.get("scope")
    manifest_sha = m.sha256
    if scope and m.scope != scope:
        raise B.BundleError(f"bundle is for {m.scope}, this kiosk shows {scope}",
                            f"数据包属于其他村（{m.scope}），本终端为 {scope}")
    highest = int(state.get("highest_seq", 0))  # the caller passes the maximum of every record
    repair = (m.seq == highest and manifest_sha == state.get("highest_manifest_sha256")
              and state.get("current") != version_name(m.seq, m.fingerprint))
    cur = state.get("current")
    if cur and cur == version_name(m.seq, m.fingerprint) and \
            (state.get("manifests") or {}).get(cur, manifest_sha) == manifest_sha:
        raise B.BundleError(f"bundle 第{m.seq}版 (指纹 {m.fingerprint}) is already installed",
                            "本版数据已安装，无需重复导入")
    if m.seq <= highest and not repair:
        raise B.BundleError(f"sequence number {m.seq} is not newer than {highest} (already installed or older)",
                            f"数据包版本 第{m.seq}版 不比已安装的 第{highest}版 新，拒绝导入")
    issued = parse_utc(m.issued_at)  # format checked by Manifest.parse
    if clock.synchronized():
        limit = clock.trusted_now(state.get("newest_issued_at")) + FUTURE_TOLERANCE
        if issued > limit:
            raise B.BundleError(f"manifest issued_at {m.issued_at} is more than a day in the future (clock synchronised)",
                                f"数据包签发时间 {m.issued_at[:10]} 晚于当前时间一天以上，拒绝导入")
    prev, prev_sha = m.previous, state.get("highest_manifest_sha256")
    if repair:
        return "repair"
    if not highest:
        return "first"
    if prev is None:
        return "unlinked"
    if m.seq == highest + 1 and prev_sha:
        if prev != prev_sha:
            raise B.BundleError(f"manifest 'previous' does not match the installed 第{highest}版 (a different history; fork)",
                                f"数据包的上一版记录与本机第{highest}版不一致，拒绝导入")
        return "linked"
    return "skipped"


def make_writable_dirs_top(stage: Path) -> None:
    """The version folder itself stays 0755: renaming a folder into quarantine/ needs write
    permission on it (its ``..`` entry) for a non-root user; its files and data/ stay read-only."""
    os.chmod(stage, 0o755)


def _drop_cache(f) -> None:
    """Evict a file's pages so the following verify reads what reached the disk."""
    try:
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
    except (AttributeError, OSError):
        pass


def _clean_leftovers(mdir: Path, state: dict) -> None:
    """Remove what an interrupted import left: staging copies, unpublished versions, temp state files."""
    for d in (mdir / "staging").iterdir() if (mdir / "staging").is_dir() else ():
        remove_tree(d)
    keep = {state.get("current"), state.get("last_known_good")}
    if keep == {None}:  # a state that names no version never makes the folders "leftovers"
        keep = {d.name for d in (mdir / "versions").iterdir()} if (mdir / "versions").is_dir() else set()
    failed = (state.get("failed") or {}).get("version")
    for d in (mdir / "versions").iterdir() if (mdir / "versions").is_dir() else ():
        if d.name in keep:
            continue
        if d.name == failed and VERSION_NAME.match(d.name):
            # a fallback switched but was cut off before it moved the damaged copy aside:
            # it is evidence (and its name a high-water record), never deleted
            q = mdir / "quarantine"
            q.mkdir(exist_ok=True)
            make_writable_dirs(q / d.name)
            remove_tree(q / d.name)
            os.replace(d, q / d.name)
            fsync_dir(q)
            fsync_dir(mdir / "versions")
        else:
            remove_tree(d)
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
        with import_lock(home), writing(home):
            state, problem = state_check(home)
            if problem and problem_kind(problem) != "lowered":
                state = reconstruct(home, problem)
            _clean_leftovers(mdir, state)
    except ImportBusy:
        return False
    return True


def problem_kind(problem: str | None) -> str | None:
    """``missing`` | ``unreadable`` | ``lowered`` (see :func:`state_check`), or None."""
    if not problem:
        return None
    return "lowered" if problem.startswith("highest_seq") else "missing" if "missing" in problem else "unreadable"


def _copy(src: Path, dst: Path, progress: Progress | None, done: list[int], total: int, home: Path) -> None:
    with open(src, "rb") as fi:
        try:
            fo = open(dst, "wb")
        except OSError as exc:
            if exc.errno in (30, 13, 1):  # EROFS, EACCES, EPERM on the kiosk side
                raise not_writable(home, exc) from None
            raise
        _copy_to(fi, fo, progress, done, total, home)


def _copy_to(fi, fo, progress: Progress | None, done: list[int], total: int, home: Path) -> None:
    """Copy ``fi`` (the stick or download) to ``fo`` (the kiosk's disk). A failed read is
    an OSError (the stick); a failed write is :class:`DiskFull` or :class:`HomeNotWritable`
    (the kiosk), so a full disk is never blamed on the stick."""
    try:
        with fo:
            while chunk := fi.read(COPY_CHUNK):
                _ours(home, fo.write, chunk)
                done[0] += len(chunk)
                if progress:
                    progress("copy", done[0], total)
            _ours(home, fo.flush)
            _ours(home, os.fsync, fo.fileno())
            _drop_cache(fo)
    except OSError as exc:  # closing a file whose buffered write failed
        if exc.errno in FULL:
            raise disk_full(exc) from None
        raise


def _ours(home: Path, fn, *args) -> None:
    """A write to the kiosk's own disk: its failure is the kiosk's, never the stick's."""
    try:
        fn(*args)
    except OSError as exc:
        if exc.errno in FULL:
            raise disk_full(exc) from None
        raise not_writable(home, exc) from None


def check_database(db: Path, m: B.Manifest, home: Path | None = None) -> int:
    """The database checks of docs/bundle-format.md §5 (:func:`kiosk.cache.dbcheck.check_database`),
    within ``timeouts.database_check`` seconds of ``home``'s config. Returns the schema revision.

    Raises:
        BundleError: the database does not have its revision's exact schema, is damaged,
            does not match its manifest, or took too long to check.
    """
    from kiosk import config
    from kiosk.cache import dbcheck

    limit = float(config.load(home)["timeouts"]["database_check"]) if home is not None else config.TIMEOUTS["database_check"]
    return dbcheck.check_database(db, m, limit)


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
    with import_lock(home), writing(home):
        return _install_locked(bundle_dir, home, scope, progress, step, clock, trusted)


def _install_locked(bundle_dir: Path, home: Path, scope: str | None, progress: Progress | None,
                    step: Callable[[str], None], clock: Clock, trusted: list) -> InstallResult:
    step("precheck")
    if not bundle_dir.is_dir():
        raise B.BundleError(f"{bundle_dir}: not a bundle folder", f"找不到数据包文件夹 {bundle_dir}")
    present = V.list_files(bundle_dir)
    m = V.verify_manifest(*V.read_manifest(bundle_dir), trusted)
    state, problem = state_check(home)
    if problem and problem_kind(problem) != "lowered":
        # never "fresh": rebuild from the verified version folders, then judge the bundle
        state = reconstruct(home, problem, clock)
    top, top_sha = highest(home, state)
    state = {**state, "highest_seq": top, "highest_manifest_sha256": top_sha}
    scope = kiosk_scope(home, scope, state)  # config.json alone cannot move a kiosk to another village
    _check_acceptable(m, state, scope, clock)
    V.check_layout(m, present)
    total = m.data_size

    mdir = mirror_dir(home)
    # before copying anything: room for the copy (a full disk mid-copy said "stick pulled")
    check_free_space(mdir if mdir.is_dir() else home, total)
    step("clean")
    _clean_leftovers(mdir, state)
    created = [d for d in (mdir, mdir / "staging", mdir / "versions") if not d.exists()]
    for d in created:
        d.mkdir()
    if created:  # make the new folders durable before anything inside them counts
        fsync_dir(home)
        fsync_dir(mdir)
    stage = mdir / "staging" / f"import-{os.getpid()}-{m.seq}"
    try:
        step("copy")
        files = [B.MANIFEST, B.SIGNATURE] + sorted(f.path for f in m.files)
        done = [0]
        for rel in files:
            (stage / rel).parent.mkdir(parents=True, exist_ok=True)
            try:
                _copy(bundle_dir / rel, stage / rel, progress, done, total, home)
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

        vm = V.verify_bundle(stage, trusted, hp)
        # the staged copy is what counts (the stick may have changed under us)
        chain = _check_acceptable(vm, state, scope, clock)
        step("check_db")
        check_database(stage / B.DB_PATH, vm, home)
        step("publish")
        name = version_name(vm.seq, vm.fingerprint)
        target = mdir / "versions" / name
        remove_tree(target)  # a repair: the damaged copy of this version
        make_read_only(stage)  # a casual edit of installed data fails (root is not stopped)
        make_writable_dirs_top(stage)
        os.replace(stage, target)
        fsync_dir(mdir / "versions")
    except BaseException:
        remove_tree(stage)
        for d in reversed(created):
            remove_tree(d)
        raise
    step("switch")
    seen = [t for t in (state.get("newest_issued_at"), vm.issued_at) if t]
    newest = max(seen, key=parse_utc)
    when = now_iso(clock)
    lkg = state.get("current")
    new_state = {
        "current": name,
        "last_known_good": lkg if lkg != name else None,
        "highest_seq": max(vm.seq, int(state.get("highest_seq", 0))),
        "highest_manifest_sha256": vm.sha256 if vm.seq >= int(state.get("highest_seq", 0))
        else state.get("highest_manifest_sha256"),
        # full manifest SHA-256 per kept version: the integrity re-check compares against
        # these (a key rotation must not make installed data unverifiable)
        "manifests": {k: v for k, v in {name: vm.sha256,
                                        lkg: (state.get("manifests") or {}).get(lkg)}.items() if k and v},
        "scope": vm.scope,
        "newest_issued_at": newest,
        "installed_at": when,
        "chain": chain,
        "banner": None,
        "failed": None,
        "last_check": state.get("last_check"),
        "history": add_history(state, {"event": "install", "at": when, "version": name, "seq": vm.seq,
                                       "manifest_sha256": vm.sha256, "chain": chain}),
    }
    write_state(home, new_state)
    # the second, independent record of the mark (after the switch: a crash in between
    # leaves state.json ahead, which the next check copies over; never the reverse)
    highwater.raise_to(home, new_state["highest_seq"], new_state["highest_manifest_sha256"], newest,
                       new_state["scope"], new_state["manifests"])
    step("gc")
    _clean_leftovers(mdir, new_state)
    old = state.get("highest_seq")
    return InstallResult(old, vm.seq, vm.fingerprint, vm.data_as_of, dict(vm.counts), name, chain)


# ---------------------------------------------------------------- the kiosk's scope

SCOPE_CODE = re.compile(r"^(?:[0-9]{6}|[0-9]{9}|[0-9]{12})$")


def recorded_scope(home: Path, state: dict[str, Any] | None = None) -> str | None:
    """The scope this kiosk is bound to: the one recorded beside the high-water mark (set by
    the first install, changed only with the technician PIN), else state.json's; None on a
    kiosk that never installed anything."""
    hw = highwater.read(home)["scope"]
    return hw if isinstance(hw, str) and hw else (state if state is not None else read_state(home)).get("scope")


def kiosk_scope(home: Path, configured: str | None, state: dict[str, Any] | None = None) -> str | None:
    """The scope to accept bundles for: the recorded one; ``configured`` (config.json
    ``scope``) only on a kiosk that has none yet.

    Raises:
        BundleError: config.json names another scope than the recorded one (a neighbour's
            bundle must not install because someone edited config.json): changing it needs
            the technician PIN (``kiosk scope CODE``).
    """
    rec = recorded_scope(home, state)
    if rec and configured and configured != rec:
        raise B.BundleError(
            f"config.json scope {configured} differs from this kiosk's scope {rec}; changing the scope needs the "
            "technician PIN (kiosk scope CODE --pin-stdin)",
            f"配置文件中的所属地区（{configured}）与本机（{rec}）不符，更改所属地区须技术人员密码")
    return rec or configured


def change_scope(home: Path, new: str, clock: Clock | None = None) -> str | None:
    """Bind the kiosk to another scope (the caller has checked the technician PIN). Returns
    the old scope.

    The old scope's data stays as evidence in ``mirror-retired/<old>-<time>/`` (the whole
    mirror: state, versions, quarantine) and its high-water mark under ``retired`` in the
    high-water record, so going back to it later still refuses its older bundles. The kiosk
    shows nothing (尚无数据) until a bundle of the new scope is imported. The change is
    recorded like a key change (:mod:`kiosk.cache.trustlog`, ``scope_changed``) and shown on
    every screen until a county-signed key list confirms it.

    Raises:
        BundleError: ``new`` is not a 6-, 9- or 12-digit code, or is the scope already.
        ImportBusy, HomeNotWritable.
    """
    clock = clock or SYSTEM
    home = Path(home)
    if not isinstance(new, str) or not SCOPE_CODE.match(new):
        raise B.BundleError(f"scope must be a 6-, 9- or 12-digit division code, not {new!r}", "所属地区代码应为6、9或12位数字")
    with import_lock(home), writing(home):
        state = read_state(home)
        old = recorded_scope(home, state)
        if old == new:
            raise B.BundleError(f"this kiosk's scope is {new} already", f"本机所属地区已是 {new}")
        highwater.record_event(home, "scope_changed", f"{old or '-'}→{new}")  # first: never a change unrecorded
        hw = highwater.read(home)
        top, top_sha = highest(home, state)
        retired = dict(hw.get("retired") or {})
        if old:
            retired[old] = {"highest_seq": max(top, int((retired.get(old) or {}).get("highest_seq", 0))),
                            "highest_manifest_sha256": top_sha, "newest_issued_at": hw["newest_issued_at"]}
        back = retired.pop(new, None) or {}
        mdir = mirror_dir(home)
        when = now_iso(clock)
        if mdir.is_dir():
            rdir = home / "mirror-retired"
            rdir.mkdir(exist_ok=True)
            os.replace(mdir, rdir / f"{old or 'none'}-{when.replace(':', '')}")
            fsync_dir(rdir)
        mdir.mkdir()
        fsync_dir(home)
        seq = int(back.get("highest_seq", 0) or 0)
        write_state(home, {"current": None, "last_known_good": None, "highest_seq": seq,
                           "highest_manifest_sha256": back.get("highest_manifest_sha256"), "manifests": {},
                           "scope": new, "newest_issued_at": back.get("newest_issued_at"), "installed_at": None,
                           "chain": None, "banner": None, "failed": None,
                           "history": [{"event": "scope_changed", "at": when, "from": old, "to": new}]})
        highwater.replace_mark(home, seq, back.get("highest_manifest_sha256"), back.get("newest_issued_at"), new,
                               retired)
    return old
