"""Shared widgets of every screen: text with font fallback, big buttons, the screen frame
(header with 返回/首页, warning banner, footer with the data version) and paged lists.

Every widget that paints a background has ``bg_color`` (RGBA 0..1; alpha 0 = transparent),
so the size/contrast test can find the effective background of any text.
"""
from __future__ import annotations

import math
import os
import re

from kivy.app import App
from kivy.clock import Clock
from kivy.core.image import ImageData
from kivy.core.text import LabelBase
from kivy.core.text.markup import MarkupLabel as CoreMarkupLabel
from kivy.factory import Factory
from kivy.graphics.texture import Texture
from kivy.lang import Builder
from kivy.properties import (BooleanProperty, ListProperty, NumericProperty, ObjectProperty,
                             OptionProperty, StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.recycleboxlayout import RecycleBoxLayout
from kivy.uix.recycleview import RecycleView
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.utils import escape_markup

from kiosk import assets, fonts
from kiosk.formatting import cjk_text
from kiosk.linebreak import mark_name, strip_marks
from kiosk.screens import restyle
from kiosk.screens.palette import C
from kiosk.screens.theme import COLORS, LINE_HEIGHT, Theme
from kiosk.screens.wrapping import wrap_markup

MAIN_FONT = "KioskMain"
_font_names: dict[str, str] = {}


def register_fonts() -> None:
    """Register the SC main font (regular + real bold) and the fallbacks under short names
    (markup ``[font=…]`` then stays free of paths)."""
    if _font_names:
        return
    LabelBase.register(MAIN_FONT, fonts.main_font_path(), fn_bold=fonts.main_font_path(bold=True))
    _font_names[fonts.main_font_path()] = MAIN_FONT
    _font_names[fonts.main_font_path(bold=True)] = MAIN_FONT
    for i, path in enumerate(fonts.fallback_font_paths()):
        name = f"KioskFallback{i}"
        LabelBase.register(name, path)
        _font_names[path] = name


def rich(text, bold: bool = False) -> str:
    """Data text → Kivy markup: ASCII spaces → U+00A0, markup characters escaped, and each
    run of characters the main font lacks wrapped in ``[font=fallback]`` (so 䶮 or 𠈌 in a
    name never shows as a box). ``None`` → ``""``."""
    if text is None:
        return ""
    register_fonts()
    out = []
    for path, run in fonts.split_runs(cjk_text(str(text)), bold=bold):
        esc = escape_markup(run)
        name = _font_names.get(path, MAIN_FONT)
        out.append(esc if name == MAIN_FONT else f"[font={name}]{esc}[/font]")
    return "".join(out)


def unrich(markup) -> str:
    """Markup as made by :func:`rich` → the plain text a person reads (tags dropped, Kivy's
    escapes undone, U+00A0 back to a space)."""
    if not markup:
        return ""
    s = re.sub(r"\[/?(?:b|i|u|s|font|size|color|sub|sup|ref|anchor)(?:=[^\]]*)?\]", "", str(markup))
    return s.replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&").replace("\u00a0", " ")


def theme() -> Theme:
    return App.get_running_app().theme


class Painted:
    """Mixin: ``bg_color`` painted behind the widget (see widgets.kv)."""


#: alignments whose text can be cut out of its box exactly (not justify, which fills it)
CROPPED_HALIGN = ("left", "auto", "center", "right")
#: room for glyphs drawn past their advance width (bold, italics)
CROP_MARGIN_PX = 4
#: text extents kept by CoverageLabel.get_extents (a few MB at most)
EXTENTS_CACHE_MAX = 20000
#: px a wrapped line keeps free: its pieces are measured one by one, Kivy measures the line
WRAP_SLACK_PX = 2


class CoverageLabel(CoreMarkupLabel):
    """Kivy's markup text renderer keeping only the text's coverage: a luminance-alpha
    texture (white, alpha = coverage; 2 bytes per pixel instead of RGBA's 4) that the
    widget's canvas colours (``<-KLabel>`` in widgets.kv).

    Every label here has one colour (markup only sets size, bold and font), and on a
    software renderer (Mesa llvmpipe) textures live in process memory: label textures were
    the largest part of the kiosk's RSS (docs/performance.md).
    """

    #: drop the spacing Kivy leaves below the last line (KButton: centred text)
    trim_spacing = False

    #: text extents (w, h) in px per (font, size, style, text), shared by every label: Kivy's
    #: markup layout measures each run of characters again at every render (~20 calls per
    #: label, the largest cost of laying out a detail page); bounded by EXTENTS_CACHE_MAX
    _extents: dict = {}

    def get_extents(self, text):
        o = self.options
        key = (o["font_size"], o["font_name_r"], o["bold"], o["italic"], o["underline"], o["strikethrough"], text)
        ext = self._extents.get(key)
        if ext is None:
            if len(self._extents) >= EXTENTS_CACHE_MAX:
                self._extents.clear()
            ext = self._extents[key] = super().get_extents(text)
        return ext

    def _render_end(self):
        im = super()._render_end()  # ImageData 'rgba', straight (not premultiplied) alpha
        # Kivy's SDL2 text provider keeps its SDL surface (an RGBA copy of every label's
        # pixels) until that label renders again: ~40 MB over a walk through all screens
        self._surface = None
        la = bytearray(b"\xff") * (2 * im.width * im.height)
        la[1::2] = im.data[3::4]
        out = ImageData(im.width, im.height, "rgba", bytes(la))
        out.fmt = "luminance_alpha"  # ImageData's constructor does not list it; blit_data takes it
        return out

    def shown_text(self) -> str:
        """The markup Kivy lays out: with a wrap width, broken into lines by the shared 禁则
        rules (kiosk.screens.wrapping.wrap_markup: Kivy itself breaks Chinese between any
        two characters), name marks removed."""
        o, uw = self.options, self.usersize[0]
        if not uw or o["shorten"] or o["halign"] == "justify":
            return strip_marks(self.text)
        pad = o["padding"]
        width = uw - pad[0] - pad[2] - WRAP_SLACK_PX
        return wrap_markup(self.text, width, o["font_name"], o["font_size"], o["bold"])

    def layout_size(self) -> tuple[int, int]:
        """Lay the text out (:meth:`shown_text`) and return the texture's size."""
        source = self.text
        self.text = self.shown_text()
        try:
            width, height = self.render()
        finally:
            self.text = source
        lines = getattr(self, "_cached_lines", None)
        if self.trim_spacing and self.usersize[1] is None and lines and lines[-1].words:
            # with a wrap width Kivy puts a line's spacing below it, the last line's too: a
            # button's text then sat above its middle, its texture taller than a snug button
            natural = max(w.lh for w in lines[-1].words)
            if height >= sum(ln.h for ln in lines) - 1:  # (without a wrap width it does not)
                height -= max(0, int(lines[-1].h - natural))
        return width, height

    def refresh(self):
        # LabelBase.refresh (Kivy 2.3), creating the texture as luminance-alpha and only as
        # wide as the text: with a wrap width (text_size) Kivy makes it as wide as the box,
        # though most labels here are a few characters in a wide row (KLabel.texture_pos
        # puts the narrower texture where the wide one had its text)
        self.resolve_font_name()
        width, height = self.layout_size()
        uw = self.usersize[0]
        if uw and not self.options["shorten"] and self.options["halign"] in CROPPED_HALIGN:
            width = min(width, math.ceil(self._internal_size[0]) + CROP_MARGIN_PX)
        self._size_texture = self._size = width, height = int(width), int(height)
        if width <= 1 or height <= 1:
            self.texture = self.texture_1px
            return
        texture = self.texture
        if texture is None or texture.size != (width, height):  # (texture_1px is 1×1)
            texture = Texture.create(size=(width, height), colorfmt="luminance_alpha",
                                     mipmap=self.options["mipmap"], callback=self._texture_fill)
            texture.flip_vertical()
            texture.add_reload_observer(self._texture_refresh)
            self.texture = texture
        else:
            texture.ask_update(self._texture_fill)


class KLabel(Label):
    """Label in the SC font, markup on (use :func:`rich` for data), line height ≥ 1.3."""

    bg_color = ListProperty([0, 0, 0, 0])
    role = StringProperty("body")  # body | large | title | huge: one of the fixed sizes
    #: the colour the text sits on when a canvas shape (circle, hexagon) paints it rather
    #: than bg_color; the contrast test uses it
    contrast_bg = ListProperty([])
    #: no line spacing below the last line (see CoverageLabel.refresh)
    trim_spacing = False

    def __init__(self, **kw):
        register_fonts()
        kw.setdefault("font_name", MAIN_FONT)
        kw.setdefault("markup", True)
        kw.setdefault("line_height", LINE_HEIGHT)
        default = "color" not in kw
        kw.setdefault("color", C.text)
        super().__init__(**kw)
        if default:
            restyle.default_coloured.add(self)  # follows the palette unless a kv rule binds its colour

    def _create_label(self):
        if isinstance(self._label, CoverageLabel):
            return
        kw = {x: getattr(self, x) for x in self._font_properties}
        kw["usersize"] = self.text_size
        if self.disabled:
            kw["color"] = self.disabled_color
        self._label = CoverageLabel(**kw)
        self._label.trim_spacing = self.trim_spacing

    def texture_pos(self, *_):
        """Window position of the text texture: where Kivy puts a box-wide texture's text,
        for the text-wide textures of :class:`CoverageLabel` (bound in widgets.kv)."""
        tw, th = self.texture_size
        uw = self.text_size[0]
        if uw and self.halign in ("left", "auto"):
            x = self.center_x - uw / 2
        elif uw and self.halign == "right":
            x = self.center_x + uw / 2 - tw
        else:
            x = self.center_x - tw / 2
        return int(x), int(self.center_y - th / 2)

    def texture_update(self, *args):
        if restyle.defer(self):  # off the window while the text size changes: later
            return
        # Render into a new texture: rewriting the one the last frame drew makes a software
        # GL (Mesa llvmpipe) wait until that frame is rasterized (tens of ms, on every tap).
        if self._label.texture is not None:
            self._label.texture = None
            _dropped_textures()
        super().texture_update(*args)


_gl_state = {"bound": False}


def _dropped_textures() -> None:
    if not _gl_state["bound"]:
        from kivy.core.window import Window

        _gl_state["bound"] = True
        Window.bind(on_flip=_finish_frame)


def _finish_frame(*_args) -> None:
    """Wait after each drawn frame until the software renderer has rasterized it.

    Mesa llvmpipe queues frames and rasterizes them on its own threads; the main thread
    drew the next taps' frames faster than they were rasterized, and whichever GL call then
    had to wait paid for the whole queue (up to ~0.25 s on one tap). It also frees a deleted
    texture that a frame drew only once it notices that frame finished, which without a
    ``glFinish`` it never did: replaced label textures piled up (~10 MB per detail page).
    Waiting here costs each frame its own rasterization (~10-15 ms at 1280×800), no more;
    frames are drawn only when something changed, so an idle kiosk never waits.
    """
    from kivy.graphics.opengl import glFinish

    glFinish()


class AutoLabel(KLabel):
    """Label whose height follows its wrapped text (width from the layout)."""


class KButton(ButtonBehavior, KLabel):
    """A big touch target (≥ 20 mm both ways) with text, and optionally an icon.

    ``primary`` False = outlined; ``selected`` True = a switch that is on (filled with the
    palette's ``<selected_tone>_bg``). ``icon`` names an icon of kiosk.assets, drawn in the
    text's colour left of the text, or above it with ``icon_top``.
    """

    trim_spacing = True  # its text in the middle of the button
    primary = BooleanProperty(True)
    selected = BooleanProperty(False)
    #: palette prefix of a selected button's colours: chip_on (filters), tool_on (header)
    selected_tone = StringProperty("chip_on")
    wrap = BooleanProperty(True)  # False: the button sizes itself to its text (chips)
    border_color = ListProperty(COLORS["border"])
    icon = StringProperty("")
    icon_top = BooleanProperty(False)
    #: icon side in ems of the button's font size
    icon_em = NumericProperty(1.3)

    def colors(self, pal: dict, state: str, primary: bool, selected: bool, on: str) -> tuple:
        """(background, text) colours from palette ``pal`` (kv binds both to C.by_name)."""
        down = state == "down"
        if selected:
            return pal["pressed_bg"] if down else pal[on + "_bg"], pal[on + "_text"] if not down else pal["button_text"]
        if primary:
            return pal["pressed_bg"] if down else pal["button_bg"], pal["button_text"]
        return pal["pressed2_bg"] if down else pal["button2_bg"], pal["button2_text"]

    def icon_source(self, icon: str) -> str:
        """The icon's PNG: white, tinted with the text colour where it is drawn."""
        return assets.icon(icon, on_dark=True) if icon else ""

    def icon_side(self, font_size: float, *_) -> int:
        """Icon side in px for the text size (:attr:`icon_em` characters)."""
        return int(font_size * self.icon_em) if self.icon else 0

    def icon_room(self, font_size: float, icon_top: bool) -> tuple[int, int]:
        """(width, height) the icon takes beside or above the text, gap included."""
        side = self.icon_side(font_size)
        if not side:
            return 0, 0
        return (0, side + int(font_size * 0.2)) if icon_top else (side + int(font_size * 0.3), 0)

    def texture_pos(self, *_):
        x, y = super().texture_pos()
        rw, rh = self.icon_room(self.font_size, self.icon_top)
        if self.icon_top:
            return x, int(y - rh / 2)
        if self.text_size[0] and self.halign in ("left", "auto"):
            return x + rw, y
        return int(x + rw / 2), y

    def icon_pos(self, *_) -> tuple[int, int]:
        """Window position of the icon (bound in widgets.kv)."""
        side = self.icon_side(self.font_size)
        tx, ty = self.texture_pos()
        tw, th = self.texture_size
        if self.icon_top:
            return int(self.center_x - side / 2), int(ty + th + self.font_size * 0.2)
        return int(tx - self.icon_room(self.font_size, False)[0]), int(self.center_y - side / 2)


class Chip(KButton):
    """A selectable filter (year, month, class); ``selected`` shows it filled."""

    value = ObjectProperty(None)


class PBox(BoxLayout):
    """BoxLayout with a background colour."""

    bg_color = ListProperty([0, 0, 0, 0])


class KioskScreen(Screen):
    """Base of all screens. ``open(**params)`` is called by the app before the screen is
    shown; subclasses start their data loads there (work runs on the app's worker)."""

    title = StringProperty("")
    bg_color = ListProperty(COLORS["bg"])  # the palette's page colour (widgets.kv)
    loading = BooleanProperty(False)
    #: sections set this: while the kiosk is idle the app calls ``open()`` once per data
    #: version, so the first tap finds its first page rendered (KioskApp._prebuild)
    warm_on_idle = False
    #: (data fingerprint, seq, village) the screen was last opened for, by a tap or warming
    warmed_for = None

    def open(self, **params) -> None:  # pragma: no cover - overridden
        pass

    def frame_title(self) -> str:
        """The title in the screen's header, as plain text."""
        frame = next((w for w in self.children if isinstance(w, ScreenFrame)), None)
        return unrich(frame.title if frame is not None else self.title).strip()

    def spoken(self) -> list[tuple[str, str]]:
        """What 朗读 reads on this screen, in reading order: ``(label, text)`` pairs of plain
        text as shown — the title first (label ""), then the period and totals, then the
        record's fields (``("金额", "1,200.00 元")``); a label "" makes a sentence of its own.
        kiosk.speech turns them into speech (``SpeechService.speak_fields``: 科目代码 and
        指纹 are not read, phone numbers and 凭证号 digit by digit).

        This default reads the title and every text shown in the screen's body, top to
        bottom and left to right; screens with a record or a list say it better."""
        return [("", self.frame_title())] + [("", t) for t in shown_texts(self, skip_frame=True)]

    def prebuild(self) -> None:
        """Called once while the kiosk is idle after the screen was built ahead of use:
        create widgets its first page will need (see :func:`warm_pool`)."""

    def restyle(self) -> None:
        """The text size or the palette changed: redraw what Python code drew with the old
        sizes or colours (kv rules follow by themselves). Called for the screen on display
        at once, for the others before they are next shown (kiosk.screens.restyle)."""

    def load(self, fn, done) -> None:
        """Run ``fn(mirror)`` on the data service's worker; ``done(result)`` on the main thread."""
        App.get_running_app().data.submit(fn, done)

    #: id of the screen's PagedList, if it has one (:meth:`record_rows`)
    list_id = "list"

    def record_rows(self) -> list[dict]:
        """The rows of this screen's list that open a record (``{"target", "rec_id", ...}``),
        in list order; ``[]`` when it has none (work ahead opens the last one's record)."""
        lst = self.ids.get(self.list_id)
        data = getattr(lst, "data", None) or []
        return [r for r in data if r.get("target") and r.get("rec_id")]


class DetailScreen(KioskScreen):
    """Base of the screens that show one record (收支明细, 工程项目, 办事结果, 资产资源,
    权力清单).

    ``open(id=...)`` empties the containers named in :attr:`cleared`, shows :attr:`heading`
    and loads the record with :meth:`fetch` on the worker; :meth:`show` then fills the
    screen. A screen with a ``print_btn`` prints :meth:`receipt` of the record shown. A
    record that is not there (``None``) reads 没有这条记录.
    """

    printable = BooleanProperty(False)
    #: title while the record loads
    heading = ""
    #: ids of the containers emptied on open
    cleared = ("rows",)
    #: the record shown (a dict from the mirror), None before or when not found
    record = None
    #: the record asked for is not in the data (没有这条记录 shown)
    missing = False

    def fetch(self, mirror, id):  # pragma: no cover - overridden
        """The record ``id`` from ``mirror`` (runs on the worker), or None."""
        raise NotImplementedError

    def show(self, record: dict) -> None:  # pragma: no cover - overridden
        """Fill the screen from ``record``."""
        raise NotImplementedError

    def receipt(self, record: dict, info, link=None):  # pragma: no cover - overridden where printed
        """The receipt (kiosk.receipts) for ``record`` with the data version ``info`` and the
        viewer link ``link`` (its QR code; None: none)."""
        raise NotImplementedError

    def clear(self) -> None:
        for name in self.cleared:
            self.ids[name].clear_widgets()

    def open(self, id=None, **params):
        self.printable = False
        self.record, self.missing = None, False
        self.clear()
        to_top(self)  # every record opens at its top, not where the last visitor left off
        self.title = self.heading
        self.load(lambda m: self.fetch(m, id), self._got)

    def pairs(self, record: dict) -> list[tuple[str, str | None]]:
        """The record's fields as shown, in order (for :meth:`spoken`)."""
        return []

    def spoken(self) -> list[tuple[str, str]]:
        """The title, then the record's fields in order (:meth:`pairs`)."""
        if self.record is None:
            return [("", self.frame_title() or self.heading)] + ([("", "没有这条记录")] if self.missing else [])
        return [("", self.frame_title())] + [(k, str(v)) for k, v in self.pairs(self.record) if v not in (None, "")]

    def _got(self, record):
        self.record = record
        if record is None:
            self.missing = True
            kv_rows(self.ids.rows, [("", "没有这条记录")])
            return
        self.show(record)
        if "print_btn" in self.ids:
            self.ids.print_btn.build = lambda m, link: self.receipt(record, m.info, link)
            self.printable = True


class ScreenFrame(BoxLayout):
    """Header, banner, body and footer around a screen's content: children added in kv
    after construction go into the body.

    The header holds 返回 and 首页 (``show_nav``), the title and the place, and the
    controls for people who see or read poorly, one tap each: 朗读, 大字, 特大字, 高对比
    (words and icons). Where the title would get less than :attr:`TITLE_MIN_MM` beside the
    buttons (a narrow panel, 特大字), it takes the body size and the place is left out
    (``title_mode`` ``tight``: the body size of 特大字 is the title size of 标准); where not
    even four characters fit beside them, it gets a line of its own below (``row``).
    """

    title = StringProperty("")
    show_nav = BooleanProperty(True)
    show_footer = BooleanProperty(True)
    #: wide | tight | row (see the class docstring)
    title_mode = StringProperty("wide")
    #: the least room (mm at the text scale) the title gets beside the header's buttons
    TITLE_MIN_MM = 150

    def add_widget(self, widget, *args, **kw):
        if isinstance(widget, _FramePart) or "body" not in self.ids:
            return super().add_widget(widget, *args, **kw)
        return self.ids.body.add_widget(widget, *args, **kw)

    def on_kv_post(self, base_widget):
        ids = self.ids
        ids.bar.bind(width=self._place_title)
        ids.tools.bind(width=self._place_title)
        ids.back.bind(width=self._place_title)
        self.bind(show_nav=self._place_title)
        App.get_running_app().bind(theme=self._place_title)
        self._place_title()

    def _place_title(self, *_):
        ids = self.ids
        th = theme()
        nav = (ids.back.width + ids.home.width + 2 * ids.bar.spacing) if self.show_nav else 0
        room = ids.bar.width - nav - ids.tools.width - 2 * ids.bar.spacing
        if room >= th.mm(self.TITLE_MIN_MM):
            self.title_mode = "wide"
        elif room >= 4 * th.fonts["body"] + th.phys_mm(4):
            self.title_mode = "tight"
        else:
            self.title_mode = "row"
        box = ids.titlebox.__self__
        want = ids.narrow_slot if self.title_mode == "row" else ids.wide_slot
        if box.parent is not want:
            if box.parent is not None:
                box.parent.remove_widget(box)
            want.add_widget(box)


class ButtonRow(BoxLayout):
    """A row of big buttons, at least ``min_mm`` tall and as tall as the tallest one's words
    need where they wrap (大字, a narrow panel); height 0 while not ``shown``."""

    min_mm = NumericProperty(26)
    shown = BooleanProperty(True)

    def __init__(self, **kw):
        self._fit = Clock.create_trigger(self._update, -1)
        super().__init__(**kw)
        App.get_running_app().fbind("theme", self._fit)
        self.fbind("shown", self._fit)
        self.fbind("min_mm", self._fit)

    def add_widget(self, widget, *args, **kw):
        widget.fbind("texture_size", self._fit)
        super().add_widget(widget, *args, **kw)
        self._fit()

    def _update(self, *_):
        th = theme()
        self.height = 0 if not self.shown else max(
            [th.mm(self.min_mm)] + [c.texture_size[1] + th.mm(4) for c in self.children if hasattr(c, "texture_size")])


class _FramePart:
    """Marker for the frame's own parts (header, banner, body, footer)."""


class FrameHeader(_FramePart, PBox):
    pass


class FrameBody(_FramePart, BoxLayout):
    pass


class FrameBanner(_FramePart, AutoLabel):
    pass


class FrameFooter(_FramePart, AutoLabel):
    pass


_text_heights: dict = {}
_TEXT_HEIGHTS_MAX = 20000


def text_size_of(markup: str, width: float | None, font_size: int, bold: bool = False) -> tuple[int, int]:
    """(width, height) in px a :class:`RowLabel` needs for ``markup`` wrapped at ``width``
    (None: one line) in the main font: laid out as the label lays it out, without drawing it."""
    key = (markup, int(width or 0), font_size, bold)
    hit = _text_heights.get(key)
    if hit is None:
        register_fonts()
        core = CoverageLabel(text=markup, font_size=font_size, font_name=MAIN_FONT, bold=bold,
                             line_height=LINE_HEIGHT, text_size=(width, None), halign="left")
        core.trim_spacing = True
        core.resolve_font_name()
        if len(_text_heights) >= _TEXT_HEIGHTS_MAX:
            _text_heights.clear()
        hit = _text_heights[key] = core.layout_size() if markup else (0, 0)
    return hit


class RowLabel(KLabel):
    """A label of a list row: wrapped at its width, as tall as its lines (RowsLayout
    measures rows with :func:`text_size_of`, which lays text out the same way)."""

    trim_spacing = True


class FrameNotice(_FramePart, AutoLabel):
    """The lasting public notice above the footer (``app.trust_notice``: a PIN reset or a
    PIN-based key or scope change not yet confirmed by the county); on every screen. Its
    ``plain`` text is broken by the Chinese rules where it renders, like every KLabel's."""

    plain = StringProperty("")

    def on_plain(self, *_):
        self.text = rich(self.plain)


class ListRow(ButtonBehavior, PBox):
    """One row of a paged list: ``title`` (bold), ``sub`` and ``side`` (e.g. an amount).

    Title and sub wrap (禁则) rather than being shortened, so a row is as tall as its text
    (:meth:`geometry`, which :class:`RowsLayout` uses to size each row). The side text sits
    right of them while it takes at most :data:`SIDE_SHARE` of the row, else on a line of
    its own below them (``stacked``), right-aligned.
    """

    title = StringProperty("")
    sub = StringProperty("")
    side = StringProperty("")  # right-hand text, e.g. an amount
    #: the side text's colour as a palette name (income, expense): follows 高对比
    side_tone = StringProperty("")
    #: a fixed colour for the side text instead (RGBA; [] = the palette's text colour)
    side_color = ListProperty([])
    target = StringProperty("")
    rec_id = StringProperty("")
    index = NumericProperty(0)
    #: the row's date (ISO 8601), for a jump by date; "" when it has none
    date = StringProperty("")

    def spoken(self) -> list[tuple[str, str]]:
        """The row as 朗读 reads it: title, the line below it, the right-hand text."""
        return row_spoken({"title": self.title, "sub": self.sub, "side": self.side})

    #: the largest share of a row's width the side text takes beside the title
    SIDE_SHARE = 0.45
    PAD_MM = (4, 2)
    GAP_MM = 4

    def on_release(self):
        app = App.get_running_app()
        # while 朗读 is on, a tap reads the row; a second tap on the row being read opens it
        if getattr(app, "reading", False) and app.read_item(("row", self.target, self.rec_id, self.title), self.spoken()):
            return
        if self.target:
            app.go(self.target, id=self.rec_id)


    @classmethod
    def geometry(cls, width: float, title: str, sub: str, side: str, th: Theme) -> tuple:
        """``(stacked, text_width, side_width, height)`` of a row ``width`` px wide."""
        inner = max(1, width - 2 * th.mm(cls.PAD_MM[0]))
        # the side text on one line, with room to spare: the wrap measures it piece by piece
        side_w = text_size_of(side, None, th.fonts["large"], True)[0] + th.fonts["large"] // 2 if side else 0
        stacked = side_w > inner * cls.SIDE_SHARE
        if stacked:
            text_w, side_h = inner, text_size_of(side, inner, th.fonts["large"], True)[1]
            side_w = inner
        else:
            text_w = inner - (side_w + th.mm(cls.GAP_MM) if side else 0)
            side_h = text_size_of(side, None, th.fonts["large"], True)[1] if side else 0
        text_h = (text_size_of(title, text_w, th.fonts["body"], True)[1] if title else 0) + \
            (text_size_of(sub, text_w, th.fonts["body"])[1] if sub else 0)
        body = text_h + side_h if stacked else max(text_h, side_h)
        return stacked, text_w, side_w, max(th.target, body + 2 * th.mm(cls.PAD_MM[1]))


def row_spoken(data: dict) -> list[tuple[str, str]]:
    """A list row's data (``title``, ``sub``, ``side`` markup) as ``(label, text)`` pairs
    for 朗读; the " · " between parts of a line becomes a pause."""
    out = []
    for key in ("title", "sub", "side"):
        text = unrich(data.get(key, "")).strip()
        if text:
            out.append(("", "，".join(p.strip() for p in text.split(" · ") if p.strip())))
    return out


class RowsLayout(RecycleBoxLayout):
    """The rows of a PagedList, each as tall as its text (:meth:`ListRow.geometry`, or the
    ``row_height(item, width, theme)`` of another view class); measured again when the
    list's width or the text size changes. An item with a ``height`` keeps it."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self._measured_for = None
        self.fbind("width", self._remeasure)
        App.get_running_app().fbind("theme", self._remeasure)

    def add_widget(self, widget, *args, **kw):
        restyle.render_within(widget)  # a spare row may have put off its text on another screen
        return super().add_widget(widget, *args, **kw)

    def _remeasure(self, *_):
        rv = self.recycleview
        if rv is not None and rv.data and self._measured_for != (int(self.width), theme()):
            rv.refresh_from_data()

    def compute_sizes_from_data(self, data, flags):
        super().compute_sizes_from_data(data, flags)
        th = theme()
        width = self.width - self.padding[0] - self.padding[2]
        self._measured_for = (int(self.width), th)
        for item, opt in zip(data, self.view_opts):
            if opt.get("measured") != self._measured_for and "height" not in item:
                cls = opt["viewclass"]
                if cls is ListRow or not hasattr(cls, "row_height"):
                    opt["size"][1] = ListRow.geometry(width, item.get("title", ""), item.get("sub", ""),
                                                      item.get("side", ""), th)[3]
                else:  # another kind of row (a header) says how tall it is
                    opt["size"][1] = cls.row_height(item, width, th)
                opt["measured"] = self._measured_for


class ClipScroll(ScrollView):
    """ScrollView clipped by a scissor box rather than the stencil buffer (widgets.kv)."""


class SplitView(BoxLayout):
    """Panes side by side, each scrolling on its own, where the view is wide enough; else
    one under the other in one scrolling column (a narrow or portrait panel, 大字).

    The panes are the children given in kv, each with ``size_hint_y: None`` and a height
    (e.g. a GridLayout's ``minimum_height``). Side by side, pane *i* gets ``ratios[i]`` of
    the width; they stack where a pane would get less than ``min_pane_mm`` (mm at the text
    scale). A child with ``split_role: 'header'`` stays above the panes side by side and
    scrolls with them when they stack (it then takes no room of its own).
    """

    ratios = ListProperty([])
    min_pane_mm = NumericProperty(150)
    stacked = BooleanProperty(False)
    #: the scroll views the panes are in now (one when stacked)
    scrolls = ListProperty([])

    def __init__(self, **kw):
        self._panes: list = []
        self._header = None
        self._ready = False
        super().__init__(**kw)
        self.orientation = "vertical"

    def add_widget(self, widget, *args, **kw):
        if self._ready:
            return super().add_widget(widget, *args, **kw)
        self._panes.append(widget)  # a child from kv: placed by _arrange

    def on_kv_post(self, base_widget):
        # (kv sets a child's properties after adding it: the header is known only now)
        self._header = next((w for w in self._panes if getattr(w, "split_role", "") == "header"), None)
        self._panes = [w for w in self._panes if w is not self._header]
        self._ready = True
        self.fbind("width", self._arrange)
        self.fbind("ratios", self._rearrange)
        App.get_running_app().fbind("theme", self._arrange)
        self._arrange(force=True)

    def panes(self) -> list:
        return list(self._panes)

    def _rearrange(self, *_):
        self._arrange(force=True)

    def _ratios(self) -> list:
        """Each pane's share of the width; a pane with 0 is left out side by side (e.g. the
        请关注 boxes of a record without flags) and takes its own height when stacked."""
        r = list(self.ratios) if len(self.ratios) == len(self._panes) else [1] * len(self._panes)
        total = sum(r) or 1
        return [v / total for v in r]

    def _arrange(self, *_args, force: bool = False):
        th = theme()
        ratios = self._ratios()
        shown = [r for r in ratios if r > 0]
        if not self._panes or th is None or self.width <= 100:
            stacked = self.stacked
        else:
            stacked = len(shown) > 1 and min(shown) * self.width < th.mm(self.min_pane_mm)
        if stacked == self.stacked and not force and self.scrolls:
            return
        self.stacked = stacked
        for w in self._panes + [self._header]:
            if w is not None and w.parent is not None:
                w.parent.remove_widget(w)
        self.clear_widgets()
        scrolls = []
        if stacked:
            sv = Factory.DetailScroll()
            col = BoxLayout(orientation="vertical", size_hint_y=None, spacing=th.mm(6))
            col.bind(minimum_height=col.setter("height"))
            for w in ([self._header] if self._header is not None else []) + self._panes:
                col.add_widget(w)
            sv.add_widget(col)
            self.add_widget(sv)
            scrolls.append(sv)
        else:
            if self._header is not None:
                self.add_widget(self._header)
            row = BoxLayout(spacing=self.spacing)
            for pane, r in zip(self._panes, ratios):
                if r <= 0:
                    continue
                sv = Factory.DetailScroll(size_hint_x=r)
                sv.add_widget(pane)
                row.add_widget(sv)
                scrolls.append(sv)
            self.add_widget(row)
        self.scrolls = scrolls

    def scroll_to_top(self) -> None:
        for sv in self.scrolls:
            sv.scroll_y = 1


class PagedList(RecycleView):
    """RecycleView that asks for one page at a time and the next when scrolled near the end.

    ``fetch(mirror, after) -> Page`` runs on the worker; ``to_row(record) -> dict`` builds a
    row's data (ListRow properties) on the main thread.

    A page appended below keeps every row shown where it was: Kivy's ScrollView keeps
    ``scroll_y`` (a fraction of the scrollable height) when its content grows, so each new
    page moved the rows under a dragging finger down by most of a page (a slow drag through
    a year's 财务收支 jumped ~190 rows, pages loading one after another while the fraction
    stayed near the end). :meth:`_content_resized` turns the fraction back into the same
    distance from the top.
    """

    empty_text = StringProperty("没有记录")
    exhausted = BooleanProperty(False)
    #: whether the list is scrolled down by more than a screenful (the 回到顶部 button shows)
    scrolled_down = BooleanProperty(False)
    #: the next page is asked for when fewer than this many view heights are left below
    MORE_WITHIN_VIEWS = 2.0

    def __init__(self, **kw):
        # rows never scroll sideways; with horizontal scrolling on, a drag starting in the
        # bottom bar_width of the list was taken for the (invisible) horizontal bar and
        # moved nothing
        kw.setdefault("do_scroll_x", False)
        super().__init__(**kw)
        self._fetch = None
        self._to_row = None
        self._next = None
        self._busy = False
        self._gen = 0
        self._content_h = 0.0
        self._content_rows = 0  # rows the content height was last measured with
        self._after_page = None  # called once the next page has arrived (jump_to)
        self.bind(scroll_y=self._maybe_more, viewport_size=self._content_resized, height=self._maybe_more)

    def start(self, fetch, to_row) -> None:
        """Forget the rows and load the first page, scrolled to the top.

        The old rows stay until the first page replaces them (the app keeps a tapped screen
        back until its data arrived), so rows whose text did not change are not rendered
        again; if the page is slow, they are cleared after ``STALE_S``."""
        self._fetch, self._to_row = fetch, to_row
        self._gen += 1
        self._next = None
        self._after_page = None
        self.exhausted = False
        self.to_top()
        self._busy = False
        gen = self._gen
        Clock.schedule_once(lambda dt: self._drop_stale(gen), self.STALE_S)
        self._request(None)

    def show_rows(self, rows: list[dict]) -> None:
        """Show ``rows`` (all of a short list, e.g. the power list) at the top."""
        self._gen += 1
        self._fetch, self._next, self._busy, self._after_page = None, None, False, None
        self.exhausted = True
        self.data = [dict(r, index=i) for i, r in enumerate(rows)]
        self.to_top()

    def to_top(self) -> None:
        """回到顶部: the first row at the top, any fling stopped."""
        eff = self.effect_y
        if eff is not None:
            eff.velocity = 0
        self.scroll_y = 1
        self._update_effect_y_bounds()

    #: seconds the previous rows may stay while the first page of a new listing loads
    STALE_S = 0.2

    def _drop_stale(self, gen) -> None:
        if gen == self._gen and self._busy and self._next is None:
            self.data = []

    def _request(self, after) -> None:
        if self._busy or self._fetch is None:
            return
        self._busy = True
        gen, fetch = self._gen, self._fetch

        def done(page):
            if gen != self._gen:  # a newer start() replaced this list
                return
            self._busy = False
            base = 0 if after is None else len(self.data)
            rows = [dict(self._to_row(r), index=base + i) for i, r in enumerate(page.rows)]
            if after is None:
                self.data = rows  # the first page replaces whatever was there
            else:
                self.data.extend(rows)
            self._next = page.next
            self.exhausted = page.next is None
            then, self._after_page = self._after_page, None
            Clock.schedule_once(self._maybe_more, 0)
            if then is not None:
                then()

        App.get_running_app().data.submit(lambda m: fetch(m, after), done)

    def _content_resized(self, _inst, size) -> None:
        """The rows' height changed (a page appended, the first page shown, rows made taller
        by 大字): keep the same row at the top, at the same place, so the rows shown stay
        under the finger. A page appended below changes nothing above: the distance from
        the top stays. The same rows grown or shrunk (大字) scale it by their new height."""
        old, new = self._content_h, float(size[1])
        old_n, new_n = self._content_rows, len(self.data)
        self._content_h, self._content_rows = new, new_n
        if old <= 0 or new == old:
            return
        h = self.height
        old_range, new_range = old - h, new - h
        if old_range <= 0 or new_range <= 0:
            return
        from_top = (1.0 - self.scroll_y) * old_range  # px scrolled down (overscroll included)
        if old_n and new_n == old_n:
            from_top *= new / old  # the same rows, each as much taller
        self.scroll_y = 1.0 - from_top / new_range
        self._update_effect_y_bounds()  # the scroll effect (drag, fling) continues from here

    def jump_to(self, match, done=None) -> None:
        """Scroll so that the first row whose data ``match(row)`` accepts is at the top,
        loading the pages before it (so dragging back up shows every row above); with no
        such row, the end of the list. ``done(index)`` is called once there."""
        gen = self._gen

        def attempt():
            if gen != self._gen:  # the list was started anew meanwhile
                return
            i = next((i for i, r in enumerate(self.data) if match(r)), None)
            if i is None and not self.exhausted and self._fetch is not None:
                self._after_page = attempt
                if not self._busy:
                    self._request(self._next)
                return
            if i is None:
                i = max(0, len(self.data) - 1)
            self.scroll_to_index(i, done)

        attempt()

    def scroll_to_index(self, i: int, done=None, _tries: int = 20) -> None:
        """Put row ``i`` at the top of the view (or scroll as far as the list goes), once the
        layout has placed it."""
        lm = self.layout_manager
        opts = getattr(lm, "view_opts", None) or []
        if len(opts) != len(self.data) or not opts or abs(self._content_h - lm.height) > 0.5:
            if _tries:
                Clock.schedule_once(lambda _dt: self.scroll_to_index(i, done, _tries - 1), 0)
            return
        i = max(0, min(i, len(opts) - 1))
        top_i = opts[i]["pos"][1] + opts[i]["size"][1]
        rng = self._content_h - self.height
        if self.effect_y is not None:
            self.effect_y.velocity = 0
        self.scroll_y = 1.0 if rng <= 0 else max(0.0, min(1.0, 1.0 - (self._content_h - top_i) / rng))
        self._update_effect_y_bounds()
        if done is not None:
            done(i)

    def shown_rows(self) -> list[dict]:
        """The data of the rows wholly inside the view now, top to bottom."""
        opts = getattr(self.layout_manager, "view_opts", None) or []
        if len(opts) != len(self.data):
            return []
        bottom = max(0.0, self.scroll_y * (self._content_h - self.height)) if self._content_h > self.height else self._content_h - self.height
        top = bottom + self.height
        out = [(o["pos"][1], d) for o, d in zip(opts, self.data)
               if o["pos"][1] >= bottom - 0.5 and o["pos"][1] + o["size"][1] <= top + 0.5]
        return [d for _, d in sorted(out, key=lambda t: -t[0])]

    def below_px(self) -> float:
        """Pixels of rows below the view (0 at the end)."""
        return max(0.0, self.scroll_y * (self._content_h - self.height))

    def _maybe_more(self, *_):
        top_gap = (1.0 - self.scroll_y) * max(0.0, self._content_h - self.height)
        self.scrolled_down = top_gap > self.height
        if self._busy or self.exhausted or self._fetch is None or self._next is None:
            return
        # near the end: fewer than MORE_WITHIN_VIEWS screenfuls below, or the rows do not
        # fill the view yet
        if self._content_h <= self.height or self.below_px() < self.height * self.MORE_WITHIN_VIEWS:
            self._request(self._next)


Builder.load_file(os.path.join(os.path.dirname(__file__), "widgets.kv"))


#: keys whose value is a person's or an organisation's name (what follows a full-width
#: bracket, e.g. 审核人's （村务监督委员会）, is not part of it): never split across lines
NAME_KEYS = frozenset({"经手人", "审核人", "审批人", "申请人", "施工单位", "承租方", "承包方", "流入方",
                       "买受方", "交易对方", "负责人"})
#: keys whose value lists names with 、
NAME_LIST_KEYS = frozenset({"监督人"})


def mark_names(key: str, value: str) -> str:
    """``value`` with the names in it marked (:func:`kiosk.linebreak.mark_name`) when ``key``
    is one of :data:`NAME_KEYS` or :data:`NAME_LIST_KEYS`: the label then never breaks a
    line inside a name, and 朗读 reads its first character as a surname."""
    if key in NAME_LIST_KEYS:
        return "、".join(mark_name(n) for n in value.split("、"))
    if key in NAME_KEYS:
        name, bracket, rest = value.partition("（")
        return mark_name(name) + bracket + rest
    return value


def kv_rows(container, pairs, heading: str | None = None) -> None:
    """Add ``(key, value)`` rows (plain text; shown with :func:`rich`) to ``container``.
    Pairs whose value is None or "" are left out. Rows come from the container's pool
    (:func:`pooled`), so a detail screen opened again re-renders only the changed texts.
    Names in the values are marked (:func:`mark_names`)."""
    if heading:
        container.add_widget(pooled(container, 'Heading', text=rich(heading)))
    for k, v in pairs:
        if v is None or v == "":
            continue
        container.add_widget(pooled(container, 'KVRow', key=rich(k), value=rich(mark_names(k, str(v)))))


def walk_labels(root):
    """Every KLabel in ``root``'s tree, ``root`` included."""
    if isinstance(root, KLabel):
        yield root
    for c in root.children:
        yield from walk_labels(c)


