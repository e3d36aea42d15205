"""SAM-V frames: byte-exact requests, known replies, resynchronisation, and a property test
that the parser raises only the module's own errors whatever bytes arrive."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.devices.idcard import frames
from kiosk.devices.idcard import parse_captured_reply
from kiosk.devices.idcard.errors import ChecksumError, FrameError, IdCardError
from kiosk.devices.idcard.frames import FrameBuffer, build_request, find_reply, parse_reply

H = bytes.fromhex


@pytest.mark.parametrize("cmd, expected", [
    (frames.FIND_CARD, "AAAAAA9669 0003 2001 22"),
    (frames.SELECT_CARD, "AAAAAA9669 0003 2002 21"),
    (frames.READ_TEXT_PHOTO, "AAAAAA9669 0003 3001 32"),
    (frames.READ_APPENDED_ADDRESS, "AAAAAA9669 0003 3003 30"),
    (frames.READ_TEXT_PHOTO_FP, "AAAAAA9669 0003 3010 23"),
    (frames.RESET_SAM, "AAAAAA9669 0003 10FF EC"),
    (frames.SAM_STATUS, "AAAAAA9669 0003 11FF ED"),
    (frames.SAM_ID, "AAAAAA9669 0003 12FF EE"),
])
def test_request_frames_are_byte_exact(cmd, expected):
    assert build_request(cmd) == H(expected)


def test_known_replies():
    no_card = parse_reply(H("AAAAAA9669 0004 000080 84"))
    assert (no_card.sw1, no_card.sw2, no_card.sw3, no_card.data) == (0, 0, 0x80, b"")
    found = parse_reply(H("AAAAAA9669 0008 00009F 00000000 97"))
    assert found.sw3 == 0x9F and found.data == bytes(4) and found.ok


def test_read_reply_is_1295_bytes_with_len_1288():
    from kiosk.devices.idcard.simulator import read_reply

    frame = read_reply(bytes(256))
    assert len(frame) == 1295
    assert frame[5:7] == (1288).to_bytes(2, "big")
    assert frame[7:10] == H("000090")
    assert frame[10:14] == H("0100 0400")
    assert parse_reply(frame).data[:4] == H("01000400")


def test_checksum_error_is_detected():
    with pytest.raises(ChecksumError):
        parse_reply(H("AAAAAA9669 0004 000080 85"))


@pytest.mark.parametrize("bad", [
    H("AAAAAA9669 0004 000080"),            # truncated
    H("AAAAAA9669 0004 000080 84 00"),      # too long
    H("AAAAAA9668 0004 000080 84"),         # wrong preamble
    H("AAAAAA9669 0002 00 02"),             # body shorter than SW1..SW3
    H("AAAAAA9669 0000"),                   # zero length
])
def test_malformed_frames_raise_frame_error(bad):
    with pytest.raises(FrameError):
        parse_reply(bad)


def test_resync_after_garbage_split_across_feeds():
    garbage = H("00 FF AA AA 96 AA AA AA 96 69 FF FF 12")  # includes a false preamble with LEN 0xFFFF
    good = H("AAAAAA9669 0008 00009F 00000000 97")
    buf = FrameBuffer()
    stream = garbage + good + H("AAAAAA9669 0004 000080 84")
    for i in range(0, len(stream), 3):
        buf.feed(stream[i:i + 3])
    assert parse_reply(buf.pop_frame()).sw3 == 0x9F
    assert parse_reply(buf.pop_frame()).sw3 == 0x80
    assert buf.pop_frame() is None
    assert buf.discarded == len(garbage)


def test_partial_preamble_at_end_is_kept():
    buf = FrameBuffer()
    buf.feed(H("0102 AAAAAA"))
    assert buf.pop_frame() is None and len(buf) == 3
    buf.feed(H("9669 0004 000080 84"))
    assert parse_reply(buf.pop_frame()).sw3 == 0x80


def test_find_reply_in_a_capture_with_junk():
    assert find_reply(b"log: rx=" + H("AAAAAA9669 0004 000080 84") + b"\n").sw3 == 0x80
    with pytest.raises(FrameError):
        find_reply(b"no frame here")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.binary(max_size=40),
    st.just(frames.PREAMBLE),
    st.builds(lambda n: frames.PREAMBLE + n.to_bytes(2, "big"), st.integers(0, 0xFFFF)),
    st.builds(lambda b: frames.build_frame(b), st.binary(max_size=30)),
    st.builds(lambda b: frames.build_frame(b"\x00\x00\x90\x01\x00\x00\x00" + b), st.binary(min_size=256, max_size=256)),
), max_size=12))
def test_parser_raises_only_its_own_errors(chunks):
    data = b"".join(chunks)
    for fn in (parse_reply, find_reply, frames.check_frame):
        try:
            fn(data)
        except FrameError:  # ChecksumError is a FrameError
            pass
    buf = FrameBuffer()
    popped = 0
    for c in chunks:
        buf.feed(c)
        while (frame := buf.pop_frame()) is not None:  # raises nothing: garbage is skipped
            popped += len(frame)
            try:
                parse_reply(frame)
            except FrameError:
                pass
    # every byte fed is in a frame, counted as discarded, or still waiting; and what waits
    # is an incomplete frame (a whole one would have been popped)
    assert popped + buf.discarded + len(buf) == len(data)
    assert buf.needed() >= 1
    try:  # the whole path of a captured reply, down to the card text
        parse_captured_reply(data)
    except IdCardError:
        pass
