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
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, Callable, Mapping

from kiosk.cache.clock import parse_utc
from kiosk.errors import Exit, KioskError

FORMAT_VERSION = 1
#: the largest integer a manifest may hold (seq, sizes, counts): 2⁵³ − 1, exact in every JSON
#: reader (RFC 7493, I-JSON); a seq up to it names its version folder (``v`` + its digits)
MAX_INT = 2 ** 53 - 1
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

    @classmethod
    def parse(cls, raw: bytes) -> "Manifest":
        """Parse and check the manifest's bytes (docs/bundle-format.md, section 2).

        Strict on what v1 defines, so that a signed manifest means one thing only: at most
        ``MAX_MANIFEST_BYTES``, nesting at most ``MAX_DEPTH`` deep, no key twice in an object,
        no NaN/Infinity; ``format_version`` exactly the integer 1; integers that are not
        booleans or floats; hex digests of exactly their length in lowercase; dates and
        times in their ISO 8601 form; no control, bidirectional or other invisible format
        character (Unicode Cc, Cf, Cs, Zl, Zp) in any string it reads. Unknown top-level
        fields are kept in ``extra`` and otherwise ignored (forward compatibility).

        Raises:
            BundleError: one line naming the first defect.
        """
        m = _load(raw)
        fv = m.get("format_version")
        if type(fv) is int and fv != FORMAT_VERSION:
            raise BundleError(f"unknown format_version {fv}; this kiosk reads version {FORMAT_VERSION} — "
                              "update the kiosk software", "数据包格式版本未知，请升级终端软件")
        if type(fv) is not int:
            raise _field("format_version", f"must be the integer {FORMAT_VERSION}, got {_show(fv)}")
        scope = _match(m, "scope", _SCOPE, "a 6-, 9- or 12-digit division code")
        seq = _int(m, "seq", 1)
        issued_at = _match(m, "issued_at", _TIME, "an ISO 8601 UTC time (2026-11-30T08:00:00Z)")
        data_as_of = _match(m, "data_as_of", _DATE, "an ISO 8601 date (2026-11-28)")
        try:
            parse_utc(issued_at)
        except ValueError:
            raise _field("issued_at", f"is not a valid time: {issued_at}") from None
        try:
            dt.date.fromisoformat(data_as_of)
        except ValueError:
            raise _field("data_as_of", f"is not a valid date: {data_as_of}") from None
        previous = _match(m, "previous", _SHA256, "null or 64 lowercase hex digits", optional=True)
        key_id = _match(m, "key_id", _KEY_ID, "16 lowercase hex digits", optional=True)
        village_name = None
        if (village := m.get("village")) is not None:
            if not isinstance(village, dict):
                raise _field("village", "must be an object")
            if _match(village, "code", _SCOPE, "a division code", where="village.code") != scope:
                raise _field("village.code", f"differs from scope {scope}")
            village_name = _match(village, "name", _NAME, "a name of 1 to 64 characters", where="village.name")
        villages: tuple[str, ...] = ()
        if (vs := m.get("villages")) is not None:
            if not isinstance(vs, list) or not vs:
                raise _field("villages", "must be a non-empty list of village codes")
            villages = tuple(_match({"": v}, "", _VILLAGE, "a 12-digit village code", where=f"villages[{i}]")
                             for i, v in enumerate(vs))
            if len(set(villages)) != len(villages) or any(not v.startswith(scope) for v in villages):
                raise _field("villages", f"must list each village of scope {scope} once")
        counts = m.get("counts")
        if not isinstance(counts, dict):
            raise _field("counts", "missing or not an object")
        for kind in counts:
            _text(kind, "counts")
            _int(counts, kind, 0, where=f"counts.{kind}")
        if missing := [k for k in COUNTED if k not in counts]:
            raise _field("counts", f"lacks {missing[0]}")
        return cls(raw=bytes(raw), format_version=fv, scope=scope, seq=seq, issued_at=issued_at,
                   data_as_of=data_as_of, previous=previous, key_id=key_id, village_name=village_name,
                   villages=villages, counts=MappingProxyType(dict(counts)), files=_files(m.get("files")),
                   extra=MappingProxyType({k: v for k, v in m.items() if k not in KNOWN_FIELDS}),
                   _doc=MappingProxyType(m))


# ---------------------------------------------------------------- strict JSON for manifests

