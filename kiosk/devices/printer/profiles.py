"""Printer profiles: what each printer model can print.

Paper width, dpi, native QR and cutter come from python-escpos's capability database
(``escpos.capabilities``, the escpos-printer-db project) through ``escpos_profile``; that
database says nothing about Chinese fonts, so the Chinese-font fields are ours, from the
vendors' manuals (docs/printer.md, "Chinese text on receipt printers").
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import logging

from .errors import UnknownProfile

#: Font A cell: 12×24 dots for ASCII, 24×24 for a Chinese character (both 203 and 180 dpi models).
CELL_W = 12
CELL_H = 24
#: Dots from one text line's top to the next (ESC 2 default is 1/6 inch ≈ 30 dots at 180 dpi).
LINE_PITCH = 30


@dataclasses.dataclass(frozen=True)
class Profile:
    """One printer model.

    Attributes:
        name: our name (``pos58``…), used in config ``printer.profile``.
        description: human name.
        escpos_profile: python-escpos capability profile the dot width, QR and cutter come from.
        dots: printable width in dots (384 for 58 mm, 576 for 80 mm at 203 dpi, 512 for TM-T88).
        dpi: dots per inch.
        chinese_font: the printer has a GB18030/GBK font and takes ``FS &`` Chinese mode.
        gb18030_4byte: its font has glyphs for 4-byte GB18030 characters (CJK Ext-A/B name characters).
        cjk_punctuation: its font has the full-width Chinese punctuation (，。、：“”《》).
        native_qr: it understands ``GS ( k`` QR codes.
        cutter: it has an auto-cutter.
        usb_ids: VID:PID pairs (lower-case hex ``"0416:5011"``) known for this model.
    """

    name: str
    description: str
    escpos_profile: str
    dots: int
    dpi: int
    chinese_font: bool
    gb18030_4byte: bool
    cjk_punctuation: bool
    native_qr: bool
    cutter: bool
    usb_ids: tuple[str, ...] = ()

    @property
    def columns(self) -> int:
        """Half-width (ASCII) columns per line in font A; a Chinese character takes two."""
        return self.dots // CELL_W


def import_escpos(module: str):
    """Import a python-escpos module without the ``logging.basicConfig()`` that
    ``escpos.capabilities`` runs at import (python-escpos 3.1): that root handler would print
    every logged warning on stderr, e.g. next to the CLI's own one-line error."""
    root = logging.getLogger()
    before = list(root.handlers)
    mod = importlib.import_module(module)
    for h in list(root.handlers):
        if h not in before:
            root.removeHandler(h)
    return mod


@functools.lru_cache(maxsize=None)
def _escpos_caps(name: str) -> tuple[int, int, bool, bool]:
    """(dots, dpi, qrCode, cutter) from python-escpos's capability database."""
    get_profile = import_escpos("escpos.capabilities").get_profile

    data = get_profile(name).profile_data
    media, feat = data["media"], data["features"]
    return (
        int(media["width"]["pixels"]),
        int(media.get("dpi", 203)),
        bool(feat.get("qrCode")),
        bool(feat.get("paperFullCut") or feat.get("paperPartCut")),
    )


def _make(name: str, description: str, escpos_profile: str, *, chinese_font: bool,
          gb18030_4byte: bool, cjk_punctuation: bool, usb_ids: tuple[str, ...] = (),
          **override) -> Profile:
    dots, dpi, qr, cutter = _escpos_caps(escpos_profile)
    fields = dict(dots=dots, dpi=dpi, native_qr=qr, cutter=cutter)
    fields.update(override)
    return Profile(name=name, description=description, escpos_profile=escpos_profile,
                   chinese_font=chinese_font, gb18030_4byte=gb18030_4byte,
                   cjk_punctuation=cjk_punctuation, usb_ids=usb_ids, **fields)


@functools.lru_cache(maxsize=None)
def profiles() -> dict[str, Profile]:
    """Every known profile by name."""
    items = [
        # Cheap 58 mm Chinese printers (POS-58/Zjiang/Gprinter 58): GB2312/GBK font, no native QR,
        # no cutter (tear bar). python-escpos "POS-5890": 384 dots, no qrCode, no cut.
        _make("pos58", "58 mm POS-58 / Zjiang / Gprinter (GBK font)", "POS-5890",
              chinese_font=True, gb18030_4byte=False, cjk_punctuation=True,
              usb_ids=("0416:5011",)),
        # Xprinter XP-80 class (80 mm, GB18030 font with 4-byte glyphs, QR, cutter). python-escpos has
        # no Xprinter entry; NT-80-V-UL is the same generic 80 mm Chinese mechanism (576 dots, QR, cut).
        _make("xprinter80", "80 mm Xprinter XP-80 class (GB18030 font)", "NT-80-V-UL",
              chinese_font=True, gb18030_4byte=True, cjk_punctuation=True,
              usb_ids=("1fc9:2016",)),
        # Epson sold outside China: no Chinese font, so the whole receipt goes as raster.
        _make("epson-tm-t20", "Epson TM-T20 (no Chinese font, 203 dpi)", "TM-T20II",
              chinese_font=False, gb18030_4byte=False, cjk_punctuation=False,
              usb_ids=("04b8:0e15", "04b8:0e28")),
        _make("epson-tm-t88", "Epson TM-T88 (no Chinese font, 180 dpi)", "TM-T88V",
              chinese_font=False, gb18030_4byte=False, cjk_punctuation=False,
              usb_ids=("04b8:0202",)),
    ]
    return {p.name: p for p in items}


def get_profile(name: str | None = None) -> Profile:
    """The profile called ``name`` (``None``: the config's ``printer.profile``).

    Raises:
        UnknownProfile: no such profile.
    """
    if name is None:
        from kiosk import config

        name = config.load()["printer"].get("profile") or "pos58"
    try:
        return profiles()[name]
    except KeyError:
        raise UnknownProfile(
            f"unknown printer profile {name!r} (known: {', '.join(profiles())})",
            f"未知的打印机型号 {name}",
        ) from None


def profile_for_usb(vid_pid: str) -> Profile | None:
    """The profile whose ``usb_ids`` hold ``vid_pid``, if any."""
    for p in profiles().values():
        if vid_pid.lower() in p.usb_ids:
            return p
    return None
