"""The kiosk App: Kivy set-up for kiosk mode, the screen manager and navigation, the idle
timer, the data worker and switching to a newly installed data version.

Threads: every mirror call runs on one worker thread (SQLite connections belong to the
thread that opened them, and a slow query must never freeze the touch screen); results come
back to the main thread with ``Clock.schedule_once``.

Version switch: the importer switches a pointer (kiosk/cache). Every
:data:`VERSION_POLL_S` seconds the worker opens the current version; if it differs from the
one shown, the app switches only when nobody is in the middle of something: when the user
returns to 首页, when the idle timer fires, or while the 尚无数据 screen is up.
"""
from __future__ import annotations

import datetime as _dt
import gc
import importlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path


log = logging.getLogger("kiosk.app")

#: (screen name, module, class): one module + one .kv per screen.
SCREENS = [
    ("nodata", "kiosk.screens.nodata", "NoDataScreen"),
    ("home", "kiosk.screens.home", "HomeScreen"),
    ("finance", "kiosk.screens.finance", "FinanceScreen"),
    ("finance_detail", "kiosk.screens.finance_detail", "FinanceDetailScreen"),
    ("projects", "kiosk.screens.projects", "ProjectsScreen"),
    ("project_detail", "kiosk.screens.project_detail", "ProjectDetailScreen"),
    ("services", "kiosk.screens.services", "ServicesScreen"),
    ("service_detail", "kiosk.screens.service_detail", "ServiceDetailScreen"),
    ("assets", "kiosk.screens.assets", "AssetsScreen"),
    ("asset_detail", "kiosk.screens.asset_detail", "AssetDetailScreen"),
    ("powers", "kiosk.screens.powers", "PowersScreen"),
    ("power_detail", "kiosk.screens.power_detail", "PowerDetailScreen"),
    ("mine", "kiosk.screens.mine", "MineScreen"),
    ("complaints", "kiosk.screens.complaints", "ComplaintsScreen"),
    ("search", "kiosk.screens.search", "SearchScreen"),
    ("villages", "kiosk.screens.villages", "VillagesScreen"),
    ("technician", "kiosk.screens.technician", "TechnicianScreen"),
    ("update", "kiosk.screens.update", "UpdateScreen"),
]
SCREEN_NAMES = [s[0] for s in SCREENS]
VERSION_POLL_S = 10
#: longest time (s) a tap keeps the previous screen up while the next screen's data loads
SHOW_WAIT_S = 0.3
#: seconds between building two screens ahead of use, and the quiet time (no navigation)
#: it waits for (KioskApp._prebuild)
PREBUILD_GAP_S = 0.05
PREBUILD_QUIET_S = 0.5
#: latest start (s after the first frame) of devices, updates and integrity checks
SERVICES_AFTER_S = 3.0


def configure_kivy(windowed: bool, size: tuple[int, int] | None = None, kivy_home: str | None = None) -> None:
    """Set Kivy's config for kiosk mode; must run before ``kivy.core.window`` is imported.

    - ``exit_on_escape = 0`` (Esc must not close the kiosk), F1 settings disabled in the App;
    - exactly one input provider: SDL's mouse path, with multitouch emulation off. A
      touchscreen reaches SDL as pointer events (X11/Wayland pointer emulation); the kernel
      providers (``probesysfs``/``hidinput``/``mtdev``) are removed, otherwise every tap
      arrives twice, once from each provider;
    - full screen with the cursor hidden unless ``windowed``;
    - the ``interrupt`` clock (a data result is handled without waiting for the next frame);
    - :func:`limit_heap_growth`.
    """
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    limit_heap_growth()
    if kivy_home:
        os.environ.setdefault("KIVY_HOME", kivy_home)
    from kivy.config import Config

    Config.set("kivy", "exit_on_escape", "0")
    # a result from the data worker (Clock.schedule_once from its thread) wakes the main
    # loop at once instead of after the rest of the 1/60 s frame interval
    Config.set("kivy", "kivy_clock", "interrupt")
    Config.set("kivy", "log_level", os.environ.get("KIOSK_KIVY_LOG", "warning"))
    for key, _ in list(Config.items("input")):
        Config.remove_option("input", key)
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("graphics", "multisamples", "0")
    if windowed:
        Config.set("graphics", "fullscreen", "0")
        Config.set("graphics", "show_cursor", "1")
    else:
        # 'auto' asks SDL for a desktop-sized full-screen window; without a window manager
        # (a kiosk often runs X with just this app) X keeps the window at its requested size
        # and position, so also request the panel's size at (0, 0).
        Config.set("graphics", "fullscreen", "auto")
        Config.set("graphics", "show_cursor", "0")
        Config.set("graphics", "borderless", "1")
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", "0")
        Config.set("graphics", "top", "0")
    if size:
        Config.set("graphics", "width", str(size[0]))
        Config.set("graphics", "height", str(size[1]))


