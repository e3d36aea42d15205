"""大字, 特大字 and 高对比: one tap each in every frame header, words and icons; a switch
recolours and resizes what is shown; the next person finds the defaults again (idle)."""
from __future__ import annotations

import os

import pytest
from uikit import screen, tap, until, walk

from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui


@pytest.fixture()
def defaults(ui):
    yield ui
    ui.set_display(1.0, False)
    ui.reading = False
    pump(ui, 2)


def frame(scr):
    from kiosk.screens.widgets import ScreenFrame

    return next(w for w in walk(scr) if isinstance(w, ScreenFrame))


def test_every_frame_header_has_the_controls_with_words_and_icons(ui):
    from kiosk.tools.screenshots import show

    seen = 0
    for name in ("home", "finance", "project_detail", "power_detail", "mine", "flags", "complaints", "search",
                 "technician", "update_pin"):
        scr = show(ui, name)
        ids = frame(scr).ids
        for key, word, icon in (("read", "朗读", "read_aloud"), ("large", "大字", "large_text"),
                                ("larger", "特大字", "large_text"), ("contrast", "黑底白字", "contrast")):
            b = ids[key]
            assert b.text == word and b.icon == icon and os.path.exists(b.icon_source(b.icon))
            assert b.width >= ui.theme.min_target and b.height >= ui.theme.min_target and b.opacity == 1
            assert b.get_root_window() is not None
        if name != "home":
            assert ids.back.icon == "back" and ids.home.icon == "home" and ids.back.width > 0
        seen += 1
    assert seen == 10
    ui.go_home()
    pump(ui)


def test_one_tap_each_and_tapping_again_turns_it_off(ui, defaults):
    from kivy.core.window import Window

    from kiosk.screens.palette import C
    from kiosk.screens.theme import PALETTES

    tap(ui, screen(ui).ids.finance)
    ids = frame(screen(ui)).ids
    body = ui.theme.fonts["body"]
    tap(ui, ids.large)
    assert ui.text_scale == 1.25 and ids.large.selected and not ids.larger.selected
    assert ui.theme.fonts["body"] > body
    tap(ui, ids.larger)
    assert ui.text_scale == 1.5 and ids.larger.selected and not ids.large.selected
    row = next(w for w in walk(screen(ui).ids.list) if type(w).__name__ == "RowLabel" and w.text
               and w.bold and w.role == "body")  # a title: no rule gives it a colour
    assert row.font_size == ui.theme.fonts["body"]
    assert ids.larger.font_size == ui.theme.fonts["ui"] == body  # the controls stay where and as they were
    tap(ui, ids.larger)
    assert ui.text_scale == 1.0 and ui.theme.fonts["body"] == body
    tap(ui, ids.contrast)
    assert ui.high_contrast and ids.contrast.selected
    assert list(Window.clearcolor) == list(PALETTES["high"]["bg"]) == list(C.bg)
    # a label no rule gave a colour follows the palette; one a rule colours keeps its rule's
    assert list(row.color) == list(PALETTES["high"]["text"])
    assert list(ids.title.color) == list(PALETTES["high"]["header_text"])
    tap(ui, ids.contrast)
    assert not ui.high_contrast and list(row.color) == list(PALETTES["default"]["text"])


def test_reading_button_follows_app_reading(ui, defaults):
    ids = frame(screen(ui)).ids
    before = ui.reading
    tap(ui, ids.read)
    assert ui.reading is (not before) and ids.read.selected is ui.reading


def test_idle_return_brings_back_the_defaults(ui, defaults):
    """Left alone on a screen, or on 首页 itself, with 特大字 and 高对比 on: the next person
    finds 标准 and the default palette."""
    tap(ui, screen(ui).ids.projects)
    ui.set_display(1.5, True)
    ui.reading = True
    ui.test_clock.t += ui.timeouts["public_idle_to_home"] + 1
    until(ui, lambda: ui.sm.current == "home" and ui.text_scale == 1.0, timeout=5)
    assert not ui.high_contrast and not ui.reading
    ui.set_display(1.25, False)
    ui.test_clock.t += ui.timeouts["public_idle_to_home"] - 2
    pump(ui)
    assert ui.text_scale == 1.25  # not yet
    ui.test_clock.t += 3
    until(ui, lambda: ui.text_scale == 1.0, timeout=5)


def test_home_sections_have_icons_and_mine_shows_where_to_place_the_card(ui, defaults):
    from kiosk import assets
    from kiosk.screens.home import ENTRIES

    scr = screen(ui)
    for name, _label, _key in ENTRIES + [("search", "", None)]:
        b = scr.ids[name]
        assert b.icon == name and os.path.exists(b.icon_source(b.icon))
    assert scr.ids.mine.icon == "mine"
    tap(ui, scr.ids.mine)
    pic = screen(ui).ids.card_picture
    assert pic.source == assets.picture("card-placement") and pic.height > ui.theme.mm(30) and pic.opacity == 1
    ui.set_display(high_contrast=True)
    pump(ui)
    assert pic.source == assets.picture("card-placement", high_contrast=True)


def test_a_switch_renders_other_screens_later_and_before_they_are_shown(ui, defaults):
    """Only the screen on display renders its text at once; a screen built earlier renders
    when it is shown next (kiosk.screens.restyle), at the new size."""
    from kiosk.screens import restyle

    tap(ui, screen(ui).ids.finance)
    ui.go("projects")
    pump(ui)
    ui.go_home()
    pump(ui)
    ui.set_display(text_scale=1.5)
    pump(ui, 1)
    projects = ui.sm.get_screen("projects")
    ui.go("projects")
    pump(ui, 2)
    labels = [w for w in walk(projects) if type(w).__name__ == "RowLabel" and w.text]
    assert labels and all(w.font_size >= ui.theme.fonts["body"] for w in labels)
    assert all(w not in restyle._pending for w in labels)
    until(ui, lambda: restyle.pending() == 0, timeout=30)
