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
                             StringProperty)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.recycleview import RecycleView
from kivy.uix.screenmanager import Screen
from kivy.uix.scrollview import ScrollView
from kivy.utils import escape_markup

from kiosk import fonts
from kiosk.formatting import cjk_text
from kiosk.screens.theme import COLORS, LINE_HEIGHT, Theme

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


class CoverageLabel(CoreMarkupLabel):
    """Kivy's markup text renderer keeping only the text's coverage: a luminance-alpha
    texture (white, alpha = coverage; 2 bytes per pixel instead of RGBA's 4) that the
    widget's canvas colours (``<-KLabel>`` in widgets.kv).

    Every label here has one colour (markup only sets size, bold and font), and on a
    software renderer (Mesa llvmpipe) textures live in process memory: label textures were
    the largest part of the kiosk's RSS (docs/performance.md).
    """

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

    def refresh(self):
        # LabelBase.refresh (Kivy 2.3), creating the texture as luminance-alpha and only as
        # wide as the text: with a wrap width (text_size) Kivy makes it as wide as the box,
        # though most labels here are a few characters in a wide row (KLabel.texture_pos
        # puts the narrower texture where the wide one had its text)
        self.resolve_font_name()
        width, height = self.render()
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

    def __init__(self, **kw):
        register_fonts()
        kw.setdefault("font_name", MAIN_FONT)
        kw.setdefault("markup", True)
        kw.setdefault("line_height", LINE_HEIGHT)
        kw.setdefault("color", COLORS["text"])
        super().__init__(**kw)

    def _create_label(self):
        if isinstance(self._label, CoverageLabel):
            return
        kw = {x: getattr(self, x) for x in self._font_properties}
        kw["usersize"] = self.text_size
        if self.disabled:
            kw["color"] = self.disabled_color
        self._label = CoverageLabel(**kw)

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
    """A big touch target (≥ 20 mm both ways) with text; ``primary`` False = outlined."""

    primary = BooleanProperty(True)
    wrap = BooleanProperty(True)  # False: the button sizes itself to its text (chips)
    border_color = ListProperty(COLORS["border"])


class Chip(KButton):
    """A selectable filter (year, month, class); ``selected`` shows it filled."""

    selected = BooleanProperty(False)
    value = ObjectProperty(None)


class PBox(BoxLayout):
    """BoxLayout with a background colour."""

    bg_color = ListProperty([0, 0, 0, 0])


class KioskScreen(Screen):
    """Base of all screens. ``open(**params)`` is called by the app before the screen is
    shown; subclasses start their data loads there (work runs on the app's worker)."""

    title = StringProperty("")
    bg_color = ListProperty(COLORS["bg"])
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
    """Header (返回, title, village, 首页), banner, body and footer around a screen's
    content: children added in kv after construction go into the body."""

    title = StringProperty("")
    show_nav = BooleanProperty(True)
    show_footer = BooleanProperty(True)

    def add_widget(self, widget, *args, **kw):
        if isinstance(widget, _FramePart) or "body" not in self.ids:
            return super().add_widget(widget, *args, **kw)
        return self.ids.body.add_widget(widget, *args, **kw)


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


class ListRow(ButtonBehavior, PBox):
    """One row of a paged list: ``title`` (bold), ``sub`` and ``side`` (e.g. an amount)."""

    title = StringProperty("")
    sub = StringProperty("")
    side = StringProperty("")  # right-hand text, e.g. an amount
    side_color = ListProperty(COLORS["text"])
    target = StringProperty("")
    rec_id = StringProperty("")
    index = NumericProperty(0)
    #: the row's date (ISO 8601), for a jump by date; "" when it has none
    date = StringProperty("")

    def spoken(self) -> list[tuple[str, str]]:
        """The row as 朗读 reads it: title, the line below it, the right-hand text."""
        return row_spoken({"title": self.title, "sub": self.sub, "side": self.side})

    def on_release(self):
        app = App.get_running_app()
        # while 朗读 is on, a tap reads the row; a second tap on the row being read opens it
        if getattr(app, "reading", False) and app.read_item(("row", self.target, self.rec_id, self.title), self.spoken()):
            return
        if self.target:
            app.go(self.target, id=self.rec_id)


def row_spoken(data: dict) -> list[tuple[str, str]]:
    """A list row's data (``title``, ``sub``, ``side`` markup) as ``(label, text)`` pairs
    for 朗读; the " · " between parts of a line becomes a pause."""
    out = []
    for key in ("title", "sub", "side"):
        text = unrich(data.get(key, "")).strip()
        if text:
            out.append(("", "，".join(p.strip() for p in text.split(" · ") if p.strip())))
    return out


class ClipScroll(ScrollView):
    """ScrollView clipped by a scissor box rather than the stencil buffer (widgets.kv)."""


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


def kv_rows(container, pairs, heading: str | None = None) -> None:
    """Add ``(key, value)`` rows (plain text; shown with :func:`rich`) to ``container``.
    Pairs whose value is None or "" are left out. Rows come from the container's pool
    (:func:`pooled`), so a detail screen opened again re-renders only the changed texts."""
    if heading:
        container.add_widget(pooled(container, 'Heading', text=rich(heading)))
    for k, v in pairs:
        if v is None or v == "":
            continue
        container.add_widget(pooled(container, 'KVRow', key=rich(k), value=rich(v)))


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
