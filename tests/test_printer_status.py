"""DLE EOT status decoding: vectors and a property test that it only raises its own errors."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.printer.errors import PrinterError, StatusReplyError
from kiosk.devices.printer.status import PrinterStatus, decode_reply, query_status
from kiosk.devices.printer.simulator import SimulatedPrinter


def test_vectors():
    assert decode_reply(1, b"\x12") == {"offline": False}
    assert decode_reply(1, b"\x1a") == {"offline": True}
    assert decode_reply(2, b"\x16") == {"cover_open": True, "paper_stop": False, "error": False}
    assert decode_reply(2, b"\x32") == {"cover_open": False, "paper_stop": True, "error": False}
    assert decode_reply(3, b"\x1a") == {"cutter_error": True, "unrecoverable_error": False,
                                        "auto_recoverable_error": False}
    assert decode_reply(4, b"\x1e") == {"paper_near_end": True, "paper_end": False}
    assert decode_reply(4, b"\x72") == {"paper_near_end": False, "paper_end": True}


@pytest.mark.parametrize("n,data", [(1, b"\x00"), (2, b"\xff"), (4, b""), (4, b"\x12\x12"), (5, b"\x12"),
                                    (0, b"\x12")])
def test_invalid_replies_raise_status_reply_error(n, data):
    with pytest.raises(StatusReplyError):
        decode_reply(n, data)


@given(n=st.one_of(st.integers(), st.none(), st.text(max_size=3), st.floats()),
       data=st.one_of(st.binary(max_size=4), st.none(), st.text(max_size=2), st.integers()))
def test_decoder_raises_only_its_own_errors(n, data):
    try:
        flags = decode_reply(n, data)
    except PrinterError:
        return
    assert n in (1, 2, 3, 4) and len(data) == 1 and data[0] & 0x93 == 0x12
    assert all(isinstance(v, bool) for v in flags.values())


def test_query_status_against_the_simulator():
    sim = SimulatedPrinter("pos58", paper_out=True)
    st_ = query_status(sim)
    assert st_ == PrinterStatus(offline=True, cover_open=False, paper_near_end=True, paper_end=True,
                                cutter_error=False, error=False)
    assert st_.label_zh() == "离线、纸将用完、缺纸"
    assert query_status(SimulatedPrinter("pos58")).ok


def test_query_status_drains_stale_bytes_first():
    sim = SimulatedPrinter("pos58")
    sim._replies += b"\x7f\x7f"  # stale bytes from an earlier exchange
    assert query_status(sim).ok
