"""Fuzz targets, one per parser of outside input (issue 16, "Tests"): ID-card reader frames,
the card's text block, printer status replies, signed manifests, key lists and source
lines. Each feeds valid input mutated at random, and random bytes, and asserts the parser
answers with its own one-line error (or a well-formed result), never anything else.

``make test`` runs each briefly (profile ``brief``: a few dozen examples, derandomised so CI
is repeatable); ``make fuzz`` runs them long (profile ``fuzz``, see the Makefile and README).
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from kiosk.cache import keys
from kiosk.devices.idcard import frames
from kiosk.devices.idcard.errors import IdCardError
from kiosk.devices.idcard.protocol import parse_captured_reply
from kiosk.devices.idcard.simulator import read_reply, synthetic_cards
from kiosk.devices.idcard.text import TEXT_LEN, build_text, parse_text
from kiosk.devices.printer.errors import PrinterError
from kiosk.devices.printer.status import PrinterStatus, decode_reply, query_status
from kiosk.errors import KioskError

pytestmark = pytest.mark.fuzz
SLOW = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
CARDS = [c.text for c in synthetic_cards()]


def mutate(data: bytes, edits: list[tuple[int, int, int]]) -> bytes:
    """Apply (kind, position, value) edits: 0 flip a byte, 1 delete one, 2 insert one."""
    b = bytearray(data)
    for kind, pos, val in edits:
        if not b and kind != 2:
            continue
        i = pos % (len(b) + (kind == 2))
        if kind == 0:
            b[i] ^= (val % 255) + 1
        elif kind == 1:
            del b[i]
        else:
            b.insert(i, val % 256)
    return bytes(b)


EDITS = st.lists(st.tuples(st.integers(0, 2), st.integers(0, 1 << 16), st.integers(0, 255)), max_size=8)


# ---------------------------------------------------------------- ID-card reader frames

@SLOW
@given(st.sampled_from([read_reply(t) for t in CARDS[:2]] + [frames.build_frame(b"\x00\x00\x9f")]),
       EDITS, st.binary(max_size=64), st.binary(max_size=64))
def test_fuzz_reader_frames(frame, edits, before, after):
    data = before + mutate(frame, edits) + after
    try:
        reply = frames.find_reply(data)
    except frames.FrameError:
        return
    assert isinstance(reply.sw3, int) and isinstance(reply.data, bytes)
    buf = frames.FrameBuffer()
    for i in range(0, len(data), 97):  # as a serial port delivers it: in pieces
        buf.feed(data[i:i + 97])
        while (f := buf.pop_frame()) is not None:
            try:
                frames.parse_reply(f)
            except frames.FrameError:
                pass
    try:
        parse_captured_reply(data)
    except IdCardError:
        pass


# ---------------------------------------------------------------- the card's text block

@SLOW
@given(st.sampled_from(CARDS), st.lists(st.tuples(st.integers(0, TEXT_LEN - 1), st.integers(0, 255)), max_size=6))
def test_fuzz_card_text(text, flips):
    b = bytearray(text)
    for pos, val in flips:
        b[pos] = val
    try:
        card = parse_text(bytes(b), today=dt.date(2026, 1, 1))
    except IdCardError:
        return
    # accepted: the fields are consistent, and the block round-trips
    from kiosk import idnumber

    assert idnumber.is_valid(card.id_number) and card.id_number[6:14] == f"{card.birth:%Y%m%d}"
    assert parse_text(build_text(card), today=dt.date(2026, 1, 1)) == card


# ---------------------------------------------------------------- printer status

class _Wire:
    """A printer transport answering status queries with the given bytes."""

    def __init__(self, replies: list[bytes]):
        self.replies = list(replies)

    def drain(self) -> None:
        pass

    def write(self, data: bytes) -> None:
        pass

    def read(self, n: int, timeout: float) -> bytes:
        return self.replies.pop(0)[:n] if self.replies else b""


@SLOW
@given(st.lists(st.binary(max_size=3), max_size=5), st.integers(-2, 6), st.binary(max_size=3))
def test_fuzz_printer_status(replies, n, byte):
    st_ = query_status(_Wire(replies))
    assert isinstance(st_, PrinterStatus) and isinstance(st_.label_zh(), str) and isinstance(st_.label(), str)
    if st_.known and st_.ok:
        assert not (st_.offline or st_.paper_end or st_.cover_open or st_.error)
    try:
        flags = decode_reply(n, byte)
    except PrinterError:
        return
    assert all(isinstance(v, bool) for v in flags.values())


# ---------------------------------------------------------------- signed manifests

@pytest.fixture(scope="module")
def manifest_doc(small_bundle) -> dict:
    from kiosk.cache.bundle import MANIFEST

    return json.loads((small_bundle / MANIFEST).read_bytes())


def _dump(doc) -> bytes:
    return (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


@SLOW
@given(st.data())
def test_fuzz_manifests(manifest_doc, small_bundle, test_key, data):
    from kiosk.cache.bundle import MAX_INT, SIGNATURE, BundleError, Manifest
    from kiosk.cache.verify import verify_manifest

    doc = copy.deepcopy(manifest_doc)
    how = data.draw(st.sampled_from(["field", "file", "count", "bytes", "duplicate", "nest"]))
    if how == "field":
        doc[data.draw(st.sampled_from(sorted(doc) + ["extra"]))] = data.draw(JSONISH)
        raw = _dump(doc)
    elif how == "file":
        doc["files"][0][data.draw(st.sampled_from(["path", "size", "sha256", "x"]))] = data.draw(
            JSONISH | st.integers(-1, 2 ** 64) | st.text(alphabet="0123456789abcdefABCDEF./\u202e\x00", max_size=70))
        raw = _dump(doc)
    elif how == "count":
        doc["counts"][data.draw(st.sampled_from(sorted(doc["counts"]) + ["x"]))] = data.draw(
            st.integers(-2, 2 ** 60) | JSONISH)
        raw = _dump(doc)
    elif how == "duplicate":  # the same key twice: the last would win in json.loads
        key = data.draw(st.sampled_from(sorted(doc)))
        raw = _dump(doc).replace(b"{\n", b'{\n  "%s": %s,\n' % (key.encode(), json.dumps(doc[key]).encode()), 1)
    elif how == "nest":
        raw = b'{"x": ' + b"[" * data.draw(st.integers(1, 200000)) + b"}"
    else:
        raw = mutate(_dump(doc), data.draw(EDITS))
    try:
        m = Manifest.parse(raw)
    except BundleError as exc:
        assert "\n" not in str(exc)
    else:  # accepted: every modelled field has its type and range
        assert 1 <= m.seq <= MAX_INT and m.scope.isdigit() and len(m.scope) in (6, 9, 12)
        assert all(0 <= f.size <= MAX_INT and len(f.sha256) == 64 for f in m.files)
        assert all(type(v) is int and 0 <= v <= MAX_INT for v in m.counts.values())
    sig = (small_bundle / SIGNATURE).read_bytes()
    pub = keys.load_public(test_key / "signing.pub")
    trusted = [keys.TrustedKey(keys.key_id(pub), pub)]
    if raw != (small_bundle / "manifest.json").read_bytes():
        with pytest.raises(BundleError, match="signature does not verify"):  # any change breaks the signature
            verify_manifest(raw, sig, trusted)


# ---------------------------------------------------------------- key lists

@pytest.fixture(scope="module")
def keylist_doc(tmp_path_factory) -> dict:
    d = tmp_path_factory.mktemp("kl")
    k, p = keys.generate(d / "k")
    return keys.build_keylist(k, [p], 3, d / "list")


JSONISH = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
                       lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids, max_size=4),
                       max_leaves=12)


@SLOW
@given(st.data())
def test_fuzz_key_lists(keylist_doc, data):
    doc = copy.deepcopy(keylist_doc)
    how = data.draw(st.sampled_from(["field", "entry", "bytes", "nest"]))
    if how == "field":
        doc[data.draw(st.sampled_from(sorted(doc) + ["extra"]))] = data.draw(JSONISH)
        raw = json.dumps(doc).encode()
    elif how == "entry":
        e = doc["keys"][0]
        e[data.draw(st.sampled_from(["key_id", "public_key", "label", "x"]))] = data.draw(JSONISH)
        raw = json.dumps(doc).encode()
    elif how == "nest":
        raw = b"[" * data.draw(st.integers(1, 100000)) + b"]"
    else:
        raw = mutate(json.dumps(doc).encode(), data.draw(EDITS))
    try:
        got, seq, new = keys.parse_keylist(raw)
    except keys.KeyError_:
        return
    assert type(seq) is int and new
    assert [keys.key_id(p) for p, *_ in new] == [e["key_id"] for e in got["keys"]]
    assert got["type"] == keys.KEYLIST_TYPE and type(got["version"]) is int


def test_keylist_with_a_mistyped_version_or_deep_nesting_is_refused(keylist_doc):
    for version in (1.0, True, "1"):
        with pytest.raises(keys.KeyError_):
            keys.parse_keylist(json.dumps({**keylist_doc, "version": version}).encode())
    with pytest.raises(keys.KeyError_, match="malformed"):
        keys.parse_keylist(b'{"type": "cunwu-kiosk-keylist", "version": 1, "seq": 1, "keys": ' + b"[" * 100000)


# ---------------------------------------------------------------- source lines

def _valid_lines() -> dict[str, list[dict]]:
    from sourcekit import small_source

    return small_source()


@SLOW
@given(st.data())
def test_fuzz_source_lines(tmp_path_factory, data):
    from sourcekit import write_source

    from kiosk.records import SourceError, load_source

    d = _valid_lines()
    kind = data.draw(st.sampled_from(["finance", "projects", "assets", "powers", "services", "payments"]))
    rec = d[kind][data.draw(st.integers(0, len(d[kind]) - 1))]
    how = data.draw(st.sampled_from(["value", "drop", "line"]))
    raw_line = None
    if how == "value":
        rec[data.draw(st.sampled_from(sorted(rec)))] = data.draw(JSONISH | st.text(max_size=30))
    elif how == "drop":
        rec.pop(data.draw(st.sampled_from(sorted(rec))))
    else:
        raw_line = mutate(json.dumps(rec, ensure_ascii=False).encode(), data.draw(EDITS))
    src = write_source(tmp_path_factory.mktemp("fz") / "src", d)
    if raw_line is not None:
        lines = (src / f"{kind}.jsonl").read_bytes().splitlines(keepends=True)
        lines.append(raw_line + b"\n")
        (src / f"{kind}.jsonl").write_bytes(b"".join(lines))
    try:
        source = load_source(src)
    except SourceError as exc:
        assert exc.lines and all("\n" not in line for line in exc.lines)
        return
    assert {k: len(v) for k, v in source.records.items()}


def test_fuzz_profiles_are_registered():
    assert settings.get_profile("brief").max_examples < settings.get_profile("fuzz").max_examples
