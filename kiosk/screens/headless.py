"""Drive the App without entering Kivy's main loop: ``kiosk screenshot``, the benchmark's
walk and the UI tests start it, then run the loop step by step until the kiosk is idle.

Only Kivy's public API is used (``load_config``, ``load_kv``, ``build``, ``runTouchApp``
in embedded mode): the App is set up the way ``App.run`` would, without blocking.
"""
from __future__ import annotations

import time


def start_headless(app) -> None:
    """Build ``app``, put its root on the window and start the event loop without entering
    it; then call :func:`pump` (or ``EventLoop.idle()``) to run it."""
    from kivy.base import EventLoop, runTouchApp
    from kivy.core.window import Window

    if EventLoop.window is None:
        raise RuntimeError("no window could be created")
    app.load_config()
    app.load_kv(filename=app.kv_file)
    app.root = app.build()
    Window.add_widget(app.root)
    app.dispatch("on_start")
    runTouchApp(embedded=True)


def stop_headless(app) -> None:
    """Stop ``app`` (its ``on_stop`` stops the services) and take its root off the window."""
    from kivy.core.window import Window

    root = app.root
    app.stop()
    if root is not None and root.parent is not None:
        Window.remove_widget(root)


def pump(app, frames: int = 2, timeout: float = 20.0) -> None:
    """Run the event loop until the kiosk's data work is done, then ``frames`` more frames.

    Raises:
        TimeoutError: still busy after ``timeout`` seconds of wall time.
    """
    from kivy.base import EventLoop

    deadline = time.monotonic() + timeout
    quiet = 0
    while quiet < frames:
        EventLoop.idle()
        if app.busy:
            quiet = 0
            time.sleep(0.002)
            if time.monotonic() > deadline:
                raise TimeoutError("the kiosk app stayed busy")
        else:
            quiet += 1