def pooled(container, cls_name: str, **props):
    """A widget of kv class ``cls_name`` for ``container``: one it made earlier that is not
    shown now (``container.clear_widgets()`` puts them all back), else a new one; then
    ``props`` are set. The caller adds it to the container.

    Why: creating a Kivy widget tree from kv rules costs milliseconds per row and renders
    each label at its default width first; a reused row keeps its laid-out width, and a
    label whose text did not change (the keys of a detail page) is not rendered again.
    Rows are handed out in the order they were first made, so row *i* gets row *i* back.
    """
    pools = getattr(container, "_kiosk_pools", None)
    if pools is None:
        pools = container._kiosk_pools = {}
    pool = pools.setdefault(cls_name, [])
    w = next((w for w in pool if w.parent is None), None)
    if w is None:
        w = getattr(Factory, cls_name)()
        pool.append(w)
    for k, v in props.items():
        setattr(w, k, v)
    return w


def warm_pool(container, cls_name: str, n: int) -> None:
    """Create ``n`` widgets of kv class ``cls_name`` in ``container``'s pool ahead of use
    (:func:`pooled`), so the first page shown does not pay for creating its rows."""
    pools = getattr(container, "_kiosk_pools", None)
    if pools is None:
        pools = container._kiosk_pools = {}
    pool = pools.setdefault(cls_name, [])
    while len(pool) < n:
        pool.append(getattr(Factory, cls_name)())


