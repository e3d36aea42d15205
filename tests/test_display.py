"""Office hours and screen blanking; screen size and screenshot on a real X server (Xvfb)."""
from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess

import pytest

from kiosk import config
from kiosk.devices import display
from kiosk.services.bus import EventBus
from kiosk.services.display import REAPPLY_S, BlankingService
from kiosk.services.events import ScreenBlankingSet

TZ = dt.timezone(dt.timedelta(hours=8))


def at(day: int, hhmm: str) -> dt.datetime:
    """2026-06-01 is a Monday: ``at(1, "08:00")`` is Monday 08:00 (+08:00)."""
    h, m = map(int, hhmm.split(":"))
    return dt.datetime(2026, 6, day, h, m, tzinfo=TZ)


def hours(spans, days=(1, 2, 3, 4, 5, 6, 7)) -> display.OfficeHours:
    return display.OfficeHours.from_config({"display": {"open_hours": spans, "open_days": list(days)}})


def test_default_office_hours():
    h = display.OfficeHours.from_config(config.DEFAULTS)
    assert h.is_open(at(1, "07:30")) and h.is_open(at(7, "18:29"))
    assert not h.is_open(at(1, "07:29")) and not h.is_open(at(1, "18:30")) and not h.is_open(at(3, "02:00"))
    assert h.next_change(at(1, "12:00")) == at(1, "18:30")
    assert h.next_change(at(1, "20:00")) == at(2, "07:30")
    assert h.next_change(at(1, "03:10")) == at(1, "07:30")


def test_lunch_break_weekdays_and_midnight():
    h = hours([["08:00", "12:00"], ["14:00", "17:30"]], days=[1, 2, 3, 4, 5])
    assert h.is_open(at(5, "11:59")) and not h.is_open(at(5, "12:30")) and h.is_open(at(5, "14:00"))
    assert not h.is_open(at(6, "09:00"))  # Saturday
    assert h.next_change(at(5, "12:00")) == at(5, "14:00")
    assert h.next_change(at(5, "18:00")) == at(8, "08:00")  # Friday evening → Monday
    night = hours([["20:00", "02:00"]], days=[1])
    assert night.is_open(at(1, "23:00")) and night.is_open(at(2, "01:59")) and not night.is_open(at(2, "23:00"))
    assert night.next_change(at(1, "23:00")) == at(2, "02:00")
    never = hours([])
    assert not never.is_open(at(1, "12:00")) and never.next_change(at(1, "12:00")) == at(9, "12:00")


@pytest.mark.parametrize("bad", [{"open_hours": [["8", "12:00"]]}, {"open_hours": [["08:00"]]},
                                 {"open_hours": [["25:00", "26:00"]]}, {"open_days": [0, 8]},
                                 {"open_days": "weekdays"}])
def test_bad_office_hours_are_named(bad):
    with pytest.raises(ValueError, match="display.open_"):
        display.OfficeHours.from_config({"display": {"open_hours": [["08:00", "18:00"]], **bad}})


def test_blanking_commands():
    assert display.blanking_commands(True, 300) == [
        ["xset", "s", "reset"], ["xset", "+dpms", "dpms", "force", "on"], ["xset", "s", "off", "-dpms"]]
    assert display.blanking_commands(False, 300) == [
        ["xset", "s", "blank", "s", "300", "300"], ["xset", "+dpms", "dpms", "300", "300", "300"]]
    calls = []
    assert display.apply_blanking(False, 60, run=lambda c: calls.append(c) or 0) is True
    assert calls[0] == ["xset", "s", "blank", "s", "60", "60"]
    # a server without DPMS: the screen-saver part still went through
    assert display.apply_blanking(False, 60, run=lambda c: 1 if "+dpms" in c else 0) is False


def test_blanking_service_steps_through_the_day():
    cfg = config.load(path=os.devnull + ".absent")
    clock = [at(1, "07:00")]
    applied, events = [], []
    bus = EventBus()
    bus.subscribe(ScreenBlankingSet, events.append)
    svc = BlankingService(bus, cfg, now=lambda: clock[0], apply=lambda o, s: applied.append((o, s)) or True)
    assert svc.step() == REAPPLY_S         # at most 10 min between two steps
    clock[0] = at(1, "07:25")
    assert svc.step() == 5 * 60            # wakes at 07:30
    clock[0] = at(1, "07:30")
    assert svc.step() == REAPPLY_S         # re-applies every 10 min during the day
    clock[0] = at(1, "07:40")
    svc.step()
    assert applied == [(False, 300), (False, 300), (True, 300), (True, 300)]
    assert [e.office_open for e in events] == [False, True]  # one event per change


@pytest.fixture(scope="module")
def xvfb():
    if not shutil.which("Xvfb"):
        pytest.skip("Xvfb is not installed")
    # a display number of our own, away from :0 (another X server on the machine, or one in a
    # container sharing this network namespace, may hold :0's abstract socket)
    for n in range(100 + os.getpid() % 800, 1000):
        r, w = os.pipe()
        p = subprocess.Popen(["Xvfb", f":{n}", "-displayfd", str(w), "-screen", "0", "1280x720x24", "-nolisten", "tcp"],
                             pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        with os.fdopen(r) as f:  # Xvfb writes its display number once it accepts clients
            num = f.readline().strip()
        if num.isdigit():
            break
        p.wait(10)  # that number was taken: Xvfb ended without a word
    assert num.isdigit(), "Xvfb did not start"
    yield f":{num}"
    p.terminate()
    p.wait(10)


def test_screen_size_and_screenshot(xvfb, tmp_path):
    assert display.screen_size(xvfb) == (1280, 720)
    out = tmp_path / "screen.png"
    assert display.screenshot(out, xvfb) == (1280, 720)
    from PIL import Image

    with Image.open(out) as im:
        assert im.size == (1280, 720) and im.convert("RGB").getpixel((0, 0)) == (0, 0, 0)


def test_blanking_on_xvfb(xvfb, monkeypatch):
    """The calls reach a real X server. Xvfb has no DPMS and ignores screen-saver timeouts
    (``xset q`` keeps showing 600 s), so only the screen-saver calls can be seen to succeed."""
    if not shutil.which("xset"):
        pytest.skip("xset is not installed (x11-xserver-utils)")
    monkeypatch.setenv("DISPLAY", xvfb)
    for office_open in (False, True):
        rcs = {" ".join(c[1:]): display._run_xset(c) for c in display.blanking_commands(office_open, 120)}
        assert all(rc == 0 for cmd, rc in rcs.items() if "dpms" not in cmd), rcs
    monkeypatch.setenv("DISPLAY", ":987")
    assert display.apply_blanking(True, 120) is False  # no server: reported, not raised


def test_no_display():
    with pytest.raises(display.DisplayError):
        display.screen_size(":987")