#: glibc mallopt parameter M_TRIM_THRESHOLD (malloc.h)
_M_TRIM_THRESHOLD = -1


def limit_heap_growth() -> None:
    """Keep freed memory from piling up in the C heap (glibc only; elsewhere nothing).

    glibc raises its mmap and trim thresholds as large blocks are freed, after which label
    and framebuffer sized blocks come from the heap and their memory stays with the process.
    Fixing the trim threshold at 128 KiB (which also fixes the mmap threshold) returns it:
    ~3.5 MB less peak RSS over the village walk, ~1 MB at city scale (docs/performance.md)."""
    import ctypes

    # the process's own symbols (libc among them): ctypes.util.find_library would run
    # ldconfig, ~3 ms of every start
    libc = ctypes.CDLL(None)
    if hasattr(libc, "mallopt"):
        libc.mallopt(_M_TRIM_THRESHOLD, 128 * 1024)


def _open_current(home: Path):
    # imported here, on the data worker: the mirror's imports (bundle verification,
    # cryptography) took ~0.15 s of the main thread before the first frame
    from kiosk.cache.mirror import open_current

    return open_current(home)


from kivy.app import App  # noqa: E402  (configure_kivy is called by the commands first)
from kivy.clock import Clock  # noqa: E402
from kivy.properties import AliasProperty, BooleanProperty, ObjectProperty, StringProperty  # noqa: E402
from kivy.uix.screenmanager import NoTransition, ScreenManager  # noqa: E402


class InstantTransition(NoTransition):
    """NoTransition that completes within the tap's own frame. Kivy's NoTransition runs a
    zero-length Animation, so the old screen stays in the tree, drawn under the new one,
    until the next frame removes it: every tap cost two frames, the first one double."""

    def start(self, manager):
        super().start(manager)
        self._anim.cancel(self)  # cancel() does not fire on_complete; we do, now
        self._on_complete()  # removes the old screen, then on_enter / on_leave


class LazyScreenManager(ScreenManager):
    """ScreenManager that builds a screen (imports its module, which loads its .kv) the
    first time it is asked for, by :meth:`get_screen` or by setting ``current``.

    Building all eighteen screens at start cost about a second and rendered every label's
    texture before the first frame (docs/performance.md). ``screen_names`` and
    :meth:`has_screen` name every known screen, built or not; ``screens`` holds the built ones.

    Args:
        factories: ``[(name, module, class name), ...]`` (:data:`SCREENS`).
    """

    def __init__(self, factories, **kw):
        self._factories = {name: (module, cls) for name, module, cls in factories}
        super().__init__(**kw)

    def _get_names(self):
        built = [s.name for s in self.screens]
        return list(self._factories) + [n for n in built if n not in self._factories]

    screen_names = AliasProperty(_get_names, bind=("screens",))

    def built(self, name: str) -> bool:
        """Whether screen ``name`` exists already."""
        return any(s.name == name for s in self.screens)

    def get_screen(self, name):
        if name in self._factories and not self.built(name):
            module, cls = self._factories[name]
            screen = getattr(importlib.import_module(module), cls)(name=name)
            # a screen not on display is not laid out by the manager: built at Kivy's default
            # 100×100, work ahead of use laid its text out at the wrong width (and did it
            # all again on the first visit)
            screen.size = self.size
            self.add_widget(screen)
        return super().get_screen(name)

    def on_size(self, *_):
        for screen in self.screens:
            if screen.parent is None:
                screen.size = self.size

    def has_screen(self, name):
        return name in self._factories or super().has_screen(name)


