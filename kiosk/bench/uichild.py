"""Child process of the UI benchmark: ``python -m kiosk.bench.uichild app|bare [HOME]``.

Prints one JSON line: ``first_frame`` (time.time() of the first frame flip, compared by the
parent with its spawn time) and, for ``app``, ``settled`` (time.time() when the kiosk had
built its screens and prepared its sections, ``KioskApp.settled``), ``nav_ms``: per screen
of a scripted walk, the time from the tap (``app.go``) to the first frame drawn after the
screen's data arrived, and ``switch_ms``: the same for 特大字, 标准, 高对比 on and off on a
few screens (:func:`switches`; ``display`` measures only these). Runs headless (SDL
offscreen when DISPLAY is unset); the window is 1280×800.

The walk is paced like a person at the kiosk: it starts once the kiosk has settled (a kiosk
stands switched on long before anyone taps) and waits :data:`THINK_S` between a frame and the
next tap (reading the screen, moving a finger). On a township/county kiosk it first chooses
three villages in turn, then waits until the kiosk has prepared the last one's sections. Each round opens a different record (the
1st, 2nd, 3rd row of each list), so a detail screen's rows are rendered anew every time.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

#: seconds between a frame and the next tap of the walk (people take far longer)
THINK_S = 0.5
#: rounds of the walk through every screen
ROUNDS = 3


def _configure() -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kivy-bench-"))


def bare() -> dict:
    _configure()
    from kivy.config import Config

    Config.set("graphics", "width", "1280")
    Config.set("graphics", "height", "800")
    from kivy.app import App
    from kivy.core.window import Window
    from kivy.uix.label import Label

    out: dict = {}

    class Hello(App):
        def build(self):
            return Label(text="Hello")

        def on_start(self):
            def flip(*_):
                out.setdefault("first_frame", time.time())
                self.stop()
            Window.bind(on_flip=flip)

    Hello().run()
    return out


def app(home: str) -> dict:
    from kiosk.screens.kivyconfig import configure_kivy

    _configure()
    configure_kivy(windowed=True, size=(1280, 800))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.app import KioskApp
    from kiosk.screens.headless import start_headless

    out: dict = {}
    flips = [0]

    def flip(*_):
        flips[0] += 1
        out.setdefault("first_frame", time.time())

    Window.bind(on_flip=flip)
    a = KioskApp(home)
    start_headless(a)
    deadline = time.monotonic() + 60
    while "first_frame" not in out and time.monotonic() < deadline:
        EventLoop.idle()
    # wait for the data to open, the screens to be built and the sections prepared
    while not a.settled and time.monotonic() < deadline:
        EventLoop.idle()
        time.sleep(0.005)
    out["settled"] = time.time()

    step = _stepper(a, flips, deadline + 120)

    nav: dict[str, list[float]] = {}
    screens = [s for s in a.sm.screen_names if s not in ("nodata",)]
    if "villages" in screens and a.sm.current == "villages":
        scr = a.sm.get_screen("villages")
        codes = [v["code"] for v in getattr(scr, "villages", [])][:3]
        for c in codes:
            nav.setdefault("villages→home", []).append(step(lambda c=c: scr.choose(c)))
            a.go_home()
            step(lambda: a.back())
        # a township/county kiosk prepares the chosen village's sections as it does at start
        # (~2 s); the person reads 首页 meanwhile. Taps before that meet first visits as
        # they are without preparing (docs/performance.md gives those figures).
        while not a.settled and time.monotonic() < deadline + 120:
            EventLoop.idle()
            time.sleep(0.005)
    for round_ in range(ROUNDS):
        for name in screens:
            if name.endswith("_detail") or name in ("home", "villages"):
                continue
            nav.setdefault(name, []).append(step(lambda name=name: a.go(name)))
            detail = _detail(a, name, round_)
            if detail:
                nav.setdefault(detail[0], []).append(step(lambda d=detail: a.go(d[0], id=d[1])))
                nav.setdefault("back", []).append(step(a.back))
            nav.setdefault("home", []).append(step(a.go_home))
    out["nav_ms"] = nav
    out["switch_ms"] = switches(a, step)
    out["frames"] = flips[0]
    return out


#: screens the text-size switch is measured on (a record's detail: the first row of its list)
SWITCH_SCREENS = ("home", "finance", "projects", "project_detail", "power_detail", "complaints")


def switches(a, step) -> dict:
    """ms from a tap on 特大字 (and back to 标准), on 高对比 (and off) to the frame that shows
    the screen redrawn, on each of :data:`SWITCH_SCREENS`; ``step(action)`` as in the walk."""
    out: dict[str, list[float]] = {}
    for name in SWITCH_SCREENS:
        if name.endswith("_detail"):
            lst = {"project_detail": "projects", "power_detail": "powers"}[name]
            step(lambda lst=lst: a.go(lst))
            rows = a.sm.get_screen(lst).record_rows()
            if not rows:
                continue
            step(lambda r=rows[0]: a.go(r["target"], id=r["rec_id"]))
        else:
            step(lambda name=name: a.go_home() if name == "home" else a.go(name))
        for key, action in (("larger", lambda: a.set_display(text_scale=1.5)),
                            ("standard", lambda: a.set_display(text_scale=1.0)),
                            ("contrast_on", lambda: a.set_display(high_contrast=True)),
                            ("contrast_off", lambda: a.set_display(high_contrast=False))):
            out.setdefault(key, []).append(step(action))
        out.setdefault("by_screen", []).append(name)
    return out


def display(home: str) -> dict:
    """Only the switch figures (``kiosk bench --display``): the kiosk settled, then
    :func:`switches`."""
    from kiosk.screens.kivyconfig import configure_kivy

    _configure()
    configure_kivy(windowed=True, size=(1280, 800))
    from kivy.base import EventLoop
    from kivy.core.window import Window

    from kiosk.app import KioskApp
    from kiosk.screens.headless import start_headless

    flips = [0]
    Window.bind(on_flip=lambda *_: flips.__setitem__(0, flips[0] + 1))
    a = KioskApp(home)
    start_headless(a)
    deadline = time.monotonic() + 120
    while not a.settled and time.monotonic() < deadline:
        EventLoop.idle()
        time.sleep(0.005)

    step = _stepper(a, flips, deadline + 300)

    if a.state != "ready":
        return {"error": "no data installed (make demo, or set KIOSK_HOME)"}
    return {"switch_ms": switches(a, step)}


def _stepper(a, flips: list[int], give_up_at: float):
    """``step(action) -> ms``: wait :data:`THINK_S` as a person would, tap (``action()``),
    and time it to the first frame flipped after the worker went idle (``flips[0]`` counts
    the frames); waits end at ``give_up_at`` (time.monotonic())."""
    from kivy.base import EventLoop
    from kivy.core.window import Window

    def step(action) -> float:
        t = time.monotonic()
        while time.monotonic() - t < THINK_S:
            EventLoop.idle()
            time.sleep(0.01)
        a.nav.activity()  # a tap is activity (the walk calls the app, not the touch screen)
        t0 = time.perf_counter()
        action()
        n, idle_loops = flips[0], 0
        while time.monotonic() < give_up_at:
            EventLoop.idle()
            if not a.busy and flips[0] > n:
                break
            if not a.busy:
                idle_loops += 1
                if idle_loops == 3:
                    # a navigation that changed nothing on screen never flips by itself:
                    # ask for the next frame, which is then the frame the tap gets
                    Window.canvas.ask_update()
        return (time.perf_counter() - t0) * 1000

    return step


def _detail(a, name: str, n: int):
    """(detail screen, record id) of the ``n``-th row (0-based, or the last) of the list
    screen ``name`` that opens a record, if any."""
    rows = a.sm.get_screen(name).record_rows()
    if not rows:
        return None
    r = rows[min(n, len(rows) - 1)]
    return r["target"], r["rec_id"]


def main() -> None:
    kind = sys.argv[1]
    res = bare() if kind == "bare" else display(sys.argv[2]) if kind == "display" else app(sys.argv[2])
    import resource

    res["maxrss_kb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sys.stdout.write("BENCH " + json.dumps(res) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
