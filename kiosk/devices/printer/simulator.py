"""A simulated printer: the same :class:`~.transports.Transport`, an ESC/POS parser, a PNG.

It takes the byte stream a real printer would get, interprets the commands the composer uses
(``ESC @ a E d 3``, ``GS ! v0 ( k V``, ``FS & .``, ``DLE EOT``, LF), and draws the receipt at
the paper width so a person (or a QR decoder) can look at it. Text in Chinese mode is decoded
as GB18030; a character the profile's font lacks prints as ``?`` here, as on the real printer,
so a composer mistake shows. Outside Chinese mode bytes are code page 437 (Epson's default).

Faults to inject: ``paper_out``, ``paper_out_after`` (bytes printed before the roll runs out),
``cover_open``, ``unplug_after`` (bytes accepted before the cable "comes out"), ``no_status``
(never answers ``DLE EOT``). :meth:`replug` plugs it back in.
Our own code: no library parses ESC/POS into an image.
"""
from __future__ import annotations

import dataclasses

from PIL import Image, ImageDraw, ImageFont, ImageOps

from kiosk import fonts

from .composer import printer_can_print
from .errors import PrinterDisconnected
from .layout import char_width
from .profiles import CELL_H, CELL_W, LINE_PITCH, Profile, get_profile
from .transports import Transport


@dataclasses.dataclass
class PrintedLine:
    """A text line as the printer printed it (``?`` where its font has no glyph)."""

    text: str
    scale: int = 1
    bold: bool = False
    align: int = 0


class _Incomplete(Exception):
    pass