class KioskApp(App):
    """村务公开查询终端.

    Args:
        home: KIOSK_HOME (config and installed data).
        cfg: configuration (kiosk.config.load); loaded from ``home`` when None.
        opener: ``opener(home) -> Mirror | None``; default ``kiosk.cache.mirror.open_current``.
        now: monotonic clock in seconds (tests replace it to advance the idle timer).
        today: ``() -> datetime.date`` for the stale-data check.
    """

    title = "村务公开查询终端"
    footer_text = StringProperty("")
    footer_stale = BooleanProperty(False)
    banner_text = StringProperty("")
    place_text = StringProperty("")
    village_name = StringProperty("")
    state = StringProperty("starting")  # starting | nodata | ready
    multi_village = BooleanProperty(False)  # township/county bundle: 换村, idle → village picker
    info = ObjectProperty(None, allownone=True)

    def __init__(self, home: Path, cfg: dict | None = None, opener=None, now=time.monotonic,
                 today=_dt.date.today, **kw):
        super().__init__(**kw)
        from kiosk import config as _config

        self.home = Path(home)
        self.cfg = cfg if cfg is not None else _config.load(self.home)
        self.timeouts = {**_config.TIMEOUTS, **self.cfg.get("timeouts", {})}
        self._opener = opener or _open_current
        self.now = now
        self.today = today
        self.use_kivy_settings = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-data")
        self._pending_lock = threading.Lock()
        self._pending_jobs = 0
        self._mirror = None          # worker thread only
        self._next_mirror = None     # worker thread only
        self.update_waiting = False  # main thread: a newer version is ready to switch to
        self.history: list[str] = []
        self._pending_show = None  # (screen, screen shown at the tap) held back by _show
        self._prebuilding = False  # _prebuild is working ahead of use
        self._ahead = iter(())     # its steps (_work_ahead)
        self._last_nav = time.monotonic()  # real time of the last screen change (not ``now``)
        self._services_started = False
        self.last_activity = now()

    # ---- set-up ---------------------------------------------------------------------------
    def build(self):
        from kivy.core.window import Window

        from kiosk.screens.theme import COLORS, theme_for
        from kiosk.screens.widgets import register_fonts

        register_fonts()
        Window.clearcolor = COLORS["bg"]  # the page colour; screens do not paint it again
        self.theme = theme_for(self.cfg["panel"])
        self.sm = LazyScreenManager(SCREENS, transition=InstantTransition())
        self.sm.current = "nodata"
        Window.bind(on_touch_down=self._on_activity, on_touch_move=self._on_activity)
        if Window.fullscreen not in (0, False, "0"):
            Window.show_cursor = False
        Clock.schedule_interval(self._check_idle, 1)
        Clock.schedule_interval(lambda dt: self.check_for_update(), VERSION_POLL_S)
        self.submit(self._w_open, self._opened)
        self.printing_pending = False

        # Devices, the update service and the integrity checks start once the first screen
        # with data (or 尚无数据) is up, at the latest SERVICES_AFTER_S after the first frame:
        # their imports (printer, diskcache, cryptography) took ~0.25 s of start-up.
        def after_frame(*_):
            if self.state != "starting":
                Window.unbind(on_flip=after_frame)
                Clock.schedule_once(lambda dt: self._start_services(), 0)

        def first_frame(*_):
            Window.unbind(on_flip=first_frame)
            Clock.schedule_once(lambda dt: self._start_services(), SERVICES_AFTER_S)

        Window.bind(on_flip=after_frame)
        Window.bind(on_flip=first_frame)
        return self.sm

    def _start_services(self) -> None:
        if self._services_started:
            return
        self._services_started = True
        from kiosk.screens.update import attach  # USB stick watcher, background sync, 技术员维护 entry

        attach(self)
        from kiosk.screens import mine

        mine.attach(self)  # ID-card watcher: a card placed on any screen opens 我的查询
        from kiosk.cache import integrity

        # re-hash checks in their own thread (never delays start-up); a change is picked up at
        # the next safe point, like a newly installed version
        self.integrity = integrity.start_background_checks(
            self.home, on_change=lambda res: Clock.schedule_once(lambda dt: self.on_data_changed(res), 0))

    def on_data_changed(self, res) -> None:
        """Integrity check changed what may be shown: a fallback to last known good is switched
        in at the next safe point (like a new version, with its banner); with no trusted
        version left nothing may stay on screen, so 尚无数据 (with the reason) shows at once."""
        if res.status == "no_trusted_version":
            self.submit(lambda _: self._w_close(), lambda _: (self.history.clear(), self._opened(None)))
        else:
            self.check_for_update()

    def open_settings(self, *args):  # F1 must not open Kivy's settings panel on a kiosk
        return False

    def on_stop(self):
        from kiosk.screens.update import detach

        detach(self)
        from kiosk.screens import mine

        mine.detach(self)
        if getattr(self, "integrity", None) is not None:
            self.integrity.stop()
        self._executor.submit(self._w_close)
        self._executor.shutdown(wait=True)

    # ---- worker ---------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        """Whether worker jobs or their main-thread callbacks are still pending."""
        with self._pending_lock:
            return self._pending_jobs > 0

    def submit(self, fn, done=None) -> None:
        """Run ``fn(mirror)`` on the worker, then ``done(result)`` on the main thread.
        Errors are logged and shown as a banner line (the screen stays usable)."""
        with self._pending_lock:
            self._pending_jobs += 1

        def job():
            try:
                res, err = fn(self._mirror), None
            except Exception as exc:  # noqa: BLE001 - shown, logged, never kills the UI
                log.exception("data job failed")
                res, err = None, exc
            Clock.schedule_once(lambda dt: finish(res, err), 0)

        def finish(res, err):
            try:
                if err is not None:
                    self.banner_text = "读取数据时出错，请联系工作人员"
                elif done is not None:
                    done(res)
            finally:
                with self._pending_lock:
                    self._pending_jobs -= 1
                    idle = self._pending_jobs == 0
                if idle and self._pending_show is not None:
                    self._finish_show()

        self._executor.submit(job)

    def _w_open(self, _):
        self._mirror = self._opener(self.home)
        return self._mirror.info if self._mirror else None

    def _w_close(self):
        for m in (self._mirror, self._next_mirror):
            if m is not None:
                m.close()
        self._mirror = self._next_mirror = None

    def _w_check(self, _):
        new = self._opener(self.home)
        if new is None:
            return False
        cur = self._mirror.info if self._mirror else None
        if cur is not None and (new.info.fingerprint, new.info.seq) == (cur.fingerprint, cur.seq):
            new.close()
            return False
        if self._next_mirror is not None:
            self._next_mirror.close()
        self._next_mirror = new
        return True

    def _w_swap(self, _):
        if self._next_mirror is None:
            return self._mirror.info if self._mirror else None
        old, self._mirror, self._next_mirror = self._mirror, self._next_mirror, None
        if old is not None:
            old.close()
        return self._mirror.info

    # ---- data version ---------------------------------------------------------------------
    def _opened(self, info) -> None:
        self._set_info(info)
        if info is None:
            self.state = "nodata"
            self._show("nodata")
        else:
            self.state = "ready"
            self.multi_village = len(info.village_code) != 12
            if len(info.village_code) != 12:  # township/county bundle: choose a village first
                self._show("villages")
            else:
                self.go_home()

    @property
    def settled(self) -> bool:
        """Whether start-up work is done: data open, every screen built ahead and the
        sections' first pages prepared (the benchmark's walk starts here)."""
        return self.state != "starting" and not self._prebuilding and not self.busy

    def _warm_key(self):
        """What a warmed section shows: this data version of one village (None while a
        township/county kiosk has no village chosen)."""
        info = self.info
        if self.state != "ready" or info is None or len(info.village_code) != 12:
            return None
        return (info.fingerprint, info.seq, info.village_code)

    def _schedule_prebuild(self) -> None:
        self._ahead = self._work_ahead()  # new data or another village: start over
        if not self._prebuilding:
            self._prebuilding = True
            Clock.schedule_once(self._prebuild, PREBUILD_GAP_S)

    def _prebuild(self, _dt=None) -> None:
        """Run one step of :meth:`_work_ahead` while no tap is waiting for its data, and only
        after PREBUILD_QUIET_S without navigation, so it never delays a tap."""
        if self._pending_show is not None or self.busy or time.monotonic() - self._last_nav < PREBUILD_QUIET_S:
            Clock.schedule_once(self._prebuild, PREBUILD_GAP_S)  # never in the way of a tap
            return
        try:
            next(self._ahead)
        except StopIteration:
            # Python's full (generation 2) garbage collection walked every widget of the
            # built screens: pauses of up to 140 ms at random taps. Collect now, while idle,
            # and exempt what exists from later full collections (gc.freeze).
            predraw_done()
            gc.unfreeze()
            gc.collect()
            gc.freeze()
            self._prebuilding = False
            return
        Clock.schedule_once(self._prebuild, PREBUILD_GAP_S)

    def _free(self, name: str) -> bool:
        """Whether screen ``name`` may be opened behind the person's back: not on screen and
        not on 返回's path."""
        return name != self.sm.current and name not in self.history

    def _work_ahead(self):
        """Work ahead of use, one step per ``next()`` (a step's data loads finish before the
        next step runs). On this hardware (software GL) creating a screen from its kv rules
        costs 30-100 ms, a section's first page 50-250 ms, rendering its text again as much
        at its first frame (docs/performance.md):

        1. build every screen not built yet (and its row pools, ``prebuild``);
        2. for this data version and village, open each section that ``warm_on_idle`` and
           render its text; then open one record of its first page (the last one) in its
           detail screen and render that, so the detail screen's own widgets are ready too.
        """
        for name, _module, _cls in SCREENS:
            if (name == "villages" and not self.multi_village) or self.sm.built(name):
                continue
            scr = self.sm.get_screen(name)
            yield
            scr.prebuild()
            yield
        key = self._warm_key()
        if key is None:
            return
        for scr in [s for s in self.sm.screens if getattr(s, "warm_on_idle", False)]:
            if scr.warmed_for == key or not self._free(scr.name):
                continue
            scr.warmed_for = key
            scr.open()
            yield  # its data arrives; Kivy lays out its labels at the next frame
            yield
            predraw(scr)
            rows = record_rows(scr)
            if not rows or not self._free(rows[-1]["target"]):
                continue
            row = rows[-1]
            detail = self.sm.get_screen(row["target"])
            detail.open(id=row["rec_id"])
            yield
            yield
            predraw(detail)
            yield

    def _set_info(self, info) -> None:
        self.info = info
        if info is None:
            self.footer_text = self.banner_text = self.place_text = self.village_name = ""
            self.footer_stale = False
            return
        self.village_name = info.village_name
        self.place_text = f"{info.county_name}·{info.township_name}"
        self.footer_text = f"数据更新至 {info.data_as_of} · 第{info.seq}版 · 指纹 {info.fingerprint}"
        self.footer_stale = self.is_stale(info.data_as_of)
        if self.footer_stale:  # say it in words too, not only in amber
            self.footer_text += f" · 已超过{self.cfg.get('stale_after_days', 35)}天未更新"
        self.banner_text = info.banner or ""
        self._schedule_prebuild()  # new data or another village: prepare the sections again

    def is_stale(self, data_as_of: str) -> bool:
        """Whether ``data_as_of`` (YYYY-MM-DD) is older than ``stale_after_days``."""
        age = (self.today() - _dt.date.fromisoformat(data_as_of)).days
        return age > int(self.cfg.get("stale_after_days", 35))

    def check_for_update(self) -> None:
        """Ask the worker whether a newer version is installed; switch when it is safe."""

        def done(found):
            if found:
                self.update_waiting = True
                if self.sm.current in ("nodata", "home"):
                    self._switch_version()

        self.submit(self._w_check, done)

    def _switch_version(self) -> None:
        self.update_waiting = False

        def done(info):
            self._set_info(info)
            self.state = "ready" if info else "nodata"
            self.history.clear()
            self.multi_village = bool(info) and len(info.village_code) != 12
            if info and len(info.village_code) != 12:  # township/county bundle: choose a village first
                self._show("villages")
            else:
                self._show("home" if info else "nodata")

        self.submit(self._w_swap, done)

    # ---- navigation -----------------------------------------------------------------------
    def _show(self, name: str, **params) -> None:
        self._last_nav = time.monotonic()
        scr = self.sm.get_screen(name)
        scr.warmed_for = self._warm_key()  # what it shows now is what warming would prepare
        scr.open(**params)
        self._pending_show = None
        if not self.busy:
            self.sm.current = name
            return
        # The screen's data is on its way (well under a millisecond at village scale): keep
        # the previous screen up until it has arrived, so the first frame drawn is the
        # finished screen rather than an empty one followed by a full one (a frame costs tens
        # of ms on a software-rendered panel, docs/performance.md). A slow query still shows
        # the screen after SHOW_WAIT_S.
        token = self._pending_show = (name, self.sm.current)
        Clock.schedule_once(lambda dt: self._finish_show(token), SHOW_WAIT_S)

    def _finish_show(self, token=None) -> None:
        """Put up the screen :meth:`_show` held back (its data arrived, or time is up),
        unless something else changed the screen meanwhile."""
        pending = self._pending_show
        if pending is None or (token is not None and token is not pending):
            return
        self._pending_show = None
        name, shown = pending
        if self.sm.current == shown:
            self.sm.current = name

    def go(self, name: str, **params) -> None:
        """Open screen ``name`` (its data loads just after it is shown)."""
        if self.state != "ready":
            return
        self.history.append(self.sm.current)
        self._show(name, **params)

    def back(self) -> None:
        """Return to the previous screen as it was (no reload), or home."""
        if self.history:
            prev = self.history.pop()
            self._pending_show = None
            self._last_nav = time.monotonic()
            self.sm.current = prev
            if prev == "home" and self.update_waiting:
                self._switch_version()
        else:
            self.go_home()

    def go_home(self) -> None:
        """首页: also the moment to switch to a newly installed data version."""
        self.history.clear()
        if self.update_waiting:
            self._switch_version()
            return
        self._show("home" if self.state == "ready" else "nodata")

    # ---- idle -----------------------------------------------------------------------------
    def _on_activity(self, *args):
        self.last_activity = self.now()
        return False

    def go_villages(self) -> None:
        """换村 (township/county kiosk): back to the village picker over the whole bundle."""
        self.history.clear()
        if self.update_waiting:
            self._switch_version()  # shows the village picker itself
            return

        def work(m):
            self._mirror = m.with_village(None)
            return self._mirror.info

        def done(info):
            self._set_info(info)
            self._show("villages")

        self.submit(work, done)

    def _check_idle(self, *_):
        # a township/county kiosk rests on its village picker, a village kiosk on 首页
        rest = "villages" if self.multi_village else "home"
        if self.state != "ready" or self.sm.current == rest:
            return
        # the card holder's own screen closes sooner than public ones
        key = "personal_idle_to_home" if self.sm.current == "mine" else "public_idle_to_home"
        if self.now() - self.last_activity >= float(self.timeouts[key]):
            self.last_activity = self.now()
            self.go_villages() if self.multi_village else self.go_home()


