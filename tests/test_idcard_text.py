"""Parsing the 256-byte card text: fields, code tables, ID-number checks, card-type refusal."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk import idnumber
from kiosk.devices.idcard import CardDataError, CardTypeRefused, IdCardError, parse_captured_reply
from kiosk.devices.idcard.simulator import foreign_card, read_reply, synthetic_cards
from kiosk.devices.idcard.text import build_text, parse_text, township_address

CARDS = synthetic_cards()


def test_ordinary_card_fields():
    c = parse_text(CARDS[0].text)
    assert (c.name, c.sex_code, c.sex, c.nation_code, c.nation) == ("李示例", "1", "男", "01", "汉族")
    assert c.birth == dt.date(1968, 4, 12)
    assert c.address == "湖南省涟源市桥头河镇示例村3组12号"
    assert c.id_number == idnumber.make("431382", dt.date(1968, 4, 12), 13)
    assert c.issuer == "涟源市公安局"
    assert (c.valid_from, c.valid_to) == (dt.date(2015, 6, 1), dt.date(2035, 6, 1))
    assert c.validity_text == "2015.06.01-2035.06.01"


def test_long_name_with_middle_dot():
    c = parse_text(CARDS[1].text)
    assert c.name == "阿依古丽·买买提艾则孜示例"
    assert (c.sex, c.nation) == ("女", "维吾尔族")


def test_id_number_ending_in_x():
    c = parse_text(CARDS[2].text)
    assert c.id_number.endswith("X") and idnumber.is_valid(c.id_number)
    assert c.masked_dict()["id_number"] == c.id_number[:4] + "*" * 14


def test_long_term_validity():
    c = parse_text(CARDS[3].text)
    assert c.valid_to is None and c.long_term
    assert c.validity_text == "2008.11.01-长期"
    assert c.to_dict()["valid_to"] == "长期"


def test_raw_bytes_of_a_field_are_utf16le_padded_with_spaces():
    text = CARDS[0].text
    assert len(text) == 256
    assert text[0:30] == "李示例".ljust(15).encode("utf-16-le")
    assert text[204:220] == "20350601".encode("utf-16-le")
    assert text[248:250] == b" \x00"


@pytest.mark.parametrize("flag, zh", [("I", "外国人永久居留身份证"), ("Y", "外国人永久居留身份证"),
                                      ("J", "港澳台居民居住证"), ("Z", "其他类型的证件")])
def test_other_card_types_are_refused(flag, zh):
    with pytest.raises(CardTypeRefused) as ei:
        parse_text(foreign_card(flag).text)
    assert ei.value.flag == flag
    assert zh in ei.value.message_zh


def _with(text: bytes, **changes) -> bytes:
    return build_text(dataclasses.replace(parse_text(text), **changes))


def test_wrong_check_character_is_refused():
    good = parse_text(CARDS[0].text)
    wrong = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    with pytest.raises(CardDataError, match="check character"):
        parse_text(build_text(dataclasses.replace(good, id_number=wrong)))


def test_birth_field_must_match_the_id_number():
    with pytest.raises(CardDataError, match="birth date"):
        parse_text(_with(CARDS[0].text, birth=dt.date(1968, 4, 13)))


def test_unknown_nation_code_is_refused():
    text = bytearray(CARDS[0].text)
    text[32:36] = "77".encode("utf-16-le")
    with pytest.raises(CardDataError, match="nation"):
        parse_text(bytes(text))


def test_undecodable_text_is_a_card_data_error():
    text = bytearray(CARDS[0].text)
    text[0:2] = b"\x00\xd8"  # lone high surrogate
    with pytest.raises(CardDataError):
        parse_text(bytes(text))
    with pytest.raises(CardDataError):
        parse_text(CARDS[0].text[:200])


@pytest.mark.parametrize("address, cut", [
    ("湖南省涟源市桥头河镇石坝村3组12号", "湖南省涟源市桥头河镇"),
    ("湖南省娄底市涟源市古塘乡测试村7组", "湖南省娄底市涟源市古塘乡"),
    ("湖南省涟源市蓝田街道演示社区2组", "湖南省涟源市蓝田街道"),
    ("湖南省新化县某某村1组", "湖南省新化县…"),
])
def test_address_cut_to_township(address, cut):
    assert township_address(address) == cut


def test_repr_does_not_leak_the_id_number():
    c = parse_text(CARDS[2].text)
    assert c.id_number not in repr(c) and c.address not in repr(c)


def test_captured_reply_parses_and_fingerprint_layout_too():
    assert parse_captured_reply(read_reply(CARDS[3].text)).name == "赵长期"
    from kiosk.devices.idcard.frames import build_frame

    text = CARDS[2].text
    fp = (256).to_bytes(2, "big") + (1024).to_bytes(2, "big") + (1024).to_bytes(2, "big")
    frame = build_frame(b"\x00\x00\x90" + fp + text + bytes(1024) + bytes(1024))
    assert parse_captured_reply(frame).name == "王测试"


def test_superscript_digit_in_id_number_is_a_card_data_error():
    good = parse_text(CARDS[0].text)
    with pytest.raises(CardDataError):
        parse_text(build_text(dataclasses.replace(good, id_number=good.id_number[:15] + "²" + good.id_number[16:])))


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=256, max_size=256), st.sampled_from([None, " ", "I"]))
def test_any_text_raises_only_card_errors(text, flag):
    if flag is not None:
        text = text[:248] + flag.encode("utf-16-le") + text[250:]
    try:
        parse_text(text)
    except IdCardError:
        pass
