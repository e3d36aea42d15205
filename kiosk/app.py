"""The kiosk App: owns the services, subscribes to their events and navigates.

Everything long-lived runs in a service (kiosk.services: data, updates, card reader,
printer, integrity checks, PIN, ...) and reports through events on one bus, delivered on
the Kivy main thread. The App turns events into navigation through its one
:class:`~kiosk.navigation.Navigator` (the rules: where a tap leads, when data switches,
idle) and hands them to the screen concerned; screens show state and call service methods.

Kivy must be configured before this module is imported: importing ``kivy.app`` creates the
clock, whose kind is configuration (:func:`kiosk.screens.kivyconfig.configure_kivy`;
``kiosk run`` calls it first).
"""
from __future__ import annotations

import datetime as _dt
import logging
import math
import time
from pathlib import Path

from kivy.app import App
from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty, StringProperty

from kiosk.navigation import PERSONAL, Navigator
from kiosk.screens import restyle
from kiosk.services import events as ev
from kiosk.services.bus import EventBus
from kiosk.services.registry import Services

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
    ("flags", "kiosk.screens.flags", "FlagsScreen"),
    ("rules", "kiosk.screens.rules_page", "RulesPage"),
    ("flag_detail", "kiosk.screens.flag_detail", "FlagDetailScreen"),
    ("complaints", "kiosk.screens.complaints", "ComplaintsScreen"),
    ("search", "kiosk.screens.search", "SearchScreen"),
    ("villages", "kiosk.screens.villages", "VillagesScreen"),
    ("technician", "kiosk.screens.technician", "TechnicianScreen"),
    ("update", "kiosk.screens.update", "UpdateScreen"),
]
SCREEN_NAMES = [s[0] for s in SCREENS]
#: longest time (s) a tap keeps the previous screen up while the next screen's data loads
SHOW_WAIT_S = 0.3
#: latest start (s after the first frame) of devices, updates and integrity checks
SERVICES_AFTER_S = 3.0
#: the hidden way into 技术员维护: this many taps in the bottom-left corner within the window
CORNER_TAPS = 5
CORNER_WINDOW_S = 3.0
CORNER_MM = 25
#: 从U盘导入 found no stick attached
NO_STICK_ZH = "未找到U盘，请插入U盘后再试"