_predraw_fbo: list = []  # one off-screen framebuffer for a whole pass of work ahead


def predraw(screen) -> None:
    """Draw ``screen`` (not on the window) once into an off-screen framebuffer: its labels'
    pixels are rendered and uploaded and its canvas compiled, work Kivy otherwise does in
    the first frame that shows it. :func:`predraw_done` frees the framebuffer."""
    from kivy.core.window import Window
    from kivy.graphics import Fbo
    from kivy.graphics.opengl import glFinish

    if screen.parent is not None:
        return
    if not _predraw_fbo:
        _predraw_fbo.append(Fbo(size=Window.size))
    fbo = _predraw_fbo[0]
    fbo.add(screen.canvas)
    fbo.draw()
    fbo.remove(screen.canvas)
    glFinish()  # the software renderer frees what the drawing used once it has finished


def predraw_done() -> None:
    _predraw_fbo.clear()


def record_rows(screen) -> list[dict]:
    """The rows of ``screen``'s list that open a record (``{"target", "rec_id", ...}``), in
    list order; ``[]`` when it has none."""
    for w in screen.walk(restrict=True):
        data = getattr(w, "data", None)
        if isinstance(data, list) and data and isinstance(data[0], dict):
            rows = [r for r in data if r.get("target") and r.get("rec_id")]
            if rows:
                return rows
    return []


def run(home: Path, windowed: bool = False) -> int:
    """Start the kiosk UI (blocks until the window closes)."""
    from kiosk import config

    panel = config.load(home)["panel"]
    configure_kivy(windowed, size=(int(panel["width_px"]), int(panel["height_px"])))
    KioskApp(home).run()
    return 0


# ---- driving the app without a main loop (screenshots, tests) ---------------------------------
def start_headless(app: KioskApp) -> None:
    """Build ``app`` and start Kivy's event loop without entering it; then call :func:`pump`.
    (``kivy.tests.common.async_run`` is broken under current pytest, so we drive it.)"""
    from kivy.base import runTouchApp

    app._run_prepare()
    runTouchApp(embedded=True)


def pump(app: KioskApp, frames: int = 2, timeout: float = 20.0) -> None:
    """Run the event loop until the data worker is idle, then ``frames`` more frames.

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


def tap(app: KioskApp, widget, frames: int = 3) -> None:
    """Press and release at ``widget``'s centre in window coordinates, as a finger would,
    running the loop between (how the headless UI tests tap)."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    t = UnitTestTouch(x, y)
    t.touch_down()
    pump(app, 1)
    t.touch_up()
    pump(app, frames)
