"""Receipt → ESC/POS bytes for one printer profile (pure: no I/O, no clock unless not given).

Each laid-out line goes as Chinese-mode text (``FS &`` GB18030 ``FS .``) when the profile's
font can print every character of it, and otherwise as a raster image drawn with the app's
fonts (``GS v 0``), so a rare name character or unsupported punctuation is never printed as
``?`` or a box. Printers without a Chinese font get the whole receipt as raster.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import unicodedata

from kiosk.formatting import amount_in_capitals, money

from . import commands as cmd
from .layout import column_widths, key_value, pad, table, text_width, wrap
from .profiles import LINE_PITCH, Profile
from .raster import render_lines
from .receipt import QR, Amount, Receipt, Row, Rule, Table, Text

#: Characters whose GB18030 code is in the 2-byte user-defined area FE50..FEA0 (some Ext-A name
#: characters such as 䶮): GB18030-2000/2005/2022 map them differently, so firmware fonts
#: disagree on them. Never trust the printer's font for these.
_FE_AREA = (0xFE50, 0xFEA0)


def _is_rare_ideograph(cp: int) -> bool:
    return (0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x3FFFF or 0xF900 <= cp <= 0xFAFF
            or 0x2E80 <= cp <= 0x2FDF)


def printer_can_print(ch: str, profile: Profile) -> bool:
    """Whether the printer's own font (Chinese mode) prints ``ch`` as the right glyph.

    ASCII always; full-width punctuation/symbols only with ``cjk_punctuation``; other
    characters must be in GBK (2-byte GB18030), or be a CJK ideograph with a 4-byte code on a
    printer with ``gb18030_4byte``.
    """
    cp = ord(ch)
    if 0x20 <= cp < 0x7F:
        return True
    if not profile.chinese_font or cp < 0x20 or cp == 0x7F:
        return False
    if unicodedata.category(ch)[0] in "PSZ" and not profile.cjk_punctuation:
        return False
    code = ch.encode("gb18030")
    if len(code) == 2:
        if _FE_AREA[0] <= int.from_bytes(code, "big") <= _FE_AREA[1]:
            return False
        try:
            ch.encode("gbk")
        except UnicodeEncodeError:
            return False
        return True
    return len(code) == 4 and profile.gb18030_4byte and _is_rare_ideograph(cp)


@dataclasses.dataclass(frozen=True)
class Line:
    """One laid-out line: text padded in columns, magnification, bold, and how it is sent
    (``"text"`` or ``"raster"``)."""

    text: str
    scale: int = 1
    bold: bool = False
    mode: str = "text"


@dataclasses.dataclass(frozen=True)
class QRItem:
    payload: str


@dataclasses.dataclass(frozen=True)
class Composed:
    """The bytes to send, and what they hold (for tests and the job log)."""

    data: bytes
    items: tuple  # Line and QRItem in order
    profile: Profile

    @property
    def lines(self) -> list[Line]:
        return [i for i in self.items if isinstance(i, Line)]

    def raster_lines(self) -> list[str]:
        return [ln.text.strip() for ln in self.lines if ln.mode == "raster"]

    def text_lines(self) -> list[str]:
        return [ln.text.strip() for ln in self.lines if ln.mode == "text"]


def _clean(s: str) -> str:
    """Control characters (tabs, stray CR) would move the print head: make them spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" and c != "\n" else c for c in s)


