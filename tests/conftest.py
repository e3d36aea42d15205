"""Shared fixtures: keys, small bundles, and the imported demo village.

Bundles in tests use a low scrypt cost (``--id-hash-n 1024``) to stay fast; the cost is a
bundle parameter (meta table), so kiosks hash card numbers with whatever the bundle says.
"""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

sys.path.insert(0, str(Path(__file__).parent))

# Property and fuzz tests: brief and repeatable in `make test`, long in `make fuzz`
# (pytest --hypothesis-profile=fuzz). A test's own @settings(max_examples=…) still wins.
settings.register_profile("brief", max_examples=40, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=int(os.environ.get("FUZZ_EXAMPLES", "5000")), deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("brief")

from sourcekit import write_source  # noqa: E402

TEST_ID_HASH_N = 1024
DEMO_VILLAGE = "431382111249"


def run_cli(*args: str) -> int:
    from kiosk.cli import main

    return main([str(a) for a in args])


def tree_digest(root: Path) -> str:
    """SHA-256 over every path, type and file content below ``root`` ("untouched" checks)."""
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(dirnames + filenames):
            p = Path(dirpath) / name
            h.update(str(p.relative_to(root)).encode() + b"\0")
            if p.is_symlink():
                h.update(b"L" + os.readlink(p).encode())
            elif p.is_file():
                h.update(b"F" + p.read_bytes())
            else:
                h.update(b"D")
    return h.hexdigest()


@pytest.fixture(scope="session")
def test_key(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "test-key"
    assert run_cli("keygen", "--out", d) == 0
    return d


@pytest.fixture(scope="session")
def other_test_key(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("keys2") / "other-test-key"
    assert run_cli("keygen", "--out", d) == 0
    return d


@pytest.fixture()
def home(tmp_path, monkeypatch, test_key) -> Path:
    """An empty KIOSK_HOME that trusts ``test_key``."""
    h = tmp_path / "home"
    h.mkdir()
    monkeypatch.setenv("KIOSK_HOME", str(h))
    assert run_cli("trust", test_key / "signing.pub") == 0
    return h


def build_bundle(src: Path, key: Path, seq: int, out: Path) -> Path:
    assert run_cli("bundle", "build", src, "--key", key / "signing.key", "--seq", seq, "--out", out,
                   "--id-hash-n", TEST_ID_HASH_N, "--quiet") == 0
    return out


@pytest.fixture(scope="session")
def small_src(tmp_path_factory) -> Path:
    return write_source(tmp_path_factory.mktemp("src") / "src")


@pytest.fixture(scope="session")
def small_bundle(tmp_path_factory, small_src, test_key) -> Path:
    return build_bundle(small_src, test_key, 1, tmp_path_factory.mktemp("b") / "bundle")


@pytest.fixture(scope="session")
def small_bundle_v2(tmp_path_factory, small_src, test_key) -> Path:
    """The same records as ``small_bundle``, signed as 第2版."""
    return build_bundle(small_src, test_key, 2, tmp_path_factory.mktemp("b2") / "bundle")


@pytest.fixture()
def two_versions(home, small_bundle, small_bundle_v2) -> tuple[str, str]:
    """A kiosk showing 第2版 with 第1版 as last known good: (v1, v2) folder names."""
    from kiosk.cache import install

    install.install(small_bundle, home)
    install.install(small_bundle_v2, home)
    st = install.read_state(home)
    return st["last_known_good"], st["current"]


@pytest.fixture(scope="session")
def demo_source(tmp_path_factory) -> Path:
    """The demo village's source export (kiosk demo-data, seed 1)."""
    out = tmp_path_factory.mktemp("demo") / "source"
    assert run_cli("demo-data", "--village", DEMO_VILLAGE, "--out", out, "--seed", 1) == 0
    return out


@pytest.fixture(scope="session")
def demo_bundle(tmp_path_factory, demo_source, test_key) -> Path:
    return build_bundle(demo_source, test_key, 1, tmp_path_factory.mktemp("demob") / "bundle")


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory, demo_bundle, test_key) -> Path:
    """A KIOSK_HOME with the demo village imported (session-wide; treat as read-only).

    Sets KIOSK_HOME for the session, so subprocesses and the app see it.
    """
    h = tmp_path_factory.mktemp("demohome") / "home"
    h.mkdir()
    old = os.environ.get("KIOSK_HOME")
    os.environ["KIOSK_HOME"] = str(h)
    assert run_cli("trust", test_key / "signing.pub") == 0
    assert run_cli("import", demo_bundle) == 0
    yield h
    if old is None:
        os.environ.pop("KIOSK_HOME", None)
    else:
        os.environ["KIOSK_HOME"] = old


# ---------------------------------------------------------------- the shared headless app (UI tests)
#
# Kivy keeps one window per process, so every UI test (``-m ui``, run in its own process by
# ``make test``) drives one app, made once per session. The ``ui`` fixture hands it to each
# test reset to the same state (the demo village at 首页, nothing open), so the UI tests pass
# in any order.

UI_PIN = "246810"
UI_TODAY = __import__("datetime").date(2026, 11, 30)
UI_SIZE = (1920, 1080)
UI_TIMEOUT_S = 240  # per UI test (pytest-timeout): a hang fails one test, not the run


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("ui") and not item.get_closest_marker("timeout"):
            item.add_marker(pytest.mark.timeout(UI_TIMEOUT_S))


class FakeClock:
    """The monotonic clock the idle timer reads; tests advance it instead of waiting."""

    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


class DataSwitch:
    """The data service's opener in the shared app: tests point it at another KIOSK_HOME
    (or at nothing); the app then finds the "new version" as it finds a real one."""

    def __init__(self, home: Path):
        self.default = self.home = home
        self.patch = None

    def point(self, home: Path | None, patch=None) -> None:
        self.home, self.patch = home, patch

    def __call__(self, _home):
        from kiosk.cache.mirror import open_current

        if self.home is None:
            return None
        m = open_current(self.home)
        if m is not None and self.patch is not None:
            self.patch(m)
        return m

    def expected(self) -> tuple[str, int]:
        m = self(None)
        try:
            return m.info.fingerprint, m.info.seq
        finally:
            m.close()


@pytest.fixture(scope="session")
def ui_home(tmp_path_factory, demo_bundle, test_key) -> Path:
    """The shared app's KIOSK_HOME: the demo village installed, a technician PIN, the
    simulated card reader and printer."""
    import json

    from kiosk.cache import install, keys, pin

    h = tmp_path_factory.mktemp("uihome") / "home"
    h.mkdir()
    keys.TrustStore(h).trust_first(keys.load_public(test_key / "signing.pub"))
    install.install(demo_bundle, h)
    pin.set_pin("technician", UI_PIN, home=h)
    (h / "config.json").write_text(json.dumps({
        "idcard": {"device": "sim"}, "printer": {"device": "sim"},
        "timeouts": {"card_poll_interval": 0.05}}), encoding="utf-8")
    return h


@pytest.fixture(scope="session")
def ui_app(ui_home, tmp_path_factory):
    import tempfile

    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_HOME", tempfile.mkdtemp(prefix="kiosk-kivy-test-"))
    os.environ.pop("DISPLAY", None)
    # SDL's dummy audio: real playback timing (朗读) without a sound card
    os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
    from kiosk.screens.kivyconfig import configure_kivy

    configure_kivy(windowed=True, size=UI_SIZE)
    from kivy.core.window import Window

    from kiosk import config
    from kiosk.app import KioskApp
    from kiosk.screens.headless import pump, start_headless, stop_headless
    from kiosk.cache.appinstall import Layout
    from kiosk.services.appupdate import AppUpdateService
    from kiosk.services.speech import SpeechService
    from kiosk.services.updates import UpdateService

    cfg = config.load(ui_home)
    clock = FakeClock()
    data = DataSwitch(ui_home)
    # no stick watcher and no background sync: the tests plug sticks and start syncs themselves;
    # 朗读 at noon (outside the quiet hours whenever the tests run)
    noon = __import__("datetime").datetime.combine(UI_TODAY, __import__("datetime").time(12, 0))
    # the app update service reads root's state of a kiosk that runs 0.1.0 (never this machine's)
    app_state = tmp_path_factory.mktemp("appupdate")
    no_systemd = lambda args: subprocess.CompletedProcess(args, 1, "", "no systemd in tests")  # noqa: E731
    app = KioskApp(ui_home, cfg=cfg, opener=data, now=clock, today=lambda: UI_TODAY,
                   services={"updates": lambda bus: UpdateService(bus, ui_home, cfg, watch_sticks=False,
                                                                  sync_every_s=0),
                             "appupdate": lambda bus: AppUpdateService(
                                 bus, ui_home, Layout(app_state / "opt", app_state / "state"), systemctl=no_systemd),
                             "speech": lambda bus: SpeechService(bus, cfg, now=lambda: noon)})
    start_headless(app)
    Window.size = UI_SIZE
    pump(app)
    app.test_clock, app.test_data = clock, data
    yield app
    stop_headless(app)


@pytest.fixture()
def ui(ui_app, ui_home):
    """The shared app, reset: the demo village shown at 首页, no dialog open, no card on the
    reader, the idle clock fresh."""
    from uikit import show_data, until

    app = ui_app
    if app.print_dialog is not None and app.print_dialog.parent is not None:
        app.print_dialog.dismiss(animation=False)
    until(app, lambda: app.print_dialog is None or app.print_dialog.parent is None)
    sim = app.services.card.simulator
    if sim is not None:
        sim.remove()
        sim.plug()
    app.today = lambda: UI_TODAY
    app.test_data.point(ui_home)
    if app.info is None or (app.info.fingerprint, app.info.seq, app.info.banner) != (*app.test_data.expected(), None):
        show_data(app, ui_home)  # another version or village was shown: switch back the kiosk's way
    else:
        from kiosk.services.events import DataShown

        app.bus.publish(DataShown(app.info))  # the footer again from today's date
    app.stop_reading()
    app.nav.activity()
    app.go_home()
    until(app, lambda: app.sm.current == "home")
    yield app