#: deepest nesting of arrays and objects accepted (v1 needs 3; the margin is for new fields)
MAX_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = re.compile(rb"[^\[\]{}]+")
_SCOPE = re.compile(r"[0-9]{6}(?:[0-9]{3}){0,2}")
_VILLAGE = re.compile(r"[0-9]{12}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{16}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?(?:Z|[+-][0-9]{2}:[0-9]{2})")
_NAME = re.compile(r".{1,64}", re.S)
#: Unicode categories never allowed in a string: controls (NUL, ESC, …), format characters
#: (bidi overrides such as U+202E, zero-width spaces), lone surrogates, line/paragraph separators
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _load(raw: bytes) -> dict[str, Any]:
    """The manifest's JSON object, parsed strictly (see :meth:`Manifest.parse`)."""
    if len(raw) > MAX_MANIFEST_BYTES:
        raise BundleError(f"manifest.json is too large ({len(raw)} bytes, at most {MAX_MANIFEST_BYTES})",
                          "数据包清单过大")
    # Count the nesting before parsing: Python's json recurses once per level and a deep
    # document would end in RecursionError. Strings are blanked first (brackets in them
    # are text); what is left of malformed JSON is refused by the parser below.
    depth = deepest = 0
    for b in _BRACKETS.sub(b"", _JSON_STRING.sub(b'""', raw)):
        depth += 1 if b in b"[{" else -1
        deepest = max(deepest, depth)
    if deepest > MAX_DEPTH:
        raise BundleError(f"manifest.json nests deeper than {MAX_DEPTH} levels", "数据包清单嵌套过深，拒绝")
    try:
        m = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except BundleError:
        raise
    except (UnicodeDecodeError, ValueError, RecursionError):  # ValueError: also ints over 4300 digits
        raise BundleError("manifest.json is not valid UTF-8 JSON", "数据包清单格式错误") from None
    if not isinstance(m, dict):
        raise BundleError("manifest.json must be a JSON object", "数据包清单格式错误")
    return m


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # json keeps the last of two equal keys: "seq": 3, "seq": 7 would install as 第7版
    # while a reader that keeps the first sees 第3版. Refuse instead.
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise BundleError(f"manifest.json has the key {_show(k)} twice in one object",
                              "数据包清单中有重复字段，拒绝")
        out[k] = v
    return out


def _no_constant(name: str) -> Any:
    raise BundleError(f"manifest.json holds {name}, which JSON does not allow", "数据包清单格式错误")


def _show(v: Any) -> str:
    """A value for an error line: JSON spelling, invisible characters escaped, cut short."""
    text = json.dumps(v, ensure_ascii=True)
    return text if len(text) <= 40 else text[:37] + "..."


def _field(name: str, what: str) -> BundleError:
    return BundleError(f"manifest field {name} {what}", f"数据包清单字段 {name} 格式错误")


def _text(v: Any, where: str) -> str:
    if not isinstance(v, str):
        raise _field(where, f"must be a string, got {_show(v)}")
    for c in v:
        if unicodedata.category(c) in _INVISIBLE:
            raise BundleError(f"manifest field {where} holds the control or bidi character U+{ord(c):04X}",
                              f"数据包清单字段 {where} 含有控制字符或双向文字控制符，拒绝")
    return v


def _match(m: dict, key: str, pattern: re.Pattern, what: str, optional: bool = False,
           where: str | None = None) -> Any:
    where = where or key
    v = m.get(key)
    if v is None:
        if optional:
            return None
        raise _field(where, "is missing")
    if not pattern.fullmatch(_text(v, where)):
        raise _field(where, f"must be {what}, got {_show(v)}")
    return v


def _int(m: dict, key: str, minimum: int, where: str | None = None, maximum: int = MAX_INT) -> int:
    v = m.get(key)
    if type(v) is not int or v < minimum:  # type(), not isinstance: true and 1.0 are not integers here
        raise _field(where or key, f"must be an integer ≥ {minimum}, got {_show(v)}")
    if v > maximum:
        raise _field(where or key, f"must be an integer ≤ {maximum} (2^53 - 1), got {v}")
    return v


def _files(entries: Any) -> tuple[FileEntry, ...]:
    if not isinstance(entries, list):
        raise _field("files", "missing or not a list")
    out: dict[str, FileEntry] = {}
    for i, f in enumerate(entries):
        if not isinstance(f, dict):
            raise BundleError("manifest files entry is not an object", "数据包清单格式错误")
        if isinstance(f.get("path"), str):
            _text(f["path"], f"files[{i}].path")
        rel = safe_relpath(f.get("path"))
        if rel in out:
            raise BundleError(f"file listed twice: {rel}", "数据包清单重复列出文件")
        if "size" not in f or "sha256" not in f:
            raise BundleError(f"file entry for {rel} lacks size or sha256", "数据包清单缺少文件大小或校验值")
        size = _int(f, "size", 0, where=f"files[{i}].size")
        out[rel] = FileEntry(rel, size, _match(f, "sha256", _SHA256, "64 lowercase hex digits",
                                               where=f"files[{i}].sha256"))
    if DB_PATH not in out:
        raise BundleError(f"manifest does not list {DB_PATH}", "数据包缺少数据库")
    return tuple(out.values())
