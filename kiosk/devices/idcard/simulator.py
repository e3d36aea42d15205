"""A simulated SAM-V reader with invented cards and injectable faults, behind the same
transports as the hardware: a pyserial-like port and a pyusb-like device (both USB layouts).

The cards are invented people (no real persons). By default they are the demo persons of
``kiosk.demo_data`` (village 431382111249, seed 1), so a simulated card matches the demo
payments; without that module, a few built-in synthetic cards.

Behaviour copied from real readers (docs/devices.md): after a successful read, ``20 01``
(find) answers 0x80 until the card has left the field, while ``30 03`` keeps answering
0x90/0x91 as long as the card stays.

Faults: no card (just don't place one), :attr:`fail_select`, :attr:`corrupt_replies`
(bad checksum), :attr:`remove_during_read`, :attr:`garbage` (junk before a reply),
:attr:`silent` (no reply: time-out), :meth:`unplug` / :meth:`plug`.
"""
from __future__ import annotations

import array
import datetime as _dt
import threading
import time
from dataclasses import dataclass

from kiosk import idnumber
from kiosk.devices.idcard import frames
from kiosk.devices.idcard.frames import FrameBuffer, build_frame
from kiosk.devices.idcard.text import IdCard, build_text, nation_name, sex_name

DEMO_VILLAGE = "431382111249"
PHOTO_LEN = 1024


@dataclass(frozen=True)
class SimCard:
    """A card to place on the simulated reader: its 256-byte text (any card type)."""

    text: bytes
    label: str = ""
    appended_address: str = ""

    @classmethod
    def resident(cls, card: IdCard, appended_address: str = "") -> "SimCard":
        return cls(build_text(card), card.name, appended_address)


def _card(name, sex, nation, born, seq, address, valid_from, years, region="431382",
          issuer="涟源市公安局") -> IdCard:
    valid_to = None if years is None else valid_from.replace(year=valid_from.year + years)
    return IdCard(name=name, sex_code=sex, sex=sex_name(sex), nation_code=nation,
                  nation=nation_name(nation), birth=born,
                  address=address, id_number=idnumber.make(region, born, seq), issuer=issuer,
                  valid_from=valid_from, valid_to=valid_to)


def _x_sequence(region: str, born: _dt.date) -> int:
    """First sequence number whose check character is X (for a test card)."""
    return next(s for s in range(1000) if idnumber.make(region, born, s).endswith("X"))


def synthetic_cards() -> list[SimCard]:
    """Built-in invented cards: an ordinary card; a long name with a middle dot; an ID number
    ending in X; 长期 validity; and a foreign permanent resident card (flag ``I``) to refuse."""
    d = _dt.date
    x_born = d(1962, 8, 15)
    cards = [
        _card("李示例", "1", "01", d(1968, 4, 12), 13, "湖南省涟源市桥头河镇示例村3组12号",
              d(2015, 6, 1), 20),
        _card("阿依古丽·买买提艾则孜示例", "2", "05", d(1990, 2, 28), 24,
              "湖南省涟源市古塘乡测试村7组", d(2019, 9, 9), 20),
        _card("王测试", "2", "01", x_born, _x_sequence("431382", x_born),
              "湖南省涟源市伏口镇样本村1组5号", d(2012, 3, 3), 20),
        _card("赵长期", "1", "09", d(1948, 1, 20), 31,
              "湖南省涟源市蓝田街道演示社区2组", d(2008, 11, 1), None),
    ]
    out = [SimCard.resident(c) for c in cards]
    out[0] = SimCard(out[0].text, out[0].label, appended_address="湖南省涟源市桥头河镇示例村4组")
    out.append(foreign_card())
    return out


