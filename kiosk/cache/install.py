"""Atomic install of a verified bundle into the kiosk's mirror.

Layout under ``KIOSK_HOME/mirror/``::

    state.json                  # the one pointer: current, last_known_good, highest_seq, scope, ...
    versions/v000007-1a2b3c4d/  # installed bundles, exactly as signed (manifest, signature, data)
    staging/                    # copies being verified; never read by the UI

Order of an install (each step is recorded through ``on_step`` so tests can assert it):
``precheck`` (signature, scope, seq on the source, nothing written) → ``copy`` to internal
disk → ``fsync`` files → ``verify`` the internal copy (sticks lie about sync) → ``check_db``
(SQLite quick_check, meta vs manifest) → ``publish`` (rename into versions/, fsync dir) →
``switch`` (os.replace state.json, fsync dir) → ``gc`` (old versions beyond last known good).
A power cut anywhere leaves state.json naming the old or the new version, never a mixture.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import shutil
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from kiosk.cache import bundle as B
from kiosk.cache.fsutil import atomic_write_json, fsync_dir, read_json
from kiosk.cache.keys import TrustStore
from kiosk.errors import KioskError

COPY_CHUNK = 1 << 20
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


def mirror_dir(home: Path) -> Path:
    return Path(home) / "mirror"


def read_state(home: Path) -> dict[str, Any]:
    """The mirror pointer (empty dict before the first install)."""
    return read_json(mirror_dir(home) / "state.json", {}) or {}


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


def _check_scope_and_seq(m: dict, state: dict, scope_cfg: str | None) -> None:
    scope = scope_cfg or state.get("scope")
    if scope and m["scope"] != scope:
        raise B.BundleError(f"bundle is for {m['scope']}, this kiosk shows {scope}",
                            f"数据包属于其他村（{m['scope']}），本终端为 {scope}")
    highest = int(state.get("highest_seq", 0))
    if m["seq"] <= highest:
        raise B.BundleError(f"sequence number {m['seq']} is not newer than {highest} (already installed or older)",
                            f"数据包版本 第{m['seq']}版 不比已安装的 第{highest}版 新，拒绝导入")


def _copy(src: Path, dst: Path, progress: Progress | None, done: list[int], total: int) -> None:
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while chunk := fi.read(COPY_CHUNK):
            fo.write(chunk)
            done[0] += len(chunk)
            if progress:
                progress("copy", done[0], total)
        fo.flush()
        os.fsync(fo.fileno())


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
            on_step: Callable[[str], None] | None = None) -> InstallResult:
    """Verify ``bundle_dir`` against the trusted keys and install it atomically.

    Refuses (``BundleError``) before writing anything on: no trusted key, bad signature,
    unknown format, another scope, a sequence number not above the highest ever installed.
    Refuses after copying (the staging copy is removed) on: missing/extra/changed files,
    a damaged database. On any refusal ``KIOSK_HOME`` is left byte-for-byte as it was.

    Raises:
        BundleError, ImportBusy.
    """
    step = on_step or (lambda s: None)
    home, bundle_dir = Path(home), Path(bundle_dir)
    trusted = TrustStore(home).keys()
    with import_lock(home):
        step("precheck")
        if not bundle_dir.is_dir():
            raise B.BundleError(f"{bundle_dir}: not a bundle folder", f"找不到数据包文件夹 {bundle_dir}")
        present = B.list_files(bundle_dir)
        m, _, _ = B.read_signed_manifest(bundle_dir, trusted)
        state = read_state(home)
        _check_scope_and_seq(m, state, scope)
        listed = B.check_layout(m, present)
        total = sum(f["size"] for f in listed.values())

        mdir = mirror_dir(home)
        created = [d for d in (mdir, mdir / "staging", mdir / "versions") if not d.exists()]
        for d in created:
            d.mkdir()
        stage = mdir / "staging" / f"import-{os.getpid()}-{m['seq']}"
        shutil.rmtree(stage, ignore_errors=True)
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
            _check_scope_and_seq(vb.manifest, state, scope)  # the staged copy is what counts
            step("check_db")
            check_database(stage / B.DB_PATH, vb.manifest)
            step("publish")
            name = version_name(vb.manifest["seq"], vb.fingerprint)
            target = mdir / "versions" / name
            shutil.rmtree(target, ignore_errors=True)  # a leftover from an interrupted earlier try
            os.replace(stage, target)
            fsync_dir(mdir / "versions")
        except BaseException:
            shutil.rmtree(stage, ignore_errors=True)
            for d in reversed(created):
                shutil.rmtree(d, ignore_errors=True)
            raise
        step("switch")
        newest = max(filter(None, [state.get("newest_issued_at"), vb.manifest["issued_at"]]))
        new_state = {
            "current": name,
            "last_known_good": state.get("current"),
            "highest_seq": vb.manifest["seq"],
            "scope": vb.manifest["scope"],
            "newest_issued_at": newest,
            "installed_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        }
        atomic_write_json(mdir / "state.json", new_state)
        step("gc")
        keep = {new_state["current"], new_state["last_known_good"]}
        for d in (mdir / "versions").iterdir():
            if d.name not in keep:
                shutil.rmtree(d, ignore_errors=True)
        for d in (mdir / "staging").iterdir():
            shutil.rmtree(d, ignore_errors=True)
        old = state.get("highest_seq")
        return InstallResult(old, vb.manifest["seq"], vb.fingerprint, vb.manifest["data_as_of"],
                             vb.manifest["counts"], name)
