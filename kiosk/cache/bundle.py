"""Bundle format v1: names, limits, the manifest and the per-file hash (docs/bundle-format.md).

The one module both sides share. The county side (:mod:`kiosk.county`: build, sign,
publish) and the kiosk side (:mod:`kiosk.cache.verify`, install, sync, discovery) import
this and never each other.

A bundle is a folder::

    manifest.json        # UTF-8 JSON; the signature covers its exact bytes
    manifest.sig         # 64-byte raw Ed25519 signature of manifest.json
    data/village.sqlite  # the ready-to-query database (kiosk/cache/schema.sql)

The fingerprint is the first 8 lowercase hex digits of SHA-256(manifest.json bytes).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Callable, Mapping

from kiosk.cache.clock import parse_utc
from kiosk.errors import Exit, KioskError

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
SIGNATURE_BYTES = 64
DB_PATH = "data/village.sqlite"
MAX_MANIFEST_BYTES = 1 << 20
HASH_CHUNK = 1 << 20
#: record counts every manifest carries (the database's tables of the same names)
COUNTED = ("finance", "projects", "assets", "services", "powers", "payments")

# The published layout (docs/updates.md): a web root or a stick holds
# ``<scope>/v000007/`` (the bundle as built), ``<scope>/latest/`` (a copy of the newest
# signed manifest and its signature) and an unsigned ``index.json``.
LATEST = "latest"
INDEX = "index.json"


def version_dir(seq: int) -> str:
    """Name of a version folder in the published layout: ``v000007``."""
    return f"v{seq:06d}"


class BundleError(KioskError):
    """A bundle is refused or cannot be built. One line in English and Chinese."""

    exit_code = Exit.BUNDLE
    default_zh = "数据包无效，未导入"


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    """Lowercase hex SHA-256 of a file's bytes (section 4 of the format).

    The one place a bundle file is hashed: the build, the install's verify of its internal
    copy and the integrity re-check all call this. ``progress(n)`` is called with the byte
    count of each chunk read (``HASH_CHUNK`` bytes, the last one shorter).

    Raises:
        OSError: the file cannot be read.
    """
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def fingerprint(manifest_bytes: bytes) -> str:
    """First 8 lowercase hex digits of SHA-256 over the exact manifest bytes."""
    return hashlib.sha256(manifest_bytes).hexdigest()[:8]


def scope_level(code: str) -> str:
    """``village`` (12 digits), ``township`` (9) or ``county`` (6)."""
    return {12: "village", 9: "township", 6: "county"}.get(len(code), "unknown")


def safe_relpath(name: Any) -> str:
    """A file name from a manifest, checked not to escape the bundle folder.

    Raises:
        BundleError: not a relative POSIX path of non-empty, non-dot components, or a
            reserved name (``manifest.json``, ``manifest.sig``).
    """
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise BundleError(f"bad file name in manifest: {name!r}", "数据包文件名非法")
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("..", ".", "") for part in name.split("/")):
        raise BundleError(f"file name escapes the bundle folder: {name!r}", "数据包文件名越出数据包目录")
    if name in (MANIFEST, SIGNATURE):
        raise BundleError(f"manifest lists a reserved name: {name!r}", "数据包清单列出了保留文件名")
    return str(p)


# ---------------------------------------------------------------- the manifest

@dataclass(frozen=True)
class FileEntry:
    """One data file a manifest lists: relative POSIX ``path``, ``size`` in bytes and the
    ``sha256`` of its bytes (64 lowercase hex digits)."""

    path: str
    size: int
    sha256: str


#: top-level fields this version reads; any other field is kept in ``extra`` and ignored
KNOWN_FIELDS = frozenset({"format_version", "scope", "seq", "issued_at", "data_as_of", "previous", "key_id",
                          "village", "villages", "counts", "files"})


@dataclass(frozen=True)
class Manifest:
    """A parsed ``manifest.json`` (docs/bundle-format.md, section 2). Parse with
    :meth:`parse`; check its signature first (:func:`kiosk.cache.verify.verify_manifest`).

    Attributes:
        raw: the exact bytes (what the signature covers; never re-serialised).
        scope: 12-, 9- or 6-digit statistical code (village, township, county).
        seq: sequence number (第N版), ≥ 1.
        issued_at: UTC time of signing, ISO 8601 (``2026-11-30T08:00:00Z``).
        data_as_of: ISO date the records are complete up to.
        previous: SHA-256 hex of the previous manifest's bytes, or None.
        key_id: the signer's key id as the producer wrote it (informative only), or None.
        village_name: display name of a one-village bundle (informative), or None.
        villages: village codes of a township or county bundle (empty for one village).
        counts: records per table (``COUNTED``), read-only.
        files: the data files, in manifest order.
        extra: unknown top-level fields, kept and ignored (forward compatibility).
    """

    raw: bytes = field(repr=False)
    format_version: int
    scope: str
    seq: int
    issued_at: str
    data_as_of: str
    previous: str | None
    key_id: str | None
    village_name: str | None
    villages: tuple[str, ...]
    counts: Mapping[str, int]
    files: tuple[FileEntry, ...]
    extra: Mapping[str, Any] = field(repr=False)
    _doc: Mapping[str, Any] = field(repr=False, compare=False)

    @property
    def fingerprint(self) -> str:
        """First 8 hex digits of SHA-256(raw): the 指纹 on every screen."""
        return fingerprint(self.raw)

    @property
    def sha256(self) -> str:
        """Full SHA-256 hex of the manifest bytes (the chain's ``previous``, state.json)."""
        return hashlib.sha256(self.raw).hexdigest()

    @property
    def data_size(self) -> int:
        """Bytes of the listed files together."""
        return sum(f.size for f in self.files)

    @property
    def display_name(self) -> str:
        """The village name to show (``village.name``), else the scope code."""
        return self.village_name or self.scope

    def get(self, name: str, default: Any = None) -> Any:
        """A top-level JSON value as signed, ``default`` when absent: for fields this class
        does not model. Read modelled fields as attributes."""
        return self._doc.get(name, default)

    @classmethod
    def parse(cls, raw: bytes) -> "Manifest":
        """Parse and check the manifest's JSON (section 2 of the format).

        Raises:
            BundleError: one line naming the first defect.
        """
        try:
            m = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BundleError("manifest.json is not valid UTF-8 JSON", "数据包清单格式错误") from None
        if not isinstance(m, dict):
            raise BundleError("manifest.json must be a JSON object", "数据包清单格式错误")
        if m.get("format_version") != FORMAT_VERSION:
            raise BundleError(f"unknown format_version {m.get('format_version')!r}; this kiosk reads version "
                              f"{FORMAT_VERSION} — update the kiosk software", "数据包格式版本未知，请升级终端软件")
        for fld, typ in (("scope", str), ("seq", int), ("issued_at", str), ("data_as_of", str), ("files", list),
                         ("counts", dict)):
            if not isinstance(m.get(fld), typ) or isinstance(m.get(fld), bool):
                raise BundleError(f"manifest field {fld} missing or mistyped", "数据包清单字段缺失")
        try:
            parse_utc(m["issued_at"])
            dt.date.fromisoformat(m["data_as_of"])
        except ValueError:
            raise BundleError("manifest issued_at/data_as_of is not an ISO 8601 time/date",
                              "数据包清单时间格式错误") from None
        prev = m.get("previous")
        if prev is not None and not (isinstance(prev, str) and len(prev) == 64
                                     and all(c in "0123456789abcdef" for c in prev)):
            raise BundleError("manifest field previous must be null or 64 lowercase hex digits",
                              "数据包清单字段 previous 格式错误")
        if m["seq"] < 1:
            raise BundleError("manifest seq must be ≥ 1", "数据包版本号无效")
        files = _files(m["files"])
        village = m.get("village")
        villages = m.get("villages")
        return cls(raw=bytes(raw), format_version=FORMAT_VERSION, scope=m["scope"], seq=m["seq"],
                   issued_at=m["issued_at"], data_as_of=m["data_as_of"], previous=prev,
                   key_id=m.get("key_id") if isinstance(m.get("key_id"), str) else None,
                   village_name=village.get("name") if isinstance(village, dict) and isinstance(village.get("name"), str) else None,
                   villages=tuple(villages) if isinstance(villages, list) else (),
                   counts=MappingProxyType(dict(m["counts"])), files=files,
                   extra=MappingProxyType({k: v for k, v in m.items() if k not in KNOWN_FIELDS}),
                   _doc=MappingProxyType(m))


def _files(entries: list) -> tuple[FileEntry, ...]:
    out: dict[str, FileEntry] = {}
    for f in entries:
        if not isinstance(f, dict):
            raise BundleError("manifest files entry is not an object", "数据包清单格式错误")
        rel = safe_relpath(f.get("path"))
        if rel in out:
            raise BundleError(f"file listed twice: {rel}", "数据包清单重复列出文件")
        if not isinstance(f.get("size"), int) or not isinstance(f.get("sha256"), str):
            raise BundleError(f"file entry for {rel} lacks size or sha256", "数据包清单缺少文件大小或校验值")
        out[rel] = FileEntry(rel, f["size"], f["sha256"].lower())
    if DB_PATH not in out:
        raise BundleError(f"manifest does not list {DB_PATH}", "数据包缺少数据库")
    return tuple(out.values())