class KioskApp(App):
    """村务公开查询终端.

    Args:
        home: KIOSK_HOME (config and installed data).
        cfg: configuration (kiosk.config.load); loaded from ``home`` when None.
        opener: ``opener(home) -> Mirror | None`` for the data service (tests).
        now: monotonic clock in seconds for the idle timer (tests advance a fake one).
        today: ``() -> datetime.date`` for the stale-data check.
        services: ``{name: factory(bus)}`` replacing services (tests, the benchmark).

    Kivy properties (kv binds to them): ``footer_text``, ``footer_stale``, ``banner_text``,
    ``place_text``, ``village_name``, ``state`` (``starting`` | ``nodata`` | ``ready``),
    ``multi_village``, ``info`` (the MirrorInfo shown, or None), ``theme`` (sizes and
    palette: kiosk.screens.theme.Theme), ``text_scale`` (1.0 标准, 1.25 大字, 1.5 特大字),
    ``high_contrast`` (高对比: light text on black), ``reading`` (朗读 on).
    """

    title = "村务公开查询终端"
    footer_text = StringProperty("")
    footer_stale = BooleanProperty(False)
    banner_text = StringProperty("")
    place_text = StringProperty("")
    village_name = StringProperty("")
    state = StringProperty("starting")
    multi_village = BooleanProperty(False)
    info = ObjectProperty(None, allownone=True)
    # rebind: kv rules read through it (app.theme.fonts[...], app.theme.mm(4)); Kivy binds
    # such a chain to an intermediate property only when that property rebinds
    theme = ObjectProperty(None, allownone=True, rebind=True)
    text_scale = NumericProperty(1.0)
    high_contrast = BooleanProperty(False)
    #: 朗读 is reading (from the tap until the end, a second tap, navigation, idle or a card
    #: taken away): the 朗读 button shows it as on
    reading = BooleanProperty(False)
    #: the lasting public notice above every footer while a PIN reset or a PIN-based key or
    #: scope change is unconfirmed by the county (kiosk.cache.trustlog.public_notice), or ""
    trust_notice = StringProperty("")
    #: after an automatic rollback of a software update: the line 技术员维护 shows
    app_notice = StringProperty("")

    def __init__(self, home: Path, cfg: dict | None = None, opener=None, now=time.monotonic,
                 today=_dt.date.today, services: dict | None = None, **kw):
        super().__init__(**kw)
        from kiosk import config as _config

        self.home = Path(home)
        self.cfg = cfg if cfg is not None else _config.load(self.home)
        self.timeouts = {**_config.TIMEOUTS, **self.cfg.get("timeouts", {})}
        self.today = today
        self.use_kivy_settings = False
        self.bus = EventBus()  # delivery moves to the main thread in build()
        self.services = Services(self.bus, self.home, self.cfg, opener=opener, overrides=services)
        self.nav = Navigator(self._show, self._reveal, self.services.data.switch, self.services.data.choose_village,
                             self.timeouts, now=now)
        self.work_ahead = None
        self.last_nav = time.monotonic()  # real time of the last screen change (not ``now``)
        self._pending_show = None  # (screen, screen shown at the tap) held back by _show
        self._corner_taps: list[float] = []
        self._pin_pads: dict[int, object] = {}      # PIN request → the pad that asked
        self._print_dialogs: dict[int, object] = {}  # print job → its dialog
        self._app_looked_at = None     # the stick whose app packages were looked at
        self.speaker = None            # kiosk.screens.speaker.Speaker, made in build()
        self._reading_utterance = 0    # the utterance 朗读 waits for (0: none)
        self._reading_item = None      # what is being read: ("screen", name) or a row's key
        self.countdown = None          # kiosk.screens.overlays.IdleCountdown, made in build()
        self.notice = None             # kiosk.screens.overlays.Notice
        self._touches = 0              # fingers on the screen now
        self._finger = None            # the one touch the kiosk follows (a second finger does nothing)
        #: the last print dialog opened (staff and tests look at it)
        self.print_dialog = None

    @property
    def data(self):
        """The data service: ``app.data.submit(fn, done)`` runs ``fn(mirror)`` off the UI thread."""
        return self.services.data

    @property
    def busy(self) -> bool:
        """Whether data queries or their answers are still on their way."""
        return self.services.data.busy

    @property
    def holding_back(self) -> bool:
        """A tapped screen is held back until its data arrives (:meth:`_show`)."""
        return self._pending_show is not None

    @property
    def history(self) -> list[str]:
        return self.nav.history

    # ---- set-up ---------------------------------------------------------------------------
    def build(self):
        from kivy.core.window import Window

        from kiosk.screens.manager import InstantTransition, LazyScreenManager
        from kiosk.screens.overlays import IdleCountdown, Notice
        from kiosk.screens.palette import C
        from kiosk.screens.speaker import Speaker
        from kiosk.screens.widgets import register_fonts
        from kiosk.screens.workahead import WorkAhead

        register_fonts()
        C.use("default")
        Window.clearcolor = C.bg  # the page colour; screens do not paint it again
        self.panel = dict(self.cfg["panel"])
        self.theme = self._make_theme()
        # a trigger: a new panel is set (set_display) together with its window size once
        self._resized = Clock.create_trigger(self._window_resized, -1)
        Window.bind(size=self._resized)
        self.sm = LazyScreenManager(SCREENS, transition=InstantTransition())
        self.sm.current = "nodata"
        self.work_ahead = WorkAhead(self, SCREENS)
        self.bus.set_delivery(lambda fn: Clock.schedule_once(lambda _dt: fn(), 0))
        self.speaker = Speaker(self.bus)  # plays on the main thread, where the bus now delivers
        self.speaker.bind(speaking=self._on_speaking)
        self.countdown, self.notice = IdleCountdown(), Notice()
        self._subscribe()
        self._subscribe_technician()
        self.services.data.on_idle = self._data_idle
        Window.bind(on_touch_down=self._on_touch, on_touch_move=self._on_touch_move, on_touch_up=self._on_touch_up)
        self._lock_down(Window)
        self.bind(on_start=lambda *_: self._tell_systemd())
        self.refresh_trust_notice()
        if Window.fullscreen not in (0, False, "0"):
            Window.show_cursor = False
        # a bound method: Kivy keeps only a weak reference to an interval's callback after its
        # first call, so a lambda here was collected and the idle timer stopped
        Clock.schedule_interval(self._idle_tick, 1)
        self.services.data.start()

        # Devices, updates and integrity checks start once the first screen with data (or
        # 尚无数据) is up, at the latest SERVICES_AFTER_S after the first frame: their
        # imports (printer, diskcache, cryptography) took ~0.25 s of start-up.
        def after_frame(*_):
            if self.nav.state != "starting":
                Window.unbind(on_flip=after_frame)
                Clock.schedule_once(lambda _dt: self.services.start_background(), 0)

        def first_frame(*_):
            Window.unbind(on_flip=first_frame)
            Clock.schedule_once(lambda _dt: self.services.start_background(), SERVICES_AFTER_S)

        Window.bind(on_flip=after_frame)
        Window.bind(on_flip=first_frame)
        return self.sm

    def _subscribe(self) -> None:
        on = self.bus.subscribe
        on(ev.DataShown, self._on_data_shown)
        on(ev.VillageChosen, self._on_village_chosen)
        on(ev.DataVersionChanged, lambda e: self.nav.version_waiting())
        on(ev.DataJobFailed, lambda e: setattr(self, "banner_text", e.message_zh))
        on(ev.IntegrityProblem, self._on_integrity_problem)
        on(ev.CardPresented, self._on_card)
        on(ev.CardRefused, self._on_card)
        on(ev.CardRemoved, self._on_card_removed)
        on(ev.ReaderLost, lambda e: setattr(self._mine(), "reader_missing", True))
        on(ev.ReaderFound, lambda e: setattr(self._mine(), "reader_missing", False))
        on(ev.ImportEvent, self._on_import)
        on(ev.PinChecked, self._on_pin_checked)
        on(ev.PrintDone, self._on_printed)
        on(ev.PrintFailed, self._on_printed)
        on(ev.SpeechSkipped, self._on_speech_skipped)
        on(ev.SpeechFailed, self._on_speech_failed)
        self._subscribe_app_updates()

    def open_settings(self, *args):  # F1 must not open Kivy's settings panel on a kiosk
        return False

    def on_stop(self):
        if self.speaker is not None:
            self.speaker.close()
        self.services.stop()

    # ---- data -----------------------------------------------------------------------------
    def _on_data_shown(self, e: ev.DataShown) -> None:
        self._set_info(e.info)
        self.nav.data_shown(e.info)
        self.refresh_trust_notice()

    def refresh_trust_notice(self) -> None:
        """Read the footer's lasting notice again (off the UI thread; :class:`TrustNotice`)."""
        self.services.integrity.read_trust_notice()

    def _on_village_chosen(self, e: ev.VillageChosen) -> None:
        self._set_info(e.info)
        self.nav.village_chosen(e.info)

    def _on_integrity_problem(self, e: ev.IntegrityProblem) -> None:
        """A fallback to last known good is switched in at the next safe point (like a new
        version, with its banner); with no trusted version left nothing may stay on screen,
        so 尚无数据 (with the reason) shows at once."""
        if e.result.status == "no_trusted_version":
            self.services.data.close(e.result.banner or "")
        else:
            self.services.data.check()

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
        self.work_ahead.restart()  # new data or another village: prepare the sections again

    def is_stale(self, data_as_of: str) -> bool:
        """Whether ``data_as_of`` (YYYY-MM-DD) is older than ``stale_after_days``."""
        age = (self.today() - _dt.date.fromisoformat(data_as_of)).days
        return age > int(self.cfg.get("stale_after_days", 35))

    @property
    def settled(self) -> bool:
        """Whether start-up work is done: data open, every screen built ahead and the
        sections' first pages prepared (the benchmark's walk starts here)."""
        return self.nav.state != "starting" and not self.work_ahead.running and not self.busy

    # ---- navigation (one path: the Navigator) ----------------------------------------------
    def go(self, name: str, **params) -> None:
        """Open screen ``name`` (its data loads just after it is shown)."""
        self.nav.go(name, **params)

    def back(self) -> None:
        """返回: the previous screen as it was (no reload), or 首页."""
        self.nav.back()

    def go_home(self) -> None:
        """首页: also the moment to switch to a newly installed data version."""
        self.nav.home()

    def go_villages(self) -> None:
        """换村 (township/county kiosk): back to the village picker."""
        self.nav.villages()

    def _sync_state(self) -> None:
        self.state = self.nav.state
        self.multi_village = self.nav.multi_village

    def _show(self, name: str, params: dict) -> None:
        """The Navigator's ``show``: open screen ``name`` and put it up."""
        self.stop_reading()  # 朗读 reads the screen it was tapped on, never the next one
        self._hide_countdown()
        self._sync_state()
        self.last_nav = time.monotonic()
        scr = self.sm.get_screen(name)
        scr.warmed_for = self.work_ahead.key()  # what it shows now is what warming would prepare
        restyle.before_show(scr)  # text it put off while the text size changed
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
        Clock.schedule_once(lambda _dt: self._finish_show(token), SHOW_WAIT_S)

    def _reveal(self, name: str) -> None:
        """The Navigator's ``reveal``: put screen ``name`` up again as it was left."""
        self.stop_reading()
        self._hide_countdown()
        self._sync_state()
        self._pending_show = None
        self.last_nav = time.monotonic()
        restyle.before_show(self.sm.get_screen(name))
        self.sm.current = name

    def _data_idle(self) -> None:
        if self._pending_show is not None:
            self._finish_show()

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

    # ---- text size, contrast, panel (the frame header's controls) ---------------------------
    def _make_theme(self, scale: float | None = None, contrast: str | None = None):
        from kivy.core.window import Window

        from kiosk.screens.theme import theme_for

        return theme_for(self.panel, self.text_scale if scale is None else scale,
                         ("high" if self.high_contrast else "default") if contrast is None else contrast,
                         window_px=tuple(Window.size))

    def set_display(self, text_scale: float | None = None, high_contrast: bool | None = None,
                    panel: dict | None = None) -> None:
        """Change the text scale (1.0, 1.25 大字, 1.5 特大字), 高对比 and/or the panel
        (``config["panel"]``: a screenshot or test of another panel) and redraw.

        The screen on display is redrawn at the next frame; screens off the window render
        their text when the kiosk is idle, or when they are shown (kiosk.screens.restyle).

        Raises:
            ValueError: an unknown text scale or a bad panel size.
        """
        from kivy.core.window import Window

        from kiosk.screens.palette import C

        scale = self.text_scale if text_scale is None else float(text_scale)
        contrast = bool(self.high_contrast if high_contrast is None else high_contrast)
        old_panel = self.panel
        if panel is not None:
            self.panel = dict(panel)
        try:
            theme = self._make_theme(scale, "high" if contrast else "default")
        except ValueError:
            self.panel = old_panel
            raise
        if theme == self.theme:
            return
        restyle.begin(self)
        if C.use(theme.contrast):
            restyle.recolour_default_labels()
            Window.clearcolor = C.bg
        self.text_scale, self.high_contrast = scale, contrast
        restyle.hold_offscreen_rules(self)  # screens off the window catch up later
        self.theme = theme
        restyle.end(self)

    def toggle_text_scale(self, scale: float) -> None:
        """大字 / 特大字: that scale, or back to 标准 when it is on already."""
        self.set_display(text_scale=1.0 if self.text_scale == scale else scale)

    def toggle_contrast(self) -> None:
        """高对比 on or off."""
        self.set_display(high_contrast=not self.high_contrast)

    def on_idle_return(self) -> None:
        """The person has left (the Navigator returned to the resting screen, or the resting
        screen itself stood idle as long): the next person finds the kiosk as it stands,
        标准 text and the default palette, 朗读 off."""
        self.stop_reading()
        if self.text_scale != 1.0 or self.high_contrast:
            self.set_display(text_scale=1.0, high_contrast=False)

    def _window_resized(self, *_):
        theme = self._make_theme()
        if theme != self.theme:
            self.theme = theme

    # ---- touches and idle -----------------------------------------------------------------
    def _idle_tick(self, _dt=None) -> None:
        """Once a second: the 继续使用 countdown in the last ``idle_warning`` seconds before the
        idle return (not while a finger is on the screen: nothing appears under it), then
        the return itself (reading stops, 标准 text and palette, a person's records close).
        At 首页 itself, 大字 or 高对比 left on go back to the default after as long."""
        if self.nav.tick():
            self.on_idle_return()
            self._hide_countdown()
            return
        if self.nav.current == self.nav.resting and self._settings_changed() and \
                self.nav.now() - self.nav.last_activity >= float(self.timeouts["public_idle_to_home"]):
            self.on_idle_return()
            return
        left = self.nav.warning_seconds_left()
        if left is None:
            self._hide_countdown()
        elif self.countdown is not None and (self.countdown.shown or self._touches == 0):
            self.countdown.what = "将关闭您的信息" if self.nav.current in PERSONAL else "将回到首页"
            self.countdown.seconds = math.ceil(left)
            self.countdown.show()

    def _settings_changed(self) -> bool:
        return self.text_scale != 1.0 or self.high_contrast or self.reading

    def _hide_countdown(self) -> None:
        if self.countdown is not None:
            self.countdown.hide()

    def _on_activity(self, *args):
        self.nav.activity()
        self._hide_countdown()
        return False

    def _on_touch_move(self, _win, touch):
        if touch.ud.get("kiosk_ignored"):
            return True
        return self._on_activity()

    def _on_touch_up(self, _win, touch):
        self._touches = max(0, self._touches - 1)
        self.nav.activity()
        if touch.ud.get("kiosk_ignored"):
            return True
        if touch is self._finger:
            self._finger = None
        return False

    def _one_finger(self, touch) -> bool:
        """Whether ``touch`` is the only finger the kiosk follows. A second finger while
        one is down does nothing (two buttons at once, a pinch, a two-way scroll): it is
        marked and its moves and lift are swallowed too. The first finger counts while
        Kivy's event loop has it down (``EventLoop.touches``), not until this App sees its
        lift: a handler bound later may stop a lift from reaching the App, and a finger
        wrongly held would leave the kiosk deaf to every touch."""
        from kivy.base import EventLoop

        held = self._finger
        if held is not None and held is not touch and held in EventLoop.touches:
            touch.ud["kiosk_ignored"] = True
            return False
        self._finger = touch
        return True

    def _on_touch(self, _win, touch):
        """Every touch is activity; five quick taps in the bottom-left corner open 技术员维护."""
        self._touches += 1
        self.nav.activity()
        if not self._one_finger(touch):
            return True
        if self.countdown is not None and self.countdown.shown and not self.countdown.collide_point(*touch.pos):
            self._hide_countdown()  # (a touch on the box itself is its 继续使用: the box hides)
        r = self.theme.mm(CORNER_MM)
        if touch.x <= r and touch.y <= r:
            now = time.monotonic()
            self._corner_taps = [t for t in self._corner_taps if now - t < CORNER_WINDOW_S] + [now]
            if len(self._corner_taps) >= CORNER_TAPS:
                self._corner_taps.clear()
                self.nav.go("technician")
        return False

    # ---- ID card --------------------------------------------------------------------------
    def _mine(self):
        return self.sm.get_screen("mine")

    def _on_card(self, e) -> None:
        """A card placed (or refused) on any screen opens 我的查询. Placing a card is activity:
        the person's records stay ``personal_idle_to_home`` seconds from then (counting
        from the last touch instead closed them ~25 s after a card placed 5 s later).
        During 技术员维护 › 读卡测试 the test gets the card instead."""
        if self._card_test_takes(e):
            return
        if self.nav.state != "ready":
            return
        self.nav.activity()
        self._hide_countdown()
        if self.nav.current == "mine":
            self.stop_reading()  # a new holder: nothing of the last one is read on
        if self.nav.current != "mine":
            self.nav.go("mine")
        if isinstance(e, ev.CardPresented):
            self._mine().card_placed(e.card)
        else:
            self._mine().card_error(e.message_zh)

    def _on_card_removed(self, e) -> None:
        """The card was taken away: the records close and 朗读 stops."""
        self.stop_reading()
        self.nav.activity()
        tech = self._technician()
        if tech is not None and tech.card_test_active:
            tech.card_test_removed()
        if self.sm.built("mine"):
            self._mine().card_removed()

    # ---- 朗读 ---------------------------------------------------------------------------------
    def toggle_reading(self) -> None:
        """The 朗读 button: read the screen shown (its ``spoken()``), or stop if reading."""
        self.nav.activity()
        if self.reading:
            self.stop_reading()
            return
        scr = self.sm.current_screen
        spoken = getattr(scr, "spoken", None)
        pairs = [(k, v) for k, v in (spoken() if spoken else []) if v and str(v).strip()]
        self._read(("screen", self.sm.current), pairs)

    def read_item(self, key, pairs: list[tuple[str, str]]) -> bool:
        """While reading: read ``pairs`` (a row tapped) instead. False when ``key`` is the
        item being read already: the second tap on it does what a tap does (opens it)."""
        if not self.reading or key == self._reading_item:
            return False
        self._read(key, pairs)
        return True

    def stop_reading(self) -> None:
        """Stop 朗读 now (second tap, navigation, idle, card taken away)."""
        if self.reading or self._reading_utterance:
            self.services.speech.cancel()
            if self.speaker is not None:
                self.speaker.stop()
        self.reading = False
        self._reading_utterance = 0
        self._reading_item = None

    def _read(self, key, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            self.stop_reading()
            return
        (title_label, title), rest = pairs[0], pairs[1:]
        if title_label:  # the first pair is a field, not a title
            title, rest = "", pairs
        u = self.services.speech.speak_fields(title, rest)
        self._reading_item = key
        self._reading_utterance = u or 0
        self.reading = u is not None

    def _on_speaking(self, _speaker, speaking: bool) -> None:
        """The speaker finished (or was stopped): 朗读 is off once the utterance it waits
        for is over. The end of a reading is activity: the idle time starts after it."""
        if speaking or not self._reading_utterance:
            return
        if self.speaker.utterance >= self._reading_utterance:
            self.reading = False
            self._reading_utterance = 0
            self._reading_item = None
            self.nav.activity()

    def _on_speech_skipped(self, e: ev.SpeechSkipped) -> None:
        self.reading = False
        self._reading_utterance = 0
        self._reading_item = None
        if e.message_zh and self.notice is not None:
            self.notice.say(e.message_zh)

    def _on_speech_failed(self, e: ev.SpeechFailed) -> None:
        if e.utterance == self._reading_utterance:
            self.reading = False
            self._reading_utterance = 0
            self._reading_item = None
        if self.notice is not None:
            self.notice.say(e.message_zh)

    # ---- stick imports and syncs ----------------------------------------------------------
    def _on_import(self, e: ev.ImportEvent) -> None:
        self.nav.activity()  # an import in progress is activity: no idle return
        if isinstance(e, (ev.SyncStarted, ev.SyncDone)) or (isinstance(e, ev.ImportProgress) and e.source == "sync"):
            if self.sm.built("technician"):
                self.sm.get_screen("technician").on_sync_event(e)
            if isinstance(e, ev.SyncDone) and e.installed:
                self.services.data.check()
            return
        if isinstance(e, ev.StickFound):
            if self.nav.current == "update":
                self.sm.get_screen("update").open(state="preparing")
            else:
                self.nav.go("update", state="preparing")
            return
        if isinstance(e, (ev.ImportOffered, ev.ImportDone, ev.ImportRefused)) and self.nav.current != "update":
            self.nav.go("update")
        self.sm.get_screen("update").on_import_event(e)
        if isinstance(e, ev.ImportDone):
            self.services.data.check()  # the new version is switched in at the next safe point

    # ---- PIN --------------------------------------------------------------------------------
    def check_pin(self, pad, entered: str, name: str = "technician") -> None:
        """Check ``entered`` off the UI thread; ``pad.checked(event)`` gets the answer."""
        self._pin_pads[self.services.pin.check(name, entered)] = pad

    def _on_pin_checked(self, e: ev.PinChecked) -> None:
        pad = self._pin_pads.pop(e.request, None)
        if pad is not None:
            pad.checked(e)

    # ---- printing ---------------------------------------------------------------------------
    def print_record(self, build):
        """Open the print dialog and print the receipt ``build(mirror, link) -> Receipt | None``
        makes (built on the data worker; None or ValueError: nothing to print). ``link`` is the
        viewer link of the version shown (:attr:`DataService.viewer_link`; None without
        ``viewer.base_url``): every receipt gets it, so its QR code opens that record at that
        version. Returns the dialog."""
        from kiosk.screens.printing import PrintDialog

        dlg = self.print_dialog = PrintDialog()
        dlg.open()

        data = self.services.data

        def safe_build(m):
            try:
                return build(m, data.viewer_link)
            except ValueError:  # nothing to print (e.g. no payments)
                return None

        def built(receipt):
            if receipt is None:
                dlg.show_error("没有可打印的记录")
                return
            dlg.job = self.services.printer.print(receipt)
            self._print_dialogs[dlg.job] = dlg

        self.services.data.submit(safe_build, built)
        return dlg

    def retry_print(self, dlg) -> bool:
        """重试 in the print dialog: the same job again."""
        return dlg.job is not None and self.services.printer.retry(dlg.job)

    def _on_printed(self, e) -> None:
        dlg = self._print_dialogs.get(e.job)
        if dlg is not None:
            dlg.show_result(e)


    # ---- 技术员维护: devices, test print, card test, restart --------------------------------
    def _subscribe_technician(self) -> None:
        on = self.bus.subscribe
        on(ev.TrustNotice, lambda e: setattr(self, "trust_notice", e.text))
        on(ev.IntegrityChecked, lambda e: self.refresh_trust_notice())
        on(ev.PrinterChecked, self._to_technician)
        on(ev.ReaderChecked, self._to_technician)

    def _technician(self):
        return self.sm.get_screen("technician") if self.sm.built("technician") else None

    def _to_technician(self, e) -> None:
        tech = self._technician()
        if tech is not None:
            tech.on_device_checked(e)

    def _card_test_takes(self, e) -> bool:
        tech = self._technician()
        if tech is None or self.nav.current != "technician" or not tech.card_test_active:
            return False
        self.nav.activity()
        tech.card_test_result(e)
        return True

    def print_test(self, receiver) -> int:
        """技术员维护 › 打印测试页: print ``kiosk print-test``'s receipt through the printer
        service; ``receiver.show_result(event)`` gets its PrintDone/PrintFailed."""
        job = self.services.printer.print_test()
        self._print_dialogs[job] = receiver
        return job

    def restart(self) -> None:
        """技术员维护 › 重新启动: tell systemd we stop on purpose and end the app; under
        systemd (Restart=always) it starts again, by hand it just quits."""
        from kiosk.services import systemd

        log.info("restart asked from the technician menu")
        systemd.stopping()
        self.stop()

    # ---- lockdown and systemd (deploy/README.md, "What the app must do") ---------------------
    #: F1 (Kivy's settings) and F4 (with Alt: close) as SDL key codes; 27 is Escape and Android's back
    KEY_ESCAPE, KEY_F1, KEY_F4 = 27, 282, 285

    def _lock_down(self, window) -> None:
        """No key or gesture leaves the kiosk: every close request (Alt+F4, the window's
        close button, SDL's quit) is refused; Escape, F1 and every other key are swallowed
        unless a text field has the keyboard (员工查找's typing). Long presses open nothing:
        no ``kivy.modules`` is loaded (kiosk.screens.kivyconfig clears them). Bound last,
        so these run before Kivy's own handlers."""
        window.bind(on_request_close=self._refuse_close)
        window.bind(on_key_down=self._on_key_down, on_keyboard=self._on_keyboard)

    def _refuse_close(self, *_args, **_kw) -> bool:
        log.info("close request refused")
        return True

    @staticmethod
    def _typing() -> bool:
        from kivy.core.window import Window
        from kivy.uix.textinput import TextInput

        target = getattr(Window._system_keyboard, "target", None)
        return isinstance(target, TextInput) and target.focus

    def _on_key_down(self, _win, key, *_args) -> bool:
        """A key goes on to a focused text field; anything else stops here (and never
        reaches ``on_keyboard``, where Escape and F1 act)."""
        if key in (self.KEY_ESCAPE, self.KEY_F1) or not self._typing():
            return True
        return False

    def _on_keyboard(self, _win, key, *_args) -> bool:
        """Escape (Android back), F1 and Alt+F4 never act, even in a text field."""
        return key in (self.KEY_ESCAPE, self.KEY_F1, self.KEY_F4) or not self._typing()

    def _tell_systemd(self) -> None:
        """Under systemd (``$NOTIFY_SOCKET``): READY once the first frame after the start
        is drawn, then WATCHDOG from the Kivy clock every half ``WatchdogSec``, so a frozen
        UI thread gets restarted. Nothing outside systemd."""
        import os

        if not os.environ.get("NOTIFY_SOCKET"):
            return
        from kivy.core.window import Window

        from kiosk.services import systemd

        def first_frame(*_):
            Window.unbind(on_flip=first_frame)
            systemd.ready()
            every = systemd.watchdog_interval()
            if every:
                Clock.schedule_interval(self._watchdog_ping, every)

        Window.bind(on_flip=first_frame)

    @staticmethod
    def _watchdog_ping(_dt=None) -> None:
        from kiosk.services import systemd

        systemd.ping()
    # ---- 从U盘导入 and software updates from a stick -----------------------------------------
    def import_from_stick(self) -> str:
        """从U盘导入 (技术员维护): start the stick flow with a stick attached now (the update
        screen opens on its StickFound), or say why not. Returns what the service said."""
        res = self.services.updates.stick_look()
        if res == "none":
            self.notice.say(NO_STICK_ZH)
        elif res == "busy":
            self.notice.say("正在导入或同步，请稍后再试")
        return res

    def _subscribe_app_updates(self) -> None:
        on = self.bus.subscribe
        on(ev.ImportEvent, self._look_for_app_update)  # after _on_import: the screen knows the stick first
        on(ev.AppUpdateEvent, self._on_app_update)

    def _look_for_app_update(self, e: ev.ImportEvent) -> None:
        """Once the data part of a stick is offered (or refused), look at its app packages:
        once per stick, off the UI thread (kiosk.services.appupdate)."""
        if isinstance(e, ev.StickFound):
            self._app_looked_at = None
        elif isinstance(e, (ev.ImportOffered, ev.ImportRefused)) and e.app_root is not None:
            if self._app_looked_at != e.app_root:
                self._app_looked_at = e.app_root
                self.sm.get_screen("update").app_looking()
                self.services.appupdate.look(e.app_root)

    def _on_app_update(self, e: ev.AppUpdateEvent) -> None:
        if isinstance(e, ev.AppRolledBack):
            self.app_notice = f"新版本 {e.failed_version} 未能正常启动，已自动恢复到 {e.running_version} 版"
            if self.notice is not None:
                self.notice.say(self.app_notice)
            return
        self.nav.activity()  # an app update in progress is activity
        if self.sm.built("update"):
            self.sm.get_screen("update").on_app_event(e)

