"""Import from a mounted stick (or any folder of bundles): plan (find, choose, check space; nothing written), then
install through :func:`kiosk.cache.install.install`, then report old → new.

The technician's PIN is asked between :func:`plan` and :func:`run` (by the screen).
"""
from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.cache import bundle as B
from kiosk.cache import install as I
from kiosk.cache.discovery import Candidate, choose, find_bundles
from kiosk.cache.keys import TrustStore
from kiosk.cache.sync import DiskFull, check_free_space
from kiosk.errors import KioskError, StickError


class StickRemoved(StickError):
    """The stick went away (or stopped answering) while it was being read."""

    default_zh = "U盘在复制过程中被拔出或无法读取，未导入，原数据不变。请重新插入U盘再试"


#: errno values that mean "the stick went away or stopped answering"
GONE = {errno.EIO, errno.ENODEV, errno.ENXIO, errno.ENOTCONN, errno.ENOENT, errno.ESTALE, errno.ENOMEDIUM}
FULL = {errno.ENOSPC, errno.EDQUOT}


@dataclass(frozen=True)
class Version:
    """An installed or offered version: sequence number, data-as-of date, counts per kind."""

    seq: int
    data_as_of: str
    counts: dict
    fingerprint: str = ""


@dataclass
class Plan:
    root: Path
    candidate: Candidate
    old: Version | None
    new: Version
    skipped: list = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    old: Version | None
    new: Version


def current_version(home: Path) -> Version | None:
    """The installed version (from the installed, verified manifest), or None."""
    st = I.read_state(home)
    if not st.get("current"):
        return None
    try:
        m = B.Manifest.parse((I.mirror_dir(home) / "versions" / st["current"] / B.MANIFEST).read_bytes())
    except (OSError, B.BundleError):
        return None
    return Version(m.seq, m.data_as_of, dict(m.counts), m.fingerprint)


def translate(exc: BaseException) -> BaseException:
    """Map an OSError behind an install refusal to what it means on a kiosk: the stick was
    pulled (``StickRemoved``) or the internal disk is full (``DiskFull``)."""
    os_err = exc if isinstance(exc, OSError) else exc.__context__ if isinstance(exc.__context__, OSError) else None
    if os_err is None or isinstance(exc, KioskError) and not isinstance(exc, B.BundleError):
        return exc
    if os_err.errno in FULL:
        return DiskFull(f"internal disk full: {os_err}", "终端存储空间已满，未导入，原数据不变")
    if os_err.errno in GONE:
        return StickRemoved(f"stick removed or unreadable during the import: {os_err}")
    return exc


def plan(root: Path, home: Path, scope: str | None = None) -> Plan:
    """Find and choose the bundle under ``root`` and check free space. Writes nothing.

    Raises:
        BundleError (nothing suitable), DiskFull, StickRemoved.
    """
    home = Path(home)
    state = I.read_state(home)
    trusted = TrustStore(home).keys()
    try:
        found = find_bundles(root, trusted)
    except OSError as exc:
        raise translate(exc) from None
    cand = choose(found, scope or state.get("scope"), int(state.get("highest_seq", 0)))
    check_free_space(I.mirror_dir(home) if I.mirror_dir(home).exists() else home, cand.size)
    m = cand.manifest
    return Plan(Path(root), cand, current_version(home), Version(m.seq, m.data_as_of, dict(m.counts), m.fingerprint),
                found.skipped)


def run(p: Plan, home: Path, scope: str | None = None, progress: I.Progress | None = None) -> Report:
    """Install the planned bundle (copy to internal disk, verify, switch).

    Raises:
        BundleError (refused), StickRemoved (pulled mid-copy), DiskFull, ImportBusy.
        In every case the installed data is unchanged.
    """
    try:
        res = I.install(p.candidate.path, home, scope=scope, progress=progress)
    except (B.BundleError, OSError) as exc:
        raise translate(exc) from None
    return Report(p.old, Version(res.new_seq, res.data_as_of, dict(res.counts), res.fingerprint))


def free_bytes(home: Path) -> int:
    return shutil.disk_usage(home).free
