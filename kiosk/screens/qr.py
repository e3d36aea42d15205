"""QR codes on screen: the ``qrcode`` library makes the module matrix (off the UI thread: its
import and the encoding take a few ms), a Kivy texture one texel per module is drawn scaled by a
whole number with nearest-neighbour filtering, so every module is a sharp square a phone camera
reads from arm's length."""
from __future__ import annotations

from kivy.graphics import Color, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import ListProperty, NumericProperty, StringProperty
from kivy.uix.widget import Widget

#: quiet zone around the code, in modules (ISO/IEC 18004 asks for 4)
QUIET_MODULES = 4


def qr_matrix(data: str) -> list[list[bool]]:
    """The modules of ``data`` as a QR code (error correction M, smallest version that holds
    it), with the quiet zone; True = dark. Any thread."""
    import qrcode
    from qrcode.constants import ERROR_CORRECT_M

    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=QUIET_MODULES)
    qr.add_data(data)
    qr.make(fit=True)
    return qr.get_matrix()


class QRImage(Widget):
    """A QR code: ``matrix`` (from :func:`qr_matrix`, computed on the worker) drawn as large as
    the widget allows in whole pixels per module; ``data`` is the text it holds (tests, 朗读
    ignore it). The quiet zone is white (the code needs it to be read)."""

    matrix = ListProperty([])
    data = StringProperty("")
    #: pixels per module as drawn (0 before the first draw)
    module_px = NumericProperty(0)

    def __init__(self, **kw):
        super().__init__(**kw)
        self._texture = None
        self.bind(matrix=self._make_texture, pos=self._draw, size=self._draw)

    def _make_texture(self, *_):
        n = len(self.matrix)
        if not n:
            self._texture = None
            self._draw()
            return
        buf = bytearray()
        for row in reversed(self.matrix):  # a texture's first row is its bottom
            for dark in row:
                buf += b"\x00\x00\x00\xff" if dark else b"\xff\xff\xff\xff"
        tex = Texture.create(size=(n, n), colorfmt="rgba")
        tex.blit_buffer(bytes(buf), colorfmt="rgba", bufferfmt="ubyte")
        tex.mag_filter = tex.min_filter = "nearest"
        self._texture = tex
        self._draw()

    def _draw(self, *_):
        self.canvas.clear()
        n = len(self.matrix)
        if self._texture is None or not n:
            self.module_px = 0
            return
        px = int(min(self.width, self.height) // n)
        self.module_px = px
        if px < 1:
            return
        side = px * n
        x = int(self.center_x - side / 2)
        y = int(self.center_y - side / 2)
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(texture=self._texture, pos=(x, y), size=(side, side))
