"""The kiosk-side verifier on bytes alone (``verify_manifest``), the strict ``Manifest`` parser
field by field, and the one file-hash loop (``sha256_file``) with its progress."""
from __future__ import annotations

import builtins
import hashlib
import json
import os
from pathlib import Path

import pytest

from kiosk.cache import bundle as B
from kiosk.cache import keys
from kiosk.cache import verify as V
from kiosk.cache.bundle import BundleError, Manifest

SCOPE = "431382111249"
GOOD = {
    "format_version": 1, "scope": SCOPE, "seq": 7, "issued_at": "2026-11-30T08:00:00Z",
    "data_as_of": "2026-11-28", "previous": "9f" * 32, "key_id": "1a2b3c4d5e6f7081",
    "village": {"code": SCOPE, "name": "洪泉村"},
    "counts": {"finance": 812, "projects": 9, "assets": 41, "services": 130, "powers": 36, "payments": 2210},
    "files": [{"path": "data/village.sqlite", "size": 4915200, "sha256": "ab" * 32}],
}


@pytest.fixture(scope="module")
def signer(test_key):
    priv = keys.load_private(test_key / "signing.key")
    pub = priv.public_key()
    return priv, [keys.TrustedKey(keys.key_id(pub), pub)]


def _raw(m: dict) -> bytes:
    return (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")


def _edited(**changes) -> dict:
    m = json.loads(json.dumps(GOOD))
    for k, v in changes.items():
        if v is _DROP:
            del m[k]
        else:
            m[k] = v
    return m


_DROP = object()


def test_good_manifest_parsed_without_touching_the_file_system(signer, monkeypatch):
    priv, trusted = signer
    raw = _raw(GOOD)
    sig = priv.sign(raw)

    def no_io(*a, **kw):
        raise AssertionError("verify_manifest touched the file system")

    for mod, name in ((builtins, "open"), (os, "open"), (os, "stat"), (os, "lstat"), (os, "listdir")):
        monkeypatch.setattr(mod, name, no_io)
    m = V.verify_manifest(raw, sig, trusted)
    monkeypatch.undo()
    assert (m.format_version, m.scope, m.seq, m.issued_at, m.data_as_of) == (1, SCOPE, 7, "2026-11-30T08:00:00Z", "2026-11-28")
    assert (m.previous, m.key_id, m.village_name, m.villages) == ("9f" * 32, "1a2b3c4d5e6f7081", "洪泉村", ())
    assert dict(m.counts) == GOOD["counts"] and m.data_size == 4915200
    assert m.files == (B.FileEntry("data/village.sqlite", 4915200, "ab" * 32),)
    assert m.raw == raw and m.sha256 == hashlib.sha256(raw).hexdigest() and m.fingerprint == m.sha256[:8]
    assert m.display_name == "洪泉村" and dict(m.extra) == {}
    with pytest.raises(AttributeError):
        m.seq = 8  # frozen
    with pytest.raises(TypeError):
        m.counts["finance"] = 0  # read-only


def test_changed_byte_or_untrusted_key_refused(signer, other_test_key):
    priv, trusted = signer
    raw = _raw(GOOD)
    sig = priv.sign(raw)
    with pytest.raises(BundleError, match="signature does not verify with any trusted key"):
        V.verify_manifest(raw.replace(b'"seq": 7', b'"seq": 8'), sig, trusted)
    with pytest.raises(BundleError, match="signature does not verify with any trusted key"):
        V.verify_manifest(raw, bytes([sig[0] ^ 1]) + sig[1:], trusted)
    other = keys.load_private(other_test_key / "signing.key")
    with pytest.raises(BundleError, match="signature does not verify with any trusted key") as ei:
        V.verify_manifest(raw, other.sign(raw), trusted)  # a key this kiosk does not trust
    assert ei.value.message_zh == "签名验证失败：清单被改动或签名密钥不受信任"
    with pytest.raises(BundleError, match="64 bytes"):
        V.verify_manifest(raw, sig + b"\0", trusted)
    with pytest.raises(BundleError, match="no trusted key"):
        V.verify_manifest(raw, sig, [])
    # any one of several trusted keys will do
    opub = other.public_key()
    assert V.verify_manifest(raw, sig, [keys.TrustedKey(keys.key_id(opub), opub)] + trusted).seq == 7


def test_oversize_manifest_refused_before_the_signature(signer):
    priv, trusted = signer
    raw = _raw(_edited(padding="x" * B.MAX_MANIFEST_BYTES))
    with pytest.raises(BundleError, match="manifest.json is too large"):
        V.verify_manifest(raw, priv.sign(raw), trusted)
    with pytest.raises(BundleError, match="manifest.json is too large"):
        Manifest.parse(raw)


def _file(**changes) -> list:
    return [{**GOOD["files"][0], **changes}]


MALFORMED = [
    (_edited(format_version=2), "unknown format_version 2"),
    (_edited(format_version=1.0), "format_version must be the integer 1, got 1.0"),
    (_edited(format_version=True), "format_version must be the integer 1, got true"),
    (_edited(format_version="1"), 'format_version must be the integer 1, got "1"'),
    (_edited(format_version=_DROP), "format_version must be the integer 1, got null"),
    (_edited(scope=_DROP), "scope is missing"),
    (_edited(scope="43138211124X"), "scope must be a 6-, 9- or 12-digit division code"),
    (_edited(scope="../../etc"), "scope must be a 6-, 9- or 12-digit division code"),
    (_edited(scope=431382111249), "scope must be a string"),
    (_edited(seq=0), "seq must be an integer ≥ 1, got 0"),
    (_edited(seq=True), "seq must be an integer ≥ 1, got true"),
    (_edited(seq=7.0), "seq must be an integer ≥ 1, got 7.0"),
    (_edited(seq="7"), 'seq must be an integer ≥ 1, got "7"'),
    (_edited(issued_at="2026-11-30T08:00:00"), "issued_at must be an ISO 8601 UTC time"),
    (_edited(issued_at="2026-02-30T08:00:00Z"), "issued_at is not a valid time"),
    (_edited(data_as_of="20261128"), "data_as_of must be an ISO 8601 date"),
    (_edited(data_as_of="2026-02-30"), "data_as_of is not a valid date"),
    (_edited(data_as_of="2026-11-28\u2028"), "data_as_of holds the control or bidi character U+2028"),
    (_edited(previous="9F" * 32), "previous must be null or 64 lowercase hex digits"),
    (_edited(previous="9f" * 31), "previous must be null or 64 lowercase hex digits"),
    (_edited(key_id="1A2B3C4D5E6F7081"), "key_id must be 16 lowercase hex digits"),
    (_edited(village="洪泉村"), "village must be an object"),
    (_edited(village={"code": "431382111202", "name": "赵家村"}), "village.code differs from scope"),
    (_edited(village={"code": SCOPE, "name": ""}), "village.name must be a name of 1 to 64 characters"),
    (_edited(village={"code": SCOPE, "name": "洪\u200b泉村"}), "village.name holds the control or bidi character U+200B"),
    (_edited(village={"code": SCOPE, "name": "\u202e村泉洪"}), "village.name holds the control or bidi character U+202E"),
    (_edited(scope="431382111", village=_DROP, villages=["431382111249", "431382111249"]), "must list each village"),
    (_edited(scope="431382111", village=_DROP, villages=["431382112001"]), "must list each village of scope 431382111"),
    (_edited(scope="431382111", village=_DROP, villages=[]), "villages must be a non-empty list"),
    (_edited(counts={**GOOD["counts"], "payments": -1}), "counts.payments must be an integer ≥ 0, got -1"),
    (_edited(counts={**GOOD["counts"], "assets": 41.0}), "counts.assets must be an integer ≥ 0, got 41.0"),
    (_edited(counts={k: v for k, v in GOOD["counts"].items() if k != "payments"}), "counts lacks payments"),
    (_edited(counts={**GOOD["counts"], "flags\u202e": 1}), "counts holds the control or bidi character U+202E"),
    (_edited(counts=[1, 2]), "counts missing or not an object"),
    (_edited(files={}), "files missing or not a list"),
    (_edited(files=[]), "does not list data/village.sqlite"),
    (_edited(files=["data/village.sqlite"]), "files entry is not an object"),
    (_edited(files=_file(path="../village.sqlite")), "escapes the bundle folder"),
    (_edited(files=_file(path="data/village\u202e.sqlite")), "files[0].path holds the control or bidi character U+202E"),
    (_edited(files=_file(path="data/village.sqlite\x00")), "files[0].path holds the control or bidi character U+0000"),
    (_edited(files=_file() + _file()), "file listed twice: data/village.sqlite"),
    (_edited(files=_file(size=-1)), "files[0].size must be an integer ≥ 0, got -1"),
    (_edited(files=_file(size=True)), "files[0].size must be an integer ≥ 0, got true"),
    (_edited(files=[{"path": "data/village.sqlite", "size": 1}]), "lacks size or sha256"),
    (_edited(files=_file(sha256="AB" * 32)), "files[0].sha256 must be 64 lowercase hex digits"),
    (_edited(files=_file(sha256="ab" * 33)), "files[0].sha256 must be 64 lowercase hex digits"),
]


@pytest.mark.parametrize("manifest,needle", MALFORMED, ids=[n for _, n in MALFORMED])
def test_each_malformed_field_refused_in_one_line(signer, manifest, needle):
    priv, trusted = signer
    raw = _raw(manifest)
    with pytest.raises(BundleError) as ei:
        V.verify_manifest(raw, priv.sign(raw), trusted)
    assert needle in ei.value.message
    assert "\n" not in str(ei.value) and ei.value.message_zh.startswith("数据包")


RAW_MALFORMED = [
    (b"[1, 2]", "must be a JSON object"),
    (b'{"seq": 1', "not valid UTF-8 JSON"),
    (_raw(GOOD) + b"x", "not valid UTF-8 JSON"),
    (b"\xef\xbb\xbf" + _raw(GOOD), "not valid UTF-8 JSON"),  # a byte-order mark
    (_raw(GOOD).replace("洪泉村".encode(), b"\xff\xfe"), "not valid UTF-8 JSON"),
    (_raw(GOOD).replace(b'"seq": 7', b'"seq": ' + b"7" * 5000), "not valid UTF-8 JSON"),  # Python's int limit
    (_raw(GOOD).replace(b'"seq": 7', b'"seq": Infinity'), "holds Infinity"),
    (_raw(GOOD).replace(b'"seq": 7', b'"seq": 3, "seq": 7'), 'key "seq" twice'),
    (_raw(GOOD).replace(b'"code": "431382111249"', b'"code": "431382111249", "code": "431382111202"'),
     'key "code" twice'),
    (_raw(GOOD).replace(b"{", b'{"x": ' + b"[" * 50_000 + b"]" * 50_000 + b",", 1), "nests deeper than 32"),
    (_raw(GOOD).replace(b"{", b'{"x": ' + b"{" * 20_000, 1), "nests deeper than 32"),  # unbalanced too
]


@pytest.mark.parametrize("raw,needle", RAW_MALFORMED, ids=[n for _, n in RAW_MALFORMED])
def test_malformed_json_refused_in_one_line(signer, raw, needle):
    priv, trusted = signer
    with pytest.raises(BundleError) as ei:
        V.verify_manifest(raw, priv.sign(raw), trusted)
    assert needle in ei.value.message


def test_nesting_limit_counts_structure_not_text():
    deep = json.loads(json.dumps(GOOD))
    deep["future"] = json.loads("[" * (B.MAX_DEPTH - 1) + "]" * (B.MAX_DEPTH - 1))  # with the top level: MAX_DEPTH
    deep["note"] = "[[[[" * 100  # brackets inside a string are text
    assert Manifest.parse(_raw(deep)).seq == 7
    deep["future"] = [deep["future"]]
    with pytest.raises(BundleError, match="nests deeper than 32"):
        Manifest.parse(_raw(deep))


def test_unknown_fields_kept_and_ignored():
    raw = _raw(_edited(viewer={"files": ["public/index.html"], "note": "a\nb"}, schema_revision=2))
    m = Manifest.parse(raw)
    assert dict(m.extra) == {"viewer": {"files": ["public/index.html"], "note": "a\nb"}, "schema_revision": 2}
    assert m.extra.get("schema_revision") == 2 and "absent" not in m.extra
    assert m.seq == 7  # and nothing else changes


def test_township_bundle_lists_its_villages():
    m = Manifest.parse(_raw(_edited(scope="431382111", village=_DROP, villages=["431382111249", "431382111202"])))
    assert (m.scope, m.villages, m.village_name, m.display_name) == ("431382111", ("431382111249", "431382111202"),
                                                                     None, "431382111")


# ---------------------------------------------------------------- the one hash loop

def test_sha256_file_reports_every_chunk(tmp_path, monkeypatch):
    monkeypatch.setattr(B, "HASH_CHUNK", 1000)
    data = os.urandom(2500)
    (tmp_path / "f").write_bytes(data)
    seen: list[int] = []
    assert B.sha256_file(tmp_path / "f", seen.append) == hashlib.sha256(data).hexdigest()
    assert seen == [1000, 1000, 500]
    (tmp_path / "empty").write_bytes(b"")
    seen.clear()
    assert B.sha256_file(tmp_path / "empty", seen.append) == hashlib.sha256(b"").hexdigest() and seen == []


def test_verify_bundle_hashes_every_byte_once_through_the_loop(small_bundle, test_key, monkeypatch):
    pub = keys.load_public(test_key / "signing.pub")
    trusted = [keys.TrustedKey(keys.key_id(pub), pub)]
    calls: list[str] = []
    real = B.sha256_file

    def counted(path, progress=None):
        calls.append(Path(path).name)
        return real(path, progress)

    monkeypatch.setattr(V, "sha256_file", counted)
    hashed: list[int] = []
    m = V.verify_bundle(small_bundle, trusted, hashed.append)
    size = sum((small_bundle / f.path).stat().st_size for f in m.files)  # the database and the public files
    assert calls == [Path(f.path).name for f in m.files] and sum(hashed) == size == m.data_size
    calls.clear()
    V.check_files(small_bundle, m, hashes=False)  # layout and sizes only: the stick discovery
    assert calls == []