def foreign_card(flag: str = "I") -> SimCard:
    """A foreign permanent resident card (flag ``I`` 2017 / ``Y`` 2023): different layout."""
    name = "SAMPLE, TEST PERSON".ljust(60).encode("utf-16-le")
    rest = bytearray(" ".encode("utf-16-le") * ((256 - 120) // 2))
    text = bytearray(name + rest)
    text[248:250] = flag.encode("utf-16-le")
    return SimCard(bytes(text), "foreign permanent resident (invented)")


def demo_cards(village_code: str = DEMO_VILLAGE, seed: int = 1) -> list[SimCard]:
    """Cards of the demo persons who receive demo payments; the built-in ones if
    ``kiosk.demo_data`` is not available."""
    try:
        from kiosk.demo_data import demo_persons
    except ImportError:
        return synthetic_cards()
    cards = []
    for p in demo_persons(village_code, seed=seed):
        issued = _dt.date(max(p.birth.year + 16, 2005), p.birth.month, min(p.birth.day, 28))
        age = issued.year - p.birth.year
        years = None if age >= 46 else 20 if age >= 26 else 10
        valid_to = None if years is None else issued.replace(year=issued.year + years)
        card = IdCard(name=p.name[:15], sex_code=p.sex_code, sex=sex_name(p.sex_code),
                      nation_code=p.nation_code, nation=nation_name(p.nation_code),
                      birth=p.birth, address=p.address[:35], id_number=p.id_number,
                      issuer="涟源市公安局", valid_from=issued, valid_to=valid_to)
        cards.append(SimCard.resident(card))
    return cards or synthetic_cards()


def read_reply(text: bytes, sw3: int = frames.SW_OK) -> bytes:
    """A whole ``30 01`` reply frame for a 256-byte text (zero photo): 1295 bytes."""
    data = len(text).to_bytes(2, "big") + PHOTO_LEN.to_bytes(2, "big") + text + bytes(PHOTO_LEN)
    return build_frame(bytes([0, 0, sw3]) + data)


def status_reply(sw3: int, data: bytes = b"") -> bytes:
    return build_frame(bytes([0, 0, sw3]) + data)


class SimulatedReader:
    """The reader's logic: takes request frames, gives reply frames. Thread-safe."""

    def __init__(self, cards: list[SimCard] | None = None):
        self.cards = cards if cards is not None else demo_cards()
        self._lock = threading.RLock()
        self.card: SimCard | None = None
        self.state = "idle"  # idle → found → selected → read (card stays "read" until removed)
        self.plugged = True
        self.fail_select = False
        self.remove_during_read = False
        self.corrupt_replies = 0
        self.garbage = b""
        self.silent = False
        self.requests: list[bytes] = []

    # -- the person at the kiosk ---------------------------------------------------------
    def place(self, card: SimCard | int = 0) -> SimCard:
        with self._lock:
            self.card = self.cards[card] if isinstance(card, int) else card
            self.state = "idle"
            return self.card

    def remove(self) -> None:
        with self._lock:
            self.card = None
            self.state = "idle"

    def unplug(self) -> None:
        with self._lock:
            self.plugged = False

    def plug(self) -> None:
        """Plug back in: the reader powers up fresh (a card on it must be found again)."""
        with self._lock:
            self.plugged = True
            self.state = "idle"

    # -- the protocol --------------------------------------------------------------------
    def handle(self, request: bytes) -> bytes | None:
        """Reply frame for one request frame (None: stay silent)."""
        with self._lock:
            self.requests.append(bytes(request))
            if self.silent:
                return None
            try:
                body = frames.check_frame(request)
            except frames.ChecksumError:
                return self._out(status_reply(0x10))
            except frames.FrameError:
                return self._out(status_reply(0x11))
            if len(body) < 2:
                return self._out(status_reply(0x11))
            return self._out(self._command((body[0], body[1])))

    def _out(self, reply: bytes) -> bytes:
        if self.corrupt_replies > 0:
            self.corrupt_replies -= 1
            reply = reply[:-1] + bytes([reply[-1] ^ 0xFF])
        reply, self.garbage = self.garbage + reply, b""
        return reply

    def _command(self, cmd: tuple[int, int]) -> bytes:
        if cmd in (frames.RESET_SAM, frames.SAM_STATUS):
            return status_reply(frames.SW_OK)
        if cmd == frames.SAM_ID:
            return status_reply(frames.SW_OK, bytes(16))
        if cmd == frames.FIND_CARD:
            if self.card is None or self.state == "read":
                return status_reply(frames.SW_NO_CARD)
            self.state = "found"
            return status_reply(frames.SW_FOUND, bytes(4))
        if cmd == frames.SELECT_CARD:
            if self.card is None:
                return status_reply(frames.SW_NO_CARD)
            if self.fail_select or self.state != "found":
                return status_reply(frames.SW_SELECT_FAILED)
            self.state = "selected"
            return status_reply(frames.SW_OK, bytes(8))
        if cmd in (frames.READ_TEXT_PHOTO, frames.READ_TEXT_PHOTO_FP):
            if self.card is None or self.state not in ("selected", "read"):
                return status_reply(0x41)
            if self.remove_during_read:
                self.remove_during_read = False
                self.remove()
                return status_reply(0x41)
            self.state = "read"
            return read_reply(self.card.text)
        if cmd == frames.READ_APPENDED_ADDRESS:
            if self.card is None or self.state not in ("selected", "read"):
                return status_reply(frames.SW_NO_CARD)
            if not self.card.appended_address:
                return status_reply(frames.SW_NO_ITEM)
            return status_reply(frames.SW_OK, self.card.appended_address.ljust(35).encode("utf-16-le"))
        return status_reply(0x21)


def _gone():
    import serial

    return serial.SerialException("device disconnected (simulated unplug)")


class SimSerialPort:
    """pyserial-look-alike port wired to a :class:`SimulatedReader` (115200 8N1 assumed).

    ``read`` returns what is there; with nothing there it waits ``timeout`` (capped at 50 ms)
    like a real port, then returns b"".
    """

    def __init__(self, reader: SimulatedReader, timeout: float = 1.0):
        self.reader = reader
        self.timeout = timeout
        self.baudrate = 115200
        self.is_open = True
        self._in = FrameBuffer()
        self._out = bytearray()

    def _check(self) -> None:
        if not self.is_open:
            raise _gone()
        if not self.reader.plugged:
            self.is_open = False
            raise _gone()

    @property
    def in_waiting(self) -> int:
        self._check()
        return len(self._out)

    def write(self, data: bytes) -> int:
        self._check()
        self._in.feed(bytes(data))
        while (frame := self._in.pop_frame()) is not None:
            reply = self.reader.handle(frame)
            if reply:
                self._out += reply
        return len(data)

    def read(self, size: int = 1) -> bytes:
        self._check()
        if not self._out:
            time.sleep(min(self.timeout or 0, 0.05))
            self._check()
        out = bytes(self._out[:size])
        del self._out[:size]
        return out

    def reset_input_buffer(self) -> None:
        self._check()
        self._out.clear()

    def close(self) -> None:
        self.is_open = False


class SimUsbDevice:
    """pyusb-look-alike device (``write(ep, data, timeout)`` / ``read(ep, size, timeout)``)
    wired to a :class:`SimulatedReader`.

    ``layout="native"``: header on 0x02/0x81, body on 0x06/0x85. ``layout="chunked"``: one
    OUT (0x01) and IN (0x82) pair, frames in 64-byte packets.
    """

    def __init__(self, reader: SimulatedReader, layout: str = "chunked", ep_out: int = 0x01,
                 ep_in: int = 0x82):
        if layout not in ("native", "chunked"):
            raise ValueError(f"unknown USB layout {layout!r}")
        self.reader, self.layout, self.ep_out, self.ep_in = reader, layout, ep_out, ep_in
        self._head = b""
        self._in = FrameBuffer()
        self._packets: dict[int, list[bytes]] = {}
        self.disposed = False

    def _check(self) -> None:
        import usb.core

        if not self.reader.plugged:
            raise usb.core.USBError("No such device (simulated unplug)", errno=19)

    def _queue(self, reply: bytes | None) -> None:
        if not reply:
            return
        if self.layout == "native":
            self._packets.setdefault(0x81, []).append(reply[:frames.HEADER_LEN])
            body = reply[frames.HEADER_LEN:]
            self._packets.setdefault(0x85, []).extend(body[i:i + 64] for i in range(0, len(body), 64))
        else:
            self._packets.setdefault(self.ep_in, []).extend(reply[i:i + 64] for i in range(0, len(reply), 64))

    def write(self, endpoint: int, data, timeout: int | None = None) -> int:
        self._check()
        data = bytes(data)
        if self.layout == "native":
            if endpoint == 0x02:
                self._head = data
            elif endpoint == 0x06:
                self._packets.clear()
                self._queue(self.reader.handle(self._head + data))
                self._head = b""
            else:
                raise ValueError(f"no OUT endpoint 0x{endpoint:02x}")
        else:
            if endpoint != self.ep_out:
                raise ValueError(f"no OUT endpoint 0x{endpoint:02x}")
            self._in.feed(data)
            while (frame := self._in.pop_frame()) is not None:
                self._queue(self.reader.handle(frame))
        return len(data)

    def read(self, endpoint: int, size: int, timeout: int | None = None) -> array.array:
        import usb.core

        self._check()
        queue = self._packets.get(endpoint) or []
        if not queue:
            time.sleep(min((timeout or 0) / 1000, 0.05))
            raise usb.core.USBTimeoutError("Operation timed out (simulated)", errno=110)
        out = bytearray()
        while queue and len(out) + len(queue[0]) <= max(size, 1):
            pkt = queue.pop(0)
            out += pkt
            if len(pkt) < 64:  # a short packet ends the transfer
                break
        if not out:  # caller asked for less than a packet: give part of it
            pkt = queue.pop(0)
            out, rest = pkt[:size], pkt[size:]
            queue.insert(0, rest)
        return array.array("B", out)