class SimulatedPrinter(Transport):
    """A printer in memory.

    Attributes:
        received: every byte written.
        lines: text lines printed (:class:`PrintedLine`).
        images: raster images printed (mode ``"1"``, 0 = ink).
        qr_payloads: QR codes printed natively (a printer without native QR prints nothing).
        cuts: number of cuts.
        unknown: command bytes it did not understand.
    """

    kind = "simulator"

    def __init__(self, profile: Profile | str = "pos58", *, paper_out: bool = False,
                 cover_open: bool = False, unplug_after: int | None = None, no_status: bool = False,
                 paper_out_after: int | None = None):
        self.profile = get_profile(profile) if isinstance(profile, str) else profile
        self.path = f"sim:{self.profile.name}"
        self.paper_out, self.cover_open = paper_out, cover_open
        self.unplug_after, self.no_status = unplug_after, no_status
        self.paper_out_after = paper_out_after
        self.unplugged = False
        self.received = bytearray()
        self._pending = bytearray()
        self._replies = bytearray()
        self.opened = 0
        self._reset_printout()
        self._reset_state()

    # -- Transport -------------------------------------------------------------------------
    def open(self) -> None:
        if self.unplugged:
            raise PrinterDisconnected("simulated printer is unplugged")
        self.opened += 1

    def write(self, data: bytes, timeout: float = 10.0) -> None:
        if self.unplugged:
            raise PrinterDisconnected("simulated printer is unplugged")
        if self.unplug_after is not None and len(self.received) + len(data) > self.unplug_after:
            keep = max(0, self.unplug_after - len(self.received))
            self._feed(bytes(data[:keep]))
            self.unplugged = True
            raise PrinterDisconnected(f"simulated printer unplugged after {self.unplug_after} bytes")
        if self.paper_out_after is not None and len(self.received) + len(data) >= self.paper_out_after:
            keep = max(0, self.paper_out_after - len(self.received))
            self._feed(bytes(data[:keep]))
            self.paper_out = True  # the roll ran out part-way: the rest is not printed
            self.paper_out_after = None
            data = data[keep:]
        self._feed(bytes(data))

    def read(self, size: int = 1, timeout: float = 1.0) -> bytes:
        if self.unplugged:
            raise PrinterDisconnected("simulated printer is unplugged")
        out = bytes(self._replies[:size])
        del self._replies[:size]
        return out

    def replug(self) -> None:
        """Plug the cable back in (the receipt printed so far stays on the paper)."""
        self.unplugged = False
        self.unplug_after = None

    def new_paper(self) -> None:
        """Tear off what was printed: start a new receipt (faults stay as they are)."""
        self._reset_printout()

    # -- Status ----------------------------------------------------------------------------
    def status_byte(self, n: int) -> int:
        b = 0x12
        if n == 1 and (self.cover_open or self.paper_out):
            b |= 0x08
        if n == 2:
            b |= (0x04 if self.cover_open else 0) | (0x20 if self.paper_out else 0)
        if n == 4 and self.paper_out:
            b |= 0x0C | 0x60
        return b

    # -- Parser ----------------------------------------------------------------------------
    def _reset_printout(self) -> None:
        self.elements: list = []  # ("line", PrintedLine) / ("image", Image) / ("qr", payload, module, align) / ("feed", dots) / ("cut",)
        self.cuts = 0
        self.unknown: list[bytes] = []
        self._line: list[str] = []

    def _reset_state(self) -> None:
        self.chinese = self.profile.chinese_font  # Chinese-market printers start in Chinese mode
        self.align = 0
        self.bold = False
        self.scale = 1
        self.spacing = LINE_PITCH
        self._qr_data = b""
        self._qr_module = 3

    @property
    def lines(self) -> list[PrintedLine]:
        return [e[1] for e in self.elements if e[0] == "line"]

    def text_lines(self) -> list[str]:
        """Printed text lines, stripped."""
        return [ln.text.strip() for ln in self.lines]

    @property
    def images(self) -> list[Image.Image]:
        return [e[1] for e in self.elements if e[0] == "image"]

    @property
    def qr_payloads(self) -> list[str]:
        return [e[1] for e in self.elements if e[0] == "qr"]

    def _feed(self, data: bytes) -> None:
        self.received += data
        self._pending += data
        pos = 0
        buf = bytes(self._pending)
        while pos < len(buf):
            try:
                pos = self._step(buf, pos)
            except _Incomplete:
                break
        del self._pending[:pos]

    @staticmethod
    def _need(buf: bytes, end: int) -> None:
        if end > len(buf):
            raise _Incomplete

    def _flush_line(self) -> None:
        text = "".join(self._line)
        self._line = []
        if not self.paper_out and not self.cover_open:
            self.elements.append(("line", PrintedLine(text, self.scale, self.bold, self.align)))

    def _step(self, buf: bytes, i: int) -> int:
        b = buf[i]
        if b == 0x0A:
            self._flush_line()
            return i + 1
        if b == 0x1B:  # ESC
            self._need(buf, i + 2)
            c = buf[i + 1]
            if c == 0x40:
                self._reset_state()
                return i + 2
            self._need(buf, i + 3)
            n = buf[i + 2]
            if c == 0x61:
                self.align = n if n < 3 else n - 0x30
            elif c == 0x45:
                self.bold = bool(n & 1)
            elif c == 0x64:
                if self._line:
                    self._flush_line()
                self.elements.append(("feed", n * self.spacing))
            elif c == 0x33:
                self.spacing = n
            else:
                self.unknown.append(buf[i:i + 3])
            return i + 3
        if b == 0x1C:  # FS
            self._need(buf, i + 2)
            c = buf[i + 1]
            if c == 0x26:
                self.chinese = self.profile.chinese_font  # a printer without the font ignores it
            elif c == 0x2E:
                self.chinese = False
            else:
                self.unknown.append(buf[i:i + 2])
            return i + 2
        if b == 0x1D:  # GS
            self._need(buf, i + 2)
            c = buf[i + 1]
            if c == 0x21:
                self._need(buf, i + 3)
                n = buf[i + 2]
                self.scale = max((n >> 4) + 1, (n & 0x0F) + 1)
                return i + 3
            if c == 0x76:  # GS v 0 m xL xH yL yH d...
                self._need(buf, i + 8)
                xb = buf[i + 4] | buf[i + 5] << 8
                y = buf[i + 6] | buf[i + 7] << 8
                end = i + 8 + xb * y
                self._need(buf, end)
                img = Image.frombytes("1", (xb * 8, y), buf[i + 8:end])
                img = ImageOps.invert(img.convert("L")).convert("1")  # ESC/POS 1 = ink
                if not self.paper_out and not self.cover_open:
                    self.elements.append(("image", img))
                return end
            if c == 0x28:  # GS ( k pL pH cn fn [m] data
                self._need(buf, i + 5)
                ln = buf[i + 3] | buf[i + 4] << 8
                end = i + 5 + ln
                self._need(buf, end)
                body = buf[i + 5:end]
                if buf[i + 2] == 0x6B and len(body) >= 2 and body[0] == 0x31:
                    self._qr(body[1], body[2:])
                else:
                    self.unknown.append(buf[i:end])
                return end
            if c == 0x56:  # GS V m [n]
                self._need(buf, i + 3)
                m = buf[i + 2]
                end = i + 4 if m in (0x41, 0x42, 65, 66) else i + 3
                self._need(buf, end)
                if end == i + 4:
                    self.elements.append(("feed", buf[i + 3]))
                if self.profile.cutter:
                    self.elements.append(("cut",))
                    self.cuts += 1
                return end
            self.unknown.append(buf[i:i + 2])
            return i + 2
        if b == 0x10:  # DLE EOT n
            self._need(buf, i + 3)
            if buf[i + 1] == 0x04 and not self.no_status:
                self._replies.append(self.status_byte(buf[i + 2]))
            return i + 3
        if b < 0x20:
            self.unknown.append(buf[i:i + 1])
            return i + 1
        return self._char(buf, i)

    def _char(self, buf: bytes, i: int) -> int:
        b = buf[i]
        if not self.chinese or b < 0x80:
            self._line.append(bytes([b]).decode("cp437"))
            return i + 1
        self._need(buf, i + 2)
        n = 4 if 0x30 <= buf[i + 1] <= 0x39 else 2
        self._need(buf, i + n)
        try:
            ch = buf[i:i + n].decode("gb18030")
        except UnicodeDecodeError:
            ch = "?"
        self._line.append(ch if printer_can_print(ch, self.profile) else "?")
        return i + n

    def _qr(self, fn: int, data: bytes) -> None:
        if fn == 0x43 and data:
            self._qr_module = data[0]
        elif fn == 0x50:
            self._qr_data = data[1:]  # m = '0'
        elif fn == 0x51 and self.profile.native_qr and not self.paper_out and not self.cover_open:
            self.elements.append(("qr", self._qr_data.decode("utf-8", "replace"), self._qr_module, self.align))

    # -- Rendering -------------------------------------------------------------------------
    def render(self) -> Image.Image:
        """The printed paper so far, ``profile.dots`` wide, black on white (mode ``"L"``)."""
        import qrcode

        width = self.profile.dots
        parts: list[Image.Image] = []
        for e in self.elements:
            if e[0] == "line":
                parts.append(self._render_line(e[1], width))
            elif e[0] == "image":
                im = e[1].convert("L")
                strip = Image.new("L", (width, im.height), 255)
                strip.paste(im.crop((0, 0, min(width, im.width), im.height)), (0, 0))
                parts.append(strip)
            elif e[0] == "qr":
                q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=e[2], border=4)
                q.add_data(e[1])
                q.make(fit=True)
                im = q.make_image().get_image().convert("L")
                strip = Image.new("L", (width, im.height), 255)
                x = {0: 0, 1: (width - im.width) // 2, 2: width - im.width}[e[3] if e[3] in (0, 1, 2) else 0]
                strip.paste(im, (max(x, 0), 0))
                parts.append(strip)
            elif e[0] == "feed":
                parts.append(Image.new("L", (width, max(e[1], 1)), 255))
            elif e[0] == "cut":
                strip = Image.new("L", (width, 9), 255)
                d = ImageDraw.Draw(strip)
                for x in range(0, width, 12):
                    d.line([(x, 4), (x + 6, 4)], fill=0)
                parts.append(strip)
        height = sum(p.height for p in parts) or 1
        page = Image.new("L", (width, height), 255)
        y = 0
        for p in parts:
            page.paste(p, (0, y))
            y += p.height
        return page

    def save_png(self, path) -> None:
        """Write :meth:`render` to ``path`` as PNG."""
        self.render().save(path, "PNG")

    def _render_line(self, line: PrintedLine, width: int) -> Image.Image:
        s = line.scale
        h = max(self.spacing, CELL_H * s)
        strip = Image.new("L", (width, h), 255)
        draw = ImageDraw.Draw(strip)
        cells = [char_width(c) * CELL_W * s for c in line.text]
        total = sum(cells)
        x = {1: (width - total) // 2, 2: width - total}.get(line.align, 0)
        path = fonts.main_font_path(line.bold)
        font = ImageFont.truetype(path, CELL_H * s)
        for ch, cw in zip(line.text, cells):
            if ch.strip() and x + cw <= width:
                draw.text((x + cw / 2, CELL_H * s / 2), ch, font=font, fill=0, anchor="mm")
            x += cw
        return strip
