"""Pure tests: formatting, masking, ID numbers, config, fonts."""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from kiosk import config, fonts, idnumber
from kiosk.formatting import (amount_in_capitals, cjk_text, date_cn, mask_id_number, mask_name, money, to_decimal,
                              to_fen, village_display_name)


@pytest.mark.parametrize("amount,words", [
    ("1200", "壹仟贰佰元整"), ("30.05", "叁拾元零伍分"), ("0.50", "伍角"), ("0.06", "陆分"),
    ("100010.10", "壹拾万零壹拾元壹角"), ("10000", "壹万元整"), ("100000000", "壹亿元整"),
    ("1001", "壹仟零壹元整"), ("101000", "壹拾万壹仟元整"), ("1000000.01", "壹佰万元零壹分"),
    ("-5.30", "负伍元叁角"), ("0", "零元整"), ("213.00", "贰佰壹拾叁元整"),
])
def test_amount_in_capitals(amount, words):
    assert amount_in_capitals(amount) == words


@pytest.mark.parametrize("bad", ["abc", "1.234", "NaN", "Infinity", 1.5, ""])
def test_to_decimal_refuses(bad):
    with pytest.raises(ValueError):
        to_decimal(bad)


def test_money_and_fen():
    assert money(Decimal("12345.6")) == "12,345.60 元"
    assert money("-80", unit=False) == "-80.00"
    assert to_fen(Decimal("860.50")) == 86050


@pytest.mark.parametrize("name,masked", [
    ("张三丰", "张*丰"), ("张三", "张*"), ("欧阳娜娜", "欧阳*娜"), ("欧阳", "欧*"), ("王", "王*"),
    ("阿依古丽·买买提", "阿*提"), ("李䶮", "李*"), ("", ""),
])
def test_mask_name(name, masked):
    assert mask_name(name) == masked


def test_mask_id_number_keeps_first_and_last_four():
    assert mask_id_number("11010519491231002X") == "1101**********002X"


@pytest.mark.parametrize("official,shown", [
    ("石坝村委会", "石坝村"), ("洪泉村委会", "洪泉村"), ("白马社区居委会", "白马社区"), ("罗家坪社区", "罗家坪社区"),
])
def test_village_display_name(official, shown):
    assert village_display_name(official) == shown


def test_dates_and_spaces():
    assert date_cn("2024-03-05") == "2024年3月5日"
    assert cjk_text("村务 公开") == "村务\u00a0公开"


@pytest.mark.parametrize("idn", ["11010519491231002X", "440524188001010014",
                                 idnumber.make("431382", dt.date(1950, 1, 1), 7)])
def test_id_numbers_from_the_standard_and_elderly_villagers(idn):
    # 431382 (涟源市) did not exist in 1950; python-stdnum's cn.ric would refuse this number.
    assert idnumber.validate(idn) == idn


@pytest.mark.parametrize("idn,why", [
    ("11010519491231002Y", "17 digits then"), ("110105194912310021", "check character"),
    ("11010519490230002X", "calendar date"), ("1101051949123100", "18 characters"),
    ("1101051949123100²X", "17 digits then"),  # str.isdigit() accepts superscripts
])
def test_id_numbers_refused(idn, why):
    with pytest.raises(idnumber.IdNumberError, match=why):
        idnumber.validate(idn)


def test_config_defaults_and_override(tmp_path):
    assert config.load(tmp_path)["timeouts"]["public_idle_to_home"] == 90
    (tmp_path / "config.json").write_text(json.dumps({"timeouts": {"public_idle_to_home": 60}, "stale_after_days": 10}))
    cfg = config.load(tmp_path)
    assert cfg["timeouts"]["public_idle_to_home"] == 60 and cfg["timeouts"]["printer_write"] == 10
    assert cfg["stale_after_days"] == 10
    assert cfg["scope"] is None
    (tmp_path / "config.json").write_text(json.dumps({"scope": "431382111249"}))
    assert config.load(tmp_path)["scope"] == "431382111249"
    (tmp_path / "config.json").write_text("{broken")
    with pytest.raises(config.ConfigError, match="cannot read"):
        config.load(tmp_path)


def test_kiosk_home_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("KIOSK_HOME", str(tmp_path / "k"))
    assert config.kiosk_home() == tmp_path / "k" and (tmp_path / "k").is_dir()


@pytest.mark.parametrize("amount,level", [("4999.99", "两委"), ("5000", "两委+监委"), ("49999.99", "两委+监委"), ("50000", "四议两公开")])
def test_approval_levels_follow_thresholds(amount, level):
    from kiosk.rules import approval_level

    assert approval_level(Decimal(amount)) == level


def test_sc_font_is_simplified_chinese_face():
    from fontTools.ttLib import TTFont

    path = fonts.main_font_path()
    assert TTFont(path)["name"].getDebugName(1) == "Noto Sans CJK SC"
    assert TTFont(fonts.main_font_path(bold=True))["name"].getDebugName(4).endswith("Bold")


def test_runs_fall_back_for_characters_the_main_font_lacks():
    main = fonts.main_font_path()
    lacking = next(c for c in ("\U0002A6A5", "\U0002B81D", "\U0002C029", "\U00030EDD") if not fonts.covers(main, c))
    runs = fonts.split_runs(f"王{lacking}明")
    assert [r[1] for r in runs] == ["王", lacking, "明"]
    assert runs[1][0] in fonts.fallback_font_paths() and fonts.covers(runs[1][0], lacking)


@pytest.mark.parametrize("status,label", [("出租", "承租方"), ("发包", "承包方"), ("流转", "流入方"), ("已处置", "买受方"), ("闲置", "交易对方"), (None, "交易对方")])
def test_counterparty_label_follows_the_assets_status(status, label):
    from kiosk.formatting import counterparty_label

    assert counterparty_label(status) == label