def layout(receipt: Receipt, profile: Profile, now: _dt.datetime | None = None) -> list:
    """The receipt as a list of :class:`Line` (not yet given a mode) and :class:`QRItem`."""
    cols = profile.columns
    out: list = []

    def lines(texts, scale=1, bold=False):
        out.extend(Line(_clean(t), scale, bold) for t in texts)

    title_cols = cols // 2
    lines([pad(t, title_cols, "center").rstrip() for t in wrap(_clean(receipt.title), title_cols)],
          scale=2, bold=True)
    if receipt.village:
        lines([pad(t, cols, "center").rstrip() for t in wrap(_clean(receipt.village), cols)])
    lines(["=" * cols])
    for b in receipt.blocks:
        if isinstance(b, Row):
            lines(key_value(_clean(b.key), _clean(b.value), cols))
        elif isinstance(b, Text):
            lines([pad(t, cols, b.align).rstrip() for t in wrap(_clean(b.text), cols)], bold=b.bold)
        elif isinstance(b, Rule):
            ch = b.char if text_width(b.char) == 1 else "-"
            lines([ch * cols])
        elif isinstance(b, Amount):
            lines(key_value(_clean(b.label), money(b.amount), cols))
            lines(key_value("大写", amount_in_capitals(b.amount), cols))
        elif isinstance(b, Table):
            n = len(b.header)
            aligns = list(b.aligns or ["left"] + ["right"] * (n - 1))
            rows = [list(map(_clean, b.header))] + [list(map(_clean, r)) for r in b.rows]
            if b.totals:
                rows.append(list(map(_clean, b.totals)))
            out.extend(_table_with_rules(rows, cols, aligns, bool(b.totals)))
        elif isinstance(b, QR):
            out.append(QRItem(b.payload))
            if b.caption:
                lines([pad(t, cols, "center").rstrip() for t in wrap(_clean(b.caption), cols)])
        else:
            raise TypeError(f"unknown receipt block {b!r}")
    f = receipt.footer_info
    if f is not None:
        printed = f.printed_at or now or _dt.datetime.now()
        lines(["-" * cols])
        # The kiosk screen's footer words (kiosk.cache.mirror), so staff compare like with like.
        lines(wrap(f"数据更新至 {f.data_as_of} · 第{f.seq}版 · 指纹 {f.fingerprint}", cols))
        lines(key_value("打印时间", printed.strftime("%Y-%m-%d %H:%M"), cols))
    return out


def _table_with_rules(rows: list[list[str]], cols: int, aligns: list[str], totals: bool) -> list[Line]:
    """Table lines with a rule under the header and above the totals; header and totals bold.

    The column widths are computed once over all rows so every part lines up.
    """
    widths = column_widths(rows, cols, aligns=aligns)

    def part(rs):
        return table(rs, cols, aligns, widths=widths)

    out = [Line(t, 1, True) for t in part(rows[:1])]
    out.append(Line("-" * cols))
    body = rows[1:-1] if totals else rows[1:]
    out += [Line(t) for t in part(body)] if body else []
    if totals:
        out.append(Line("-" * cols))
        out += [Line(t, 1, True) for t in part(rows[-1:])]
    return out


def _assign_modes(items: list, profile: Profile) -> list:
    res = []
    for it in items:
        if isinstance(it, Line):
            ok = profile.chinese_font and all(printer_can_print(c, profile) for c in it.text)
            it = dataclasses.replace(it, mode="text" if ok else "raster")
        res.append(it)
    return res


def qr_module(profile: Profile) -> int:
    """Dots per QR module: about 2.5 cm wide codes on both paper widths."""
    return 6 if profile.dots >= 512 else 5


def compose(receipt: Receipt, profile: Profile, now: _dt.datetime | None = None) -> Composed:
    """ESC/POS bytes for ``receipt`` on ``profile``.

    Raises:
        UnprintableText: a character neither the printer nor any installed font can draw.
        ValueError: a table with too many columns for the paper.
    """
    items = _assign_modes(layout(receipt, profile, now), profile)
    out = [cmd.INIT, cmd.line_spacing(LINE_PITCH)]
    pending: list[Line] = []

    def flush_raster():
        if pending:
            img = render_lines([(ln.text, ln.scale, ln.bold) for ln in pending], profile.dots)
            out.append(cmd.raster(img, profile.escpos_profile))
            pending.clear()

    for it in items:
        if isinstance(it, Line) and it.mode == "raster":
            pending.append(it)
            continue
        flush_raster()
        if isinstance(it, Line):
            out.append(cmd.char_size(it.scale, it.scale) + cmd.bold(it.bold)
                       + cmd.chinese_text(it.text) + cmd.LF)
            if it.scale != 1 or it.bold:
                out.append(cmd.char_size(1, 1) + cmd.bold(False))
        else:
            m = qr_module(profile)
            if profile.native_qr:
                out.append(cmd.qr_native(it.payload, m, profile.escpos_profile))
            else:
                out.append(cmd.raster(cmd.qr_image(it.payload, m, profile.dots), profile.escpos_profile))
    flush_raster()
    if profile.cutter:
        out.append(cmd.cut(feed_dots=3))  # GS V 66: feed to the cutter (+3 dots), partial cut
    else:
        out.append(cmd.feed(4))  # clear the tear bar
    return Composed(b"".join(out), tuple(items), profile)
