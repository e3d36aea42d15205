"""ESC/POS command bytes.

The one-byte-pattern commands are written out here (each is a constant from the Epson ESC/POS
command reference; the table is in docs/printer.md, "ESC/POS commands used"). Raster images (``GS v 0``) and QR codes
(``GS ( k``, or a raster QR) come from python-escpos's ``Escpos.image`` / ``Escpos.qr`` through
its ``Dummy`` printer, which collects the bytes instead of sending them.

Chinese text does NOT go through python-escpos: its ``text()``/``MagicEncode`` GB18030-encodes
a chunk only when it holds a character in U+4E00..U+9FA5, so Chinese punctuation alone and
CJK Ext-A name characters come out as ``?``. :func:`chinese_text` encodes GB18030 itself
inside ``FS &`` … ``FS .``.
"""
from __future__ import annotations

from PIL import Image

ESC, GS, FS, DLE, EOT, LF = b"\x1b", b"\x1d", b"\x1c", b"\x10", b"\x04", b"\n"

INIT = ESC + b"@"
CHINESE_ON = FS + b"&"
CHINESE_OFF = FS + b"."

ALIGN_LEFT, ALIGN_CENTER, ALIGN_RIGHT = 0, 1, 2


def align(n: int) -> bytes:
    """``ESC a n``: 0 left, 1 centre, 2 right."""
    if n not in (0, 1, 2):
        raise ValueError(f"align must be 0, 1 or 2, not {n}")
    return ESC + b"a" + bytes([n])


def bold(on: bool) -> bytes:
    """``ESC E n``."""
    return ESC + b"E" + (b"\x01" if on else b"\x00")


def char_size(width: int = 1, height: int = 1) -> bytes:
    """``GS ! n``: magnification 1..8 each way (width-1 in the high nibble, height-1 in the low)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError("character magnification must be 1..8")
    return GS + b"!" + bytes([(width - 1) << 4 | (height - 1)])


def feed(lines: int) -> bytes:
    """``ESC d n``: print and feed ``lines`` lines (0..255)."""
    if not 0 <= lines <= 255:
        raise ValueError("feed lines must be 0..255")
    return ESC + b"d" + bytes([lines])


def cut(feed_dots: int = 0, partial: bool = True) -> bytes:
    """Cut. With ``feed_dots`` > 0: ``GS V 66 n`` (feed n dots to the cutter, then partial cut)
    or ``GS V 65 n`` (full); otherwise ``GS V 1`` (partial) / ``GS V 0`` (full)."""
    if feed_dots:
        if not 0 < feed_dots <= 255:
            raise ValueError("cut feed must be 1..255 dots")
        return GS + b"V" + (b"B" if partial else b"A") + bytes([feed_dots])
    return GS + b"V" + (b"\x01" if partial else b"\x00")


def status_request(n: int) -> bytes:
    """``DLE EOT n`` (n = 1 printer, 2 offline cause, 3 error cause, 4 paper sensor)."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT n must be 1..4, not {n}")
    return DLE + EOT + bytes([n])


def chinese_text(text: str) -> bytes:
    """``FS &`` + GB18030 bytes of ``text`` + ``FS .``.

    Raises:
        UnicodeEncodeError: never for valid str (GB18030 covers all of Unicode), but surrogates fail.
    """
    return CHINESE_ON + text.encode("gb18030") + CHINESE_OFF


def _dummy(escpos_profile: str):
    from .profiles import import_escpos

    return import_escpos("escpos.printer").Dummy(profile=escpos_profile)


def raster(image: Image.Image, escpos_profile: str) -> bytes:
    """``GS v 0`` raster bit image of ``image`` (black = ink), split in 960-dot strips by python-escpos.

    Raises:
        escpos.exceptions.ImageWidthError: wider than the profile's paper.
    """
    d = _dummy(escpos_profile)
    d.image(image, impl="bitImageRaster", center=False)
    return d.output


def qr_native(payload: str, module: int, escpos_profile: str) -> bytes:
    """``GS ( k`` QR (model 2, error correction M, ``module`` dots per module), centred with ``ESC a 1``."""
    from escpos.constants import QR_ECLEVEL_M

    d = _dummy(escpos_profile)
    d.qr(payload, ec=QR_ECLEVEL_M, size=module, native=True)
    return align(ALIGN_CENTER) + d.output + LF + align(ALIGN_LEFT)


def qr_image(payload: str, module: int, width: int) -> Image.Image:
    """A QR code (error correction M, 4-module quiet zone) centred on a ``width``-dot white strip."""
    import qrcode

    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=module, border=4)
    q.add_data(payload)
    q.make(fit=True)
    img = q.make_image(fill_color="black", back_color="white").get_image().convert("1")
    if img.width > width:
        raise ValueError(f"QR code is {img.width} dots wide, paper is {width}")
    strip = Image.new("1", (width, img.height), 1)
    strip.paste(img, ((width - img.width) // 2, 0))
    return strip


def line_spacing(dots: int) -> bytes:
    """``ESC 3 n``: line spacing of ``n`` vertical motion units (dots on 203/180 dpi printers)."""
    if not 0 <= dots <= 255:
        raise ValueError("line spacing must be 0..255")
    return ESC + b"3" + bytes([dots])
