"""What 暂停服务 says (phone from the installed bundle, the reason, a malformed config) and
how long it waits before the app is tried again."""
from __future__ import annotations

import json

from conftest import run_cli

from kiosk import config
from kiosk.services import recovery


def test_phone_from_the_installed_bundle(home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    info = recovery.paused_info(home)
    # the first cadre of the village (small_src), through kiosk.cache.contact
    assert (info.contact_label, info.phone) == (f"{info.place}村委会", "0738-0000001") and info.place
    assert info.reason_zh == "本机多次启动失败"


def test_before_the_first_import(home):
    info = recovery.paused_info(home)
    assert info.phone == "" and info.place == ""
    assert info.contact_text == config.DEFAULTS["contact_when_empty"]


def test_configured_phone_wins(home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    (home / "config.json").write_text(json.dumps({"recovery": {"contact_phone": "0738-1234567"}}), encoding="utf-8")
    info = recovery.paused_info(home)
    assert (info.contact_label, info.phone) == ("联系电话", "0738-1234567")


def test_malformed_config_still_gives_the_page(home, small_bundle):
    assert run_cli("import", small_bundle) == 0
    (home / "config.json").write_text('{"recovery": ', encoding="utf-8")
    info = recovery.paused_info(home)
    assert info.reason_zh == "终端配置文件（config.json）有误"
    assert "config.json" in info.reason and info.phone == "0738-0000001"


def test_retry_doubles_up_to_the_limit(tmp_path):
    cfg = config.load(path=tmp_path / "absent.json")
    cfg["timeouts"].update(paused_retry=600, paused_retry_max=3600)
    waits = [recovery.retry_after(cfg, tmp_path) for _ in range(5)]
    assert waits == [600, 1200, 2400, 3600, 3600]
    assert (tmp_path / "paused-count").read_text() == "5\n"
    # no run-time folder (not under the installed units): always the first interval
    assert recovery.retry_after(cfg, tmp_path / "missing") == 600
