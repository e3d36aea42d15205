"""Transports and the find → select → read session against the simulator: serial (a pyserial
look-alike and pyserial's own loop:// port), native SAM USB and the 64-byte chunked layout,
with every injected fault."""
from __future__ import annotations

import pytest
import serial

from kiosk.devices.idcard import (
    CardTypeRefused,
    ChecksumError,
    NoCard,
    ReaderStatusError,
    ReaderTimeout,
    ReaderUnavailable,
    SelectFailed,
    open_reader,
)
from kiosk.devices.idcard import frames
from kiosk.devices.idcard.simulator import SimulatedReader, SimUsbDevice, read_reply, synthetic_cards
from kiosk.devices.idcard.transports import ChunkedUsbTransport, NativeUsbTransport, SerialTransport

KINDS = ["sim:serial", "sim:usb-native", "sim:usb-chunked"]


@pytest.fixture(params=KINDS)
def rig(request):
    sim = SimulatedReader(synthetic_cards())
    session = open_reader(request.param, simulator=sim, timeout=0.2)
    yield sim, session
    session.close()


def test_reads_each_card_over_every_transport(rig):
    sim, s = rig
    names = []
    for i in range(4):
        sim.place(i)
        names.append(s.read_card().name)
    assert names == ["李示例", "阿依古丽·买买提艾则孜示例", "王测试", "赵长期"]
    # the session spoke exactly find, select, read per card
    assert sim.requests[:3] == [frames.build_request(c) for c in
                                (frames.FIND_CARD, frames.SELECT_CARD, frames.READ_TEXT_PHOTO)]


def test_no_card(rig):
    sim, s = rig
    with pytest.raises(NoCard):
        s.read_card()


def test_select_failure(rig):
    sim, s = rig
    sim.place(0)
    sim.fail_select = True
    with pytest.raises(SelectFailed) as ei:
        s.read_card()
    assert ei.value.sw3 == 0x81


def test_one_bad_checksum_is_retried(rig):
    sim, s = rig
    sim.place(0)
    sim.corrupt_replies = 1
    assert s.read_card().name == "李示例"


def test_persistent_bad_checksum_raises(rig):
    sim, s = rig
    sim.place(0)
    sim.corrupt_replies = 100
    with pytest.raises(ChecksumError):
        s.read_card()


def test_card_removed_mid_read(rig):
    sim, s = rig
    sim.place(0)
    sim.remove_during_read = True
    with pytest.raises(ReaderStatusError) as ei:
        s.read_card()
    assert ei.value.sw3 == 0x41
    assert s.find() is False and sim.card is None


def test_refused_card_type(rig):
    sim, s = rig
    sim.place(4)
    with pytest.raises(CardTypeRefused) as ei:
        s.read_card()
    assert ei.value.flag == "I"


def test_unplugged(rig):
    sim, s = rig
    sim.place(0)
    sim.unplug()
    with pytest.raises(ReaderUnavailable):
        s.read_card()


def test_silent_reader_times_out(rig):
    sim, s = rig
    sim.silent = True
    with pytest.raises(ReaderTimeout):
        s.find()


def test_removal_probe_tells_read_card_from_removed_card(rig):
    sim, s = rig
    sim.place(0)
    s.read_card()
    assert s.find() is False          # a read card no longer answers "find"…
    assert s.probe_present() is True   # …but still answers 30 03 (0x90, appended address)
    sim.place(3)
    s.read_card()
    assert s.probe_present() is True   # 0x91: no appended address, still there
    sim.remove()
    assert s.probe_present() is False
    assert s.find() is False


def test_garbage_before_a_reply_is_skipped_on_stream_transports():
    for kind in ("sim:serial", "sim:usb-chunked"):
        sim = SimulatedReader(synthetic_cards())
        s = open_reader(kind, simulator=sim, timeout=0.2)
        sim.place(1)
        sim.garbage = b"\x00\xff\xaa\xaa\x13garbage"
        assert s.read_card().nation == "维吾尔族"


def test_native_layout_puts_header_and_body_on_their_endpoints():
    sim = SimulatedReader(synthetic_cards())
    dev = SimUsbDevice(sim, "native")
    writes = []
    orig = dev.write

    def spy(ep, data, timeout=None):
        writes.append((ep, bytes(data)))
        return orig(ep, data, timeout)

    dev.write = spy
    t = NativeUsbTransport(dev)
    t.send(frames.build_request(frames.FIND_CARD))
    assert writes == [(0x02, bytes.fromhex("AAAAAA96690003")), (0x06, bytes.fromhex("200122"))]
    assert t.receive(0.2) == bytes.fromhex("AAAAAA9669 0004 000080 84")


def test_chunked_layout_reassembles_a_1295_byte_reply_from_64_byte_packets():
    sim = SimulatedReader(synthetic_cards())
    dev = SimUsbDevice(sim, "chunked")
    t = ChunkedUsbTransport(dev, 0x01, 0x82)
    sim.place(0)
    for cmd in (frames.FIND_CARD, frames.SELECT_CARD):
        t.send(frames.build_request(cmd))
        t.receive(0.2)
    t.send(frames.build_request(frames.READ_TEXT_PHOTO))
    assert len(dev._packets[0x82]) == 21  # ceil(1295 / 64)
    assert t.receive(0.2) == read_reply(sim.card.text)


def test_serial_transport_on_a_real_pyserial_port():
    port = serial.serial_for_url("loop://", baudrate=115200, timeout=0.2)
    t = SerialTransport(port, "loop://")
    port.write(b"\x13\x37" + bytes.fromhex("AAAAAA9669 0008 00009F 00000000 97"))
    assert frames.parse_reply(t.receive(0.5)).sw3 == 0x9F
    with pytest.raises(ReaderTimeout):
        t.receive(0.05)
    port.close()
    with pytest.raises(ReaderUnavailable):
        t.send(frames.build_request(frames.FIND_CARD))
