"""What floats above every screen without moving it: the 继续使用 countdown before the idle
return, and a short notice (e.g. why 朗读 says nothing now).

Both sit on the window above the screen manager at the bottom centre and never change the
layout below, so nothing moves under a finger when they appear; a touch outside them passes
through to the screen (and, being activity, ends the countdown).
"""
from __future__ import annotations

import os

from kivy.clock import Clock
from kivy.lang import Builder
from kivy.properties import NumericProperty, StringProperty
from kivy.uix.floatlayout import FloatLayout

from kiosk.screens.widgets import PBox


class _Floating(PBox):
    """A box put on the window (above the screens) while shown."""

    #: distance of the box's foot from the window's foot, in mm
    FOOT_MM = 14

    def show(self) -> None:
        from kivy.app import App
        from kivy.core.window import Window

        if self.parent is None:
            Window.add_widget(self)
        mm = App.get_running_app().theme.mm
        self.width = min(self.width_mm and mm(self.width_mm) or self.width, Window.width * 0.94)
        self.pos = ((Window.width - self.width) / 2, mm(self.FOOT_MM))

    width_mm = 0

    def hide(self) -> None:
        if self.parent is not None:
            self.parent.remove_widget(self)

    @property
    def shown(self) -> bool:
        return self.parent is not None


class IdleCountdown(_Floating):
    """继续使用 with the seconds left before the idle return (``seconds``) and what will
    happen (``what``: 回到首页, or 关闭您的信息 on a person's own records)."""

    seconds = NumericProperty(0)
    what = StringProperty("将回到首页")
    width_mm = 250

    def on_touch_down(self, touch):
        # a touch on the box is 继续使用 wherever it lands (the App counts it as activity
        # before the window gets here); nothing below the box may take it
        if self.collide_point(*touch.pos):
            super().on_touch_down(touch)
            return True
        return False


class Notice(_Floating):
    """A short message (``text``) shown for ``seconds`` then hidden."""

    text = StringProperty("")
    SECONDS = 4.0
    width_mm = 240
    FOOT_MM = 60

    def say(self, text: str) -> None:
        self.text = text
        self.show()
        Clock.unschedule(self._timeout)
        Clock.schedule_once(self._timeout, self.SECONDS)

    def _timeout(self, _dt) -> None:
        self.hide()

    def on_touch_down(self, touch):
        if self.collide_point(*touch.pos):
            self.hide()
            return True
        return False


assert FloatLayout  # (the window is the float layout these sit on)
Builder.load_file(os.path.join(os.path.dirname(__file__), "overlays.kv"))
