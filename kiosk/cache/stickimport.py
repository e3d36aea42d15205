"""Import from a mounted stick (or any folder of bundles): plan (find, choose, check space;
nothing written), then install through :func:`kiosk.cache.install.install`, then report
old → new.

A newer bundle that turns out damaged (truncated: seen while planning; a changed byte:
seen when the install verifies its internal copy) does not block an intact older one
beside it that is still newer than the installed data: :func:`install_newest` tries the
usable bundles newest first and installs the first that verifies. If none does, the
newest one's refusal is raised and the kiosk's data is unchanged.

The technician's PIN is asked between :func:`plan` and :func:`run` (by the screen).
"""
from __future__ import annotations

import errno
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from kiosk.cache import bundle as B
from kiosk.cache import install as I
from kiosk.cache.discovery import Candidate, choices, find_bundles
from kiosk.cache.keys import TrustStore
from kiosk.cache.fsutil import DiskFull, check_free_space
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


def version_of(m: B.Manifest) -> Version:
    return Version(m.seq, m.data_as_of, dict(m.counts), m.fingerprint)


@dataclass
class Plan:
    """What an import would do. ``candidate``/``new``: the newest usable bundle for this
    kiosk; ``candidates``: it and the older ones to fall back to, newest first;
    ``skipped``: folders not taken, with the Chinese reason."""

    root: Path
    candidate: Candidate
    old: Version | None
    new: Version
    skipped: list = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """What an import did: ``old`` → ``new``, and the newer bundles that were ``refused``
    on the way (folder, Chinese reason), newest first."""

    old: Version | None
    new: Version
    refused: tuple[tuple[Path, str], ...] = ()


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
    cands = choices(found, scope or state.get("scope"), int(state.get("highest_seq", 0)))
    _check_space(home, cands[0])
    return Plan(Path(root), cands[0], current_version(home), version_of(cands[0].manifest), found.skipped, cands)


def _check_space(home: Path, cand: Candidate) -> None:
    check_free_space(I.mirror_dir(home) if I.mirror_dir(home).exists() else home, cand.size)


def install_newest(paths: Sequence[Path], home: Path, scope: str | None = None, progress: I.Progress | None = None,
                   before: Callable[[Path], None] | None = None,
                   on_refused: Callable[[Path, B.BundleError], None] | None = None) -> I.InstallResult:
    """Install the first bundle folder of ``paths`` (newest first) that the install accepts.

    A bundle refused for what it holds (a hash mismatch on the internal copy, a damaged
    database, a rule such as the issue time) is reported to ``on_refused(path, error)``
    and the next one is tried; ``before(path)`` runs before each try (the free-space check).
    A stick that went away or a full disk ends the import at once: no other bundle would
    fare better.

    Raises:
        BundleError: every bundle was refused (the first, newest one's refusal).
        OSError (stick gone, disk full: see :func:`translate`), DiskFull, ImportBusy, and
        whatever ``before`` raises. In every case the installed data is unchanged.
    """
    first: B.BundleError | None = None
    for path in paths:
        if before:
            before(path)
        try:
            return I.install(path, home, scope=scope, progress=progress)
        except B.BundleError as exc:
            if translate(exc) is not exc:  # an OSError behind it: the stick or the disk
                raise
            first = first or exc
            if on_refused:
                on_refused(path, exc)
    if first is None:
        raise B.BundleError("no bundle to install", "没有可导入的数据包")
    raise first


def run(p: Plan, home: Path, scope: str | None = None, progress: I.Progress | None = None,
        on_refused: Callable[[Path, B.BundleError], None] | None = None) -> Report:
    """Install the planned bundle (copy to internal disk, verify, switch), or, when it is
    refused, the next older candidate of the plan (each newer than the installed data).
    ``progress`` starts again from 0 for each bundle tried; ``on_refused(folder, error)``
    reports each refusal on the way (e.g. to say 第3版数据有误，改为导入第2版).

    Raises:
        BundleError (every candidate refused: the newest one's refusal), StickRemoved
        (pulled mid-copy), DiskFull, ImportBusy. In every case the installed data is unchanged.
    """
    cands = {c.path: c for c in (p.candidates or [p.candidate])}
    refused: list[tuple[Path, str]] = []

    def note(path: Path, exc: B.BundleError) -> None:
        refused.append((path, exc.message_zh))
        if on_refused:
            on_refused(path, exc)

    def space(path: Path) -> None:
        if path != p.candidate.path:  # the plan checked the first
            _check_space(home, cands[path])

    try:
        res = install_newest(list(cands), home, scope, progress, space, note)
    except (B.BundleError, OSError) as exc:
        raise translate(exc) from None
    return Report(p.old, Version(res.new_seq, res.data_as_of, dict(res.counts), res.fingerprint), tuple(refused))


def free_bytes(home: Path) -> int:
    return shutil.disk_usage(home).free
