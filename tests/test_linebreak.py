"""Chinese line breaking (禁则) shared by screens and receipts (kiosk.linebreak)."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.linebreak import (MIDDLE_DOTS, NAME_END, NAME_START, NO_LINE_END, NO_LINE_START, columns,
                             mark_name, pieces, strip_marks, wrap)

N = mark_name

# (text, width in columns: 2 per Chinese character, 1 per ASCII character, expected lines)
CASES = [
    # closing punctuation never starts a line; opening never ends one
    ("村道维修，水泥沙石", 8, ["村道维", "修，水泥", "沙石"]),
    ("一二三四五六七（八", 16, ["一二三四五六七", "（八"]),
    ("一二三四五六、七八", 12, ["一二三四五", "六、七八"]),
    ("一二三四五六。七八", 12, ["一二三四五", "六。七八"]),
    ("一二三四五六？七八", 12, ["一二三四五", "六？七八"]),
    ("一二三四五六）七八", 12, ["一二三四五", "六）七八"]),
    ("一二三四五六》七八", 12, ["一二三四五", "六》七八"]),
    ("一二三四五六」七八", 12, ["一二三四五", "六」七八"]),
    ("一二三四五六〕七八", 12, ["一二三四五", "六〕七八"]),
    ("一二三四五六％七八", 12, ["一二三四五", "六％七八"]),
    ("一二三四《书名》", 10, ["一二三四", "《书名》"]),
    ("一二三四五「六七", 12, ["一二三四五", "「六七"]),
    ("一二三四五〔六七", 12, ["一二三四五", "〔六七"]),
    ("他说：“好。”然后", 8, ["他说：", "“好。”", "然后"]),
    ("办公用品购置（打印纸、墨盒）", 12, ["办公用品购置", "（打印纸、", "墨盒）"]),  # no 孤字
    ("一二三四五……六", 12, ["一二三四", "五……六"]),
    ("一二三四五——六", 12, ["一二三四", "五——六"]),
    # a number stays with its unit
    ("支出合计 28,280.00 元", 16, ["支出合计", "28,280.00 元"]),
    ("合计28,280.00元整", 14, ["合计", "28,280.00元整"]),
    ("共 1,616 条记录", 10, ["共", "1,616 条", "记录"]),
    ("租期 30 年整", 8, ["租期", "30 年整"]),
    ("完成率 12.5%。", 10, ["完成率", "12.5%。"]),
    ("第12版正式公布", 8, ["第12版正", "式公布"]),
    ("2026年10月15日开工", 15, ["2026年10月15日", "开工"]),
    ("2026年10月15日开工", 12, ["2026年10月", "15日开工"]),
    ("预算 366,300.00 元，结算 337,406.26 元", 20, ["预算 366,300.00 元，", "结算 337,406.26 元"]),
    # a marked name is never split (unless it is wider than a line); marks are removed
    ("承租方" + N("欧阳娜娜") + "签约", 10, ["承租方", "欧阳娜娜", "签约"]),
    ("经手人" + N("阿依古丽·买买提") + "签字", 20, ["经手人", "阿依古丽·买买提签字"]),
    ("经办" + N("张*三"), 6, ["经办", "张*三"]),
    # Latin words and numbers are not broken inside; separators and spaces are preferred
    ("数据更新至 2026-10-31 · 第3版 · 指纹 1a2b3c4d", 32, ["数据更新至 2026-10-31 · 第3版", "指纹 1a2b3c4d"]),
    ("打印测试 · 财务公开", 16, ["打印测试", "财务公开"]),
    ("abcdefghijklmnopqrstuvwxyz", 10, ["abcdefghij", "klmnopqrst", "uvwxyz"]),
    ("", 8, [""]),
    ("甲\n乙", 8, ["甲", "乙"]),
]


@pytest.mark.parametrize("text,width,lines", CASES, ids=[f"{c[0][:12]}@{c[1]}" for c in CASES])
def test_wrap(text, width, lines):
    assert wrap(text, width) == lines


def test_enough_cases():
    assert len(CASES) >= 25


def test_pieces_keep_numbers_units_names_and_words():
    assert pieces("合计 28,280.00 元，共 1,616 条，30 年，第12版，指纹 3f9a1c07，12.5%") == [
        "合", "计", " ", "28,280.00 元", "，", "共", " ", "1,616 条", "，", "30 年", "，", "第12版", "，",
        "指", "纹", " ", "3f9a1c07", "，", "12.5%"]
    assert pieces("付给" + N("曾国荣") + "\u00a0100\u00a0元") == ["付", "给", "曾国荣", "\u00a0", "100\u00a0元"]
    assert pieces("\t¥1,200") == ["\t", "¥1,200"]
    # A no-break space glues its neighbours.
    assert wrap("经办人\u00a0张三", 8) == ["经办", "人\u00a0张三"]


def test_a_measure_in_pixels():
    # A label measuring 40 px per Chinese character and 20 px per ASCII character, 300 px wide.
    px = lambda s: sum(40 if ord(c) > 0x7F else 20 for c in s)  # noqa: E731
    assert wrap("本月支出合计 28,280.00 元，较上月增加。", 300, px) == ["本月支出合计", "28,280.00 元，", "较上月增加。"]
    calls = []
    wrap("村务公开村务公开村务公开", 100, lambda s: calls.append(s) or 40 * len(s))
    assert sorted(set(calls)) == sorted(calls)  # each piece measured once


def test_a_date_wider_than_a_line_is_cut():
    # "2026年" alone is wider than 4 columns: it is cut into characters, not cut again forever
    assert wrap("2026年10月15日", 4) == ["2026", "年", "10月", "15日"]
    assert "".join(wrap("支付 2025年7月16日 的款项", 3)).replace(" ", "") == "支付2025年7月16日的款项"


def test_bad_width_and_marks():
    with pytest.raises(ValueError):
        wrap("村", 0)
    assert strip_marks(N("张三") + "领取") == "张三领取" and N("") == ""
    assert columns("村a") == 3


_HAN = st.text(alphabet=st.sampled_from(list("村道修路水泥沙石办公用品")), min_size=2, max_size=5)
_PUNCT = st.sampled_from(["", "·", "、", "，", "。", "（", "）", "《", "》", "“", "”", "：", "〔", "〕", "％", "…"])
_NUMS = st.sampled_from(["", " 28,280.00 元", "30 年", "1,616 条", "abc", " 12.5%"])


@given(st.lists(st.tuples(_HAN, _PUNCT, _NUMS), min_size=1, max_size=10), st.integers(18, 48))
def test_every_line_fits_and_keeps_the_rules(parts, width):
    # 18 columns hold the widest piece that may not be broken (修· 28,280.00 元), so a legal
    # break always exists and the rules never need to give way.
    text = "".join(h + p + n for h, p, n in parts)
    lines = wrap(text, width)
    assert all(columns(ln) <= width for ln in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for ln in lines[1:]:
        assert ln[0] not in NO_LINE_START | MIDDLE_DOTS, lines
    for ln in lines[:-1]:
        assert ln[-1] not in NO_LINE_END | MIDDLE_DOTS, lines
    for n in ("28,280.00 元", "30 年", "1,616 条", "12.5%"):
        if n in text:
            assert sum(ln.count(n) for ln in lines) == text.count(n), (n, lines)


@given(st.text(alphabet=st.sampled_from(list("村道，。（）a1 𠈌䶮-") + [NAME_START, NAME_END]), max_size=60),
       st.integers(2, 40))
def test_never_loses_text_on_any_input(text, width):
    lines = wrap(text, width)
    assert all(columns(ln) <= width for ln in lines)
    assert "".join(lines).replace(" ", "") == strip_marks(text).replace(" ", "")


@pytest.mark.parametrize("text,width,expected", [
    # 孤字: one character alone on the last line takes the previous line's last one along
    ("请向县互联网+监督平台投诉", 22, ["请向县互联网+监督平台", "投诉"]),
    ("请向县互联网+监督平台投诉。", 22, ["请向县互联网+监督平台", "投诉。"]),
    ("一二三四五六七八九十壹", 20, ["一二三四五六七八九", "十壹"]),
    # not when the previous line would keep a single character, nor across a space
    ("一二三", 4, ["一二", "三"]),
    ("合计 元", 4, ["合计", "元"]),
    # a last line of one Latin letter or digit is no 孤字
    ("一二三四五六七八九十A", 20, ["一二三四五六七八九十", "A"]),
])
def test_no_widow(text, width, expected):
    assert wrap(text, width) == expected
