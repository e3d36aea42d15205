"""Find the bundles on a stick (or in any folder) and pick the ones for this kiosk.

A stick may carry bundles for many villages and versions, in the published layout of
docs/updates.md (``<scope>/v000007/…``, ``<scope>/latest/`` holding only the signed
manifest) or as loose bundle folders anywhere in the first few levels. Each folder with a
``manifest.json`` is checked for its signature against the trusted keys, for a complete
file list and for every file's size (cheap: no hashing); the install then verifies the
hashes. A truncated or damaged newer bundle never blocks an intact older one beside it
(still newer than what is installed): :func:`choices` lists every usable bundle, newest
first, and :func:`kiosk.cache.stickimport.install_newest` installs the first that verifies.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from kiosk.cache import bundle as B
from kiosk.cache import verify as V
from kiosk.cache.keys import TrustedKey

MAX_DEPTH = 4
#: folders never worth walking on a stick (OS droppings)
SKIP_DIRS = {"System Volume Information", "$RECYCLE.BIN", ".Trashes", ".Spotlight-V100", ".fseventsd", "lost+found"}


@dataclass(frozen=True)
class Candidate:
    """A signed, complete bundle folder found on the stick."""

    path: Path
    manifest: B.Manifest

    @property
    def seq(self) -> int:
        return self.manifest.seq

    @property
    def scope(self) -> str:
        return self.manifest.scope

    @property
    def fingerprint(self) -> str:
        return self.manifest.fingerprint

    @property
    def size(self) -> int:
        """Bytes of the listed files plus manifest and signature (what an install copies)."""
        return self.manifest.data_size + len(self.manifest.raw) + B.SIGNATURE_BYTES


class NoBundle(B.BundleError):
    """No bundle folder at all under the root (a stick carrying only app packages, or
    nothing): refused like any other, but the stick screen need not speak of data."""


@dataclass
class Found:
    """What :func:`find_bundles` saw. ``candidates``: signed bundles whose files are all
    there at their listed sizes, newest first. ``damaged``: signed by a trusted key, but a
    file is missing, extra or of another size (with the refusal). ``skipped``: every folder
    not taken, with the Chinese reason (the damaged ones included)."""

    candidates: list[Candidate] = field(default_factory=list)
    damaged: list[tuple[Candidate, B.BundleError]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)  # (folder, Chinese reason)


def find_bundles(root: Path, trusted: list[TrustedKey], max_depth: int = MAX_DEPTH) -> Found:
    """Bundle folders under ``root`` (``root`` itself included), newest first.

    Raises:
        OSError: the stick cannot be read at all (callers map it to StickRemoved).
    """
    root = Path(root)
    out = Found()
    base_depth = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        d = Path(dirpath)
        dirnames[:] = sorted(n for n in dirnames if n not in SKIP_DIRS and not n.startswith("."))
        if len(d.parts) - base_depth >= max_depth:
            dirnames[:] = []
        if B.MANIFEST not in filenames:
            continue
        dirnames[:] = []  # never look inside a bundle
        if d.name == "latest" and not (d / "data").exists():
            continue  # a pointer copy of the newest manifest (published layout)
        try:
            cand = Candidate(d, V.verify_manifest(*V.read_manifest(d), trusted))
        except B.BundleError as exc:
            out.skipped.append((d, exc.message_zh))
            continue
        try:
            V.check_files(d, cand.manifest, hashes=False)  # a short copy is seen here, before any copy
        except B.BundleError as exc:
            out.skipped.append((d, exc.message_zh))
            out.damaged.append((cand, exc))
            continue
        out.candidates.append(cand)  # the same bundle twice (two copies) is tried twice
    order = lambda c: (-c.seq, c.scope, str(c.path))  # noqa: E731
    out.candidates.sort(key=order)
    out.damaged.sort(key=lambda ce: order(ce[0]))
    return out


def choose(found: Found, scope: str | None, highest_seq: int = 0) -> Candidate:
    """The newest usable bundle for ``scope`` above ``highest_seq`` (:func:`choices`)."""
    return choices(found, scope, highest_seq)[0]


def choices(found: Found, scope: str | None, highest_seq: int = 0) -> list[Candidate]:
    """The bundles for ``scope`` (this kiosk's village) above ``highest_seq`` whose files are
    complete, newest first: what an import tries, in this order, until one verifies.

    With no scope set yet, the stick must hold bundles of exactly one scope.

    Raises:
        BundleError: nothing for this kiosk, several villages and no scope, nothing newer,
            or only damaged newer bundles (then the newest one's defect, as the install
            would have named it).
    """
    cands = found.candidates + [c for c, _ in found.damaged]  # every bundle a trusted key signed
    if not cands:
        why = f"（{found.skipped[0][1]}）" if found.skipped else ""
        kind = B.BundleError if found.skipped else NoBundle
        raise kind("no valid signed bundle on the stick" + (f": {found.skipped[0][1]}" if found.skipped else ""),
                   f"U盘上没有找到有效的数据包{why}，未导入")
    if scope is None:
        scopes = sorted({c.scope for c in cands})
        if len(scopes) > 1:
            raise B.BundleError(f"bundles for {len(scopes)} villages on the stick and this kiosk has no scope set",
                                "U盘上有多个村的数据包，本终端尚未设定所属村，请联系县平台技术人员")
        scope = scopes[0]
    mine = [c for c in cands if c.scope == scope]
    if not mine:
        raise B.BundleError(f"no bundle for {scope} on the stick", f"U盘上没有本村（{scope}）的数据包，未导入")
    if newer := [c for c in found.candidates if c.scope == scope and c.seq > highest_seq]:
        return newer
    for c, exc in found.damaged:  # newest first
        if c.scope == scope and c.seq > highest_seq:
            raise exc
    best = max(mine, key=lambda c: c.seq)
    raise B.BundleError(f"newest bundle on the stick is seq {best.seq}, installed is {highest_seq}",
                        f"U盘上本村的数据包（第{best.seq}版）不比本机已有的（第{highest_seq}版）新，无需导入")


def resolve(path: Path, trusted: list[TrustedKey], scope: str | None,
            highest_seq: int = 0) -> tuple[list[Path], list[tuple[Path, B.BundleError]]]:
    """What ``kiosk import PATH`` tries: ``([path], [])`` if it is a bundle folder, else the
    bundles below it in the order to try (a stick's mount point or a folder holding several
    bundles: :func:`choices`) and the damaged newer ones passed over, with their refusal."""
    path = Path(path)
    if (path / B.MANIFEST).exists():
        return [path], []
    if not path.is_dir():
        raise B.BundleError(f"{path}: not a folder", f"找不到数据包文件夹 {path}")
    found = find_bundles(path, trusted)
    cands = choices(found, scope, highest_seq)
    passed = [(c.path, exc) for c, exc in found.damaged if c.scope == cands[0].scope and c.seq > cands[0].seq]
    return [c.path for c in cands], passed
