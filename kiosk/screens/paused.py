"""暂停服务: the page shown when the app cannot run (crash loop, malformed config.json), as
its own minimal program (``kiosk paused``, started by systemd: deploy/README.md "Recovery").

It draws plain labels and nothing else: no data screens, no shared widgets, no touch
targets, so it still starts when the app itself does not. What it says comes from
:func:`kiosk.services.recovery.paused_info`. :class:`PausedView` is also what the App
shows inside itself for the same page.
"""
from __future__ import annotations

import logging
import os

from kivy.app import App
from kivy.clock import Clock
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label

from kiosk.services.recovery import SORRY, TITLE, PausedInfo

log = logging.getLogger("kiosk.paused")

#: dark text on the warm off-white page of the other screens (contrast 15:1 and 7.6:1)
BG = (0.969, 0.961, 0.937, 1)
INK = (0.10, 0.11, 0.13, 1)
GREY = (0.30, 0.31, 0.33, 1)
ACCENT = (0.055, 0.227, 0.404, 1)


def _font(bold: bool = False) -> str | None:
    try:
        from kiosk import fonts

        return fonts.main_font_path(bold)
    except Exception as exc:  # noqa: BLE001 - any font beats no page
        log.warning("no Noto Sans CJK SC (%s); trying Hanazono", exc)
        for p in ("/usr/share/fonts/truetype/hanazono/HanaMinA.ttf",):
            if os.path.exists(p):
                return p
        return None


class PausedView(BoxLayout):
    """The page, sized from the window height (the text is at least 8 mm on a 21.5-inch
    1080-line panel: the smallest line is 1/28 of the height, 38 px ≈ 9.5 mm)."""

    def __init__(self, info: PausedInfo, height_px: int, **kw):
        super().__init__(orientation="vertical", padding=(height_px // 12, height_px // 14),
                         spacing=height_px // 40, **kw)
        with self.canvas.before:
            Color(*BG)
            self._bg = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._paint, size=self._paint)
        regular, bold = _font(False), _font(True)
        h = height_px

        def line(text, size, color=INK, font=regular, weight=1.0):
            kw = {"font_name": font} if font else {}
            lbl = Label(text=text, font_size=size, color=color, halign="center", valign="middle",
                        size_hint_y=weight, **kw)
            lbl.bind(size=lambda w, s: setattr(w, "text_size", s))
            self.add_widget(lbl)
            return lbl

        if info.place:
            line(f"{info.place} 村务公开查询终端", h // 26, GREY, regular, 0.6)
        line(TITLE, h // 7, ACCENT, bold, 1.6)
        line(SORRY, h // 16, INK, regular, 0.9)
        if info.phone:
            line(f"如需帮助，请联系{info.contact_label}：", h // 16, INK, regular, 0.9)
            line(info.phone, h // 9, INK, bold, 1.3)
        else:
            line(info.contact_text or "请联系村委会或乡镇工作人员。", h // 20, INK, regular, 1.4)
        line(f"（原因：{info.reason_zh}）", h // 28, GREY, regular, 0.6)

    def _paint(self, *_):
        self._bg.pos, self._bg.size = self.pos, self.size


class PausedApp(App):
    """The page full screen; ends by itself after ``retry_s`` seconds (exit code 75).

    ``closable``: a close request (the window's close button, Alt+F4, Ctrl+C in the
    terminal) ends it. Only for a kiosk started by hand (``kiosk run`` outside systemd, a
    malformed config.json): under systemd nothing closes the page."""

    title = TITLE

    def __init__(self, info: PausedInfo, retry_s: float | None, height_px: int, closable: bool = False, **kw):
        super().__init__(**kw)
        self.info, self.retry_s, self.height_px, self.closable = info, retry_s, height_px, closable
        self.retry_due = False

    def build(self):
        from kivy.core.window import Window

        if not self.closable:
            Window.bind(on_request_close=lambda *a, **k: True)  # no key or gesture closes it
        if self.retry_s:
            Clock.schedule_once(self._retry, self.retry_s)
        return PausedView(self.info, self.height_px)

    def open_settings(self, *args):  # F1 opens nothing
        return False

    def _retry(self, *_):
        self.retry_due = True
        self.stop()


def run(info: PausedInfo, retry_s: float | None, screenshot: str | None = None, closable: bool = False) -> bool:
    """Show the page in this process (Kivy configured before: kiosk.screens.kivyconfig) until
    ``retry_s`` seconds passed, or, ``closable``, it is closed; with ``screenshot``, save
    the laid-out page to that PNG and end. Returns whether it ended for a retry."""
    from kivy.config import Config

    app = PausedApp(info, retry_s, Config.getint("graphics", "height"), closable=closable)
    if screenshot:
        ticks = []

        def shoot(*_):
            # a few clock ticks in, the layout has sized the labels (a loaded machine takes
            # more wall time, never more ticks); then make sure every text is drawn
            ticks.append(1)
            if len(ticks) < 4:
                return True
            for w in app.root.walk():
                if isinstance(w, Label):
                    w.texture_update()
            app.root.export_to_png(os.path.abspath(screenshot))
            app.stop()
            return False
        app.bind(on_start=lambda *_: Clock.schedule_interval(shoot, 0))
    app.run()
    return app.retry_due