def make(cls_name: str, **props):
    """Instantiate a kv dynamic class (``<Name@Base>``) and set its properties (they cannot
    be passed to ``__init__``)."""
    w = getattr(Factory, cls_name)()
    for k, v in props.items():
        setattr(w, k, v)
    return w


def to_top(root) -> None:
    """Scroll every scrolling view in ``root``'s tree to its top (and left edge), stopping
    any fling: a screen opened anew starts at its beginning."""
    for w in _walk(root):
        if isinstance(w, ScrollView):
            for eff in (w.effect_x, w.effect_y):
                if eff is not None:
                    eff.velocity = 0
            if isinstance(w, PagedList):
                w.to_top()
            else:
                w.scroll_y, w.scroll_x = 1, 0
                w._update_effect_bounds()


def _walk(w):
    yield w
    for c in w.children:
        yield from _walk(c)


def _visible(w, stop) -> bool:
    while w is not None and w is not stop:
        if w.opacity == 0 or w.width <= 0 or w.height <= 0:
            return False
        w = w.parent
    return True


def shown_texts(root, skip_frame: bool = False) -> list[str]:
    """The plain texts of the labels shown in ``root`` (visible, inside the window), top to
    bottom then left to right; with ``skip_frame`` not the frame's header, banner and
    footer. For :meth:`KioskScreen.spoken`."""
    from kivy.core.window import Window

    found = []
    for w in _walk(root):
        if skip_frame and isinstance(w, _FramePart) and not isinstance(w, FrameBody):
            continue
        if not isinstance(w, Label) or not w.text or not _visible(w, root):
            continue
        if skip_frame and any(isinstance(a, (FrameHeader, FrameBanner, FrameFooter)) for a in _ancestors(w, root)):
            continue
        x, y = w.to_window(w.x, w.y)
        if y + w.height <= 0 or y >= Window.height or x + w.width <= 0 or x >= Window.width:
            continue
        text = unrich(w.text).strip()
        if text:
            found.append((-(y + w.height), x, text))
    out: list[str] = []
    for _, _, text in sorted(found, key=lambda t: (round(t[0]), t[1])):
        if text not in out:
            out.append(text)
    return out


def _ancestors(w, stop):
    w = w.parent
    while w is not None and w is not stop and w is not w.parent:
        yield w
        w = w.parent
