"""Draw a screen that is not on the window once, off screen, ahead of use.

Why: on a software renderer (Mesa llvmpipe) the first frame that shows a screen renders and
uploads every label's pixels and compiles its canvas: tens of ms a tap. Doing that work
while the kiosk is idle makes the first visit cost what a later one does
(docs/performance.md).
"""
from __future__ import annotations

_fbo: list = []  # one off-screen framebuffer for a whole pass of work ahead


def predraw(screen) -> None:
    """Draw ``screen`` (not on the window) once into an off-screen framebuffer.
    :func:`predraw_done` frees the framebuffer."""
    from kivy.core.window import Window
    from kivy.graphics import Fbo
    from kivy.graphics.opengl import glFinish

    if screen.parent is not None:
        return
    if not _fbo:
        _fbo.append(Fbo(size=Window.size))
    fbo = _fbo[0]
    fbo.add(screen.canvas)
    fbo.draw()
    fbo.remove(screen.canvas)
    glFinish()  # the software renderer frees what the drawing used once it has finished


def predraw_done() -> None:
    """Free the framebuffer (end of a pass of work ahead)."""
    _fbo.clear()
