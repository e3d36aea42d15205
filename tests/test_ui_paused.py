"""暂停服务 rendered headless by the real command (``kiosk paused --screenshot``), and its
page: every line, its size (≥ 8 mm on the configured panel) and its contrast (≥ 7:1)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import run_cli

pytestmark = pytest.mark.ui

SCRIPT = r'''
import json, os, sys
os.environ.pop("DISPLAY", None)
os.environ["KIVY_NO_ARGS"] = "1"
from kivy.config import Config
Config.set("graphics", "width", "1920"); Config.set("graphics", "height", "1080")
from kiosk.services.recovery import paused_info
from kiosk.screens.paused import PausedView
from kivy.core.window import Window
from kivy.uix.label import Label
view = PausedView(paused_info(sys.argv[1]), 1080)
view.size = (1920, 1080)
print(json.dumps([[w.text, w.font_size, list(w.color)] for w in reversed(view.children) if isinstance(w, Label)]))
'''


def test_paused_page(home, small_bundle, tmp_path):
    assert run_cli("import", small_bundle) == 0
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env.update(KIOSK_HOME=str(home), KIVY_NO_CONSOLELOG="1")
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(home)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    lines = json.loads(r.stdout.strip().splitlines()[-1])
    texts = [t for t, _, _ in lines]
    place = texts[0].removesuffix(" 村务公开查询终端")
    assert place and texts[0] == f"{place} 村务公开查询终端"
    assert texts[1:] == ["暂停服务", "本机暂时无法使用，请稍后再来。", f"如需帮助，请联系{place}村委会：", "0738-0000001",
                         "（原因：本机多次启动失败）"]
    from kiosk.screens.paused import BG
    from kiosk.screens.theme import MIN_CONTRAST, MIN_TEXT_MM, contrast_ratio

    px_per_mm = 1920 / (21.5 * 25.4 * 16 / (16 ** 2 + 9 ** 2) ** 0.5)
    for text, size, color in lines:
        assert size >= MIN_TEXT_MM * px_per_mm, (text, size)
        assert contrast_ratio(color, BG) >= MIN_CONTRAST, text


def test_paused_command_renders(home, tmp_path):
    out = tmp_path / "paused.png"
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    env["KIOSK_HOME"] = str(home)
    r = subprocess.run([sys.executable, "-m", "kiosk", "paused", "--screenshot", str(out)],
                       capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "暂停服务: the app keeps failing to start" in r.stderr
    from PIL import Image

    with Image.open(out) as im:
        rgb = im.convert("RGB")
        assert im.size == (1920, 1080)
        assert rgb.getpixel((5, 5)) == (247, 245, 239)  # the page colour, nothing else behind it
        # the title's dark blue is there
        assert any(abs(r - 14) < 12 and abs(g - 58) < 12 and abs(b - 103) < 12
                   for r, g, b in rgb.resize((480, 270)).getdata())


def test_paused_on_x_fills_the_screen_and_ends_on_sigterm(home, tmp_path):
    """On a real X server (Xvfb): the page covers the whole screen, and ``systemctl stop``
    (SIGTERM) ends it, although it refuses every close request from a key."""
    import shutil
    import signal
    import time

    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed")
    r, w = os.pipe()
    xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(w), "-screen", "0", "1280x720x24", "-nolisten", "tcp",
                             "-noreset"], pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    with os.fdopen(r) as f:
        display = ":" + f.readline().strip()
    env = {**os.environ, "DISPLAY": display, "KIOSK_HOME": str(home), "KIOSK_RUN_DIR": str(tmp_path)}
    p = subprocess.Popen([sys.executable, "-m", "kiosk", "paused"], env=env,
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        from kiosk.devices import display as D

        deadline = time.monotonic() + 60
        while True:  # wait for the page to be drawn
            img = tmp_path / "shot.png"
            D.screenshot(img, display)
            from PIL import Image

            with Image.open(img) as im:
                rgb = im.convert("RGB")
                if rgb.getpixel((2, 2)) == (247, 245, 239) and rgb.getpixel((1277, 717)) == (247, 245, 239):
                    break
            assert p.poll() is None, p.stderr.read()
            assert time.monotonic() < deadline, "the page never covered the screen"
            time.sleep(0.3)
        assert (tmp_path / "paused-count").read_text() == "1\n"
        p.send_signal(signal.SIGTERM)
        p.wait(timeout=15)
        assert p.returncode == -signal.SIGTERM
    finally:
        if p.poll() is None:
            p.kill()
        xvfb.terminate()
        xvfb.wait(10)


RUN_SCRIPT = r'''
import json, os, sys
from kiosk.screens import paused

seen = {}
build = paused.PausedApp.build


def build_and_close(self):
    """The page as kiosk run builds it; a few frames later, what it says, then closed
    (the window's close request, as a person closing it would)."""
    root = build(self)
    from kivy.clock import Clock
    from kivy.core.window import Window
    from kivy.uix.label import Label

    ticks = []

    def close(*_):
        ticks.append(1)
        if len(ticks) < 4:
            return True
        seen["texts"] = [w.text for w in reversed(root.children) if isinstance(w, Label)]
        seen["refused"] = bool(Window.dispatch("on_request_close"))
        self.stop()
        return False

    self.bind(on_start=lambda *_: Clock.schedule_interval(close, 0))
    return root


paused.PausedApp.build = build_and_close
from kiosk.cli import main

rc = main(["run"])
print(json.dumps({"rc": rc, **seen}, ensure_ascii=False))
'''


@pytest.mark.parametrize("under_systemd", [False, True])
def test_kiosk_run_with_a_malformed_config_shows_paused_then_exits_15(home, tmp_path, under_systemd):
    """Started by hand (no NOTIFY_SOCKET): 暂停服务 in the app's own window until it is
    closed, then exit 15. Under systemd: exit 15 at once (its unit shows the page)."""
    (home / "config.json").write_text('{"panel": {"width_px": 1920,', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "NOTIFY_SOCKET")}
    # (Kivy's own log mode would swallow stderr: the script imports Kivy before the CLI runs)
    env.update(KIOSK_HOME=str(home), KIVY_NO_CONSOLELOG="1", KIVY_LOG_MODE="PYTHON")
    if under_systemd:
        env["NOTIFY_SOCKET"] = str(tmp_path / "nobody-listens")
    r = subprocess.run([sys.executable, "-c", RUN_SCRIPT], capture_output=True, text=True, env=env, timeout=180)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["rc"] == 15, (r.stdout, r.stderr)
    # the CLI's one line, last (after the page when there is one)
    assert r.stderr.splitlines()[-1].endswith("config.json）有误，请联系技术人员)")
    assert r.stderr.splitlines()[-1].startswith(f"kiosk: error: cannot read {home / 'config.json'}: ")
    if under_systemd:
        assert "texts" not in out and "showing 暂停服务" not in r.stderr
        return
    assert "showing 暂停服务 until its window is closed" in r.stderr
    assert out["refused"] is False  # started by hand: closing the window ends it
    assert out["texts"] == ["暂停服务", "本机暂时无法使用，请稍后再来。", "请联系乡镇（街道）纪委或县互联网+监督平台技术人员",
                            "（原因：终端配置文件（config.json）有误）"]
