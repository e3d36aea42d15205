"""Chinese line breaking for Kivy labels (kiosk.screens.wrapping), measured with the kiosk's
own font, in a child process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

pytestmark = pytest.mark.ui


WRAP_SCRIPT = r'''
import json
from kivy.core.text import Label as CoreLabel
from kiosk import fonts
from kiosk.screens.wrapping import measure_for, wrapped
font = fonts.main_font_path()
text = "本月支出合计 28,280.00 元，较上月增加（主要是村道维修）。共 1,616 条记录。"
out = wrapped(text, 600, font, 48)
core = CoreLabel(font_name=font, font_size=48)
print("RESULT " + json.dumps({"lines": out.split("\n"), "widths": [core.get_extents(l)[0] for l in out.split("\n")]}))
'''


def test_wrapping_a_label_by_the_chinese_rules():
    env = dict(os.environ, KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1", KIVY_NO_CONSOLELOG="1",
               KIVY_HOME=tempfile.mkdtemp(prefix="kivy-wrap-test-"))
    env.pop("DISPLAY", None)
    proc = subprocess.run([sys.executable, "-c", WRAP_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    assert line, proc.stdout + proc.stderr
    out = json.loads(line[7:])
    lines = out["lines"]
    assert len(lines) >= 3 and all(w <= 600 for w in out["widths"])
    assert "".join(lines).replace("\u00a0", " ").replace(" ", "") == \
        "本月支出合计 28,280.00 元，较上月增加（主要是村道维修）。共 1,616 条记录。".replace(" ", "")
    assert any("28,280.00\u00a0元" in ln for ln in lines) and any("1,616\u00a0条" in ln for ln in lines)
    assert not any(ln[0] in "，。）" for ln in lines[1:]) and not any(ln[-1] == "（" for ln in lines)
