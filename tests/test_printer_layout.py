"""Column layout: widths, wrapping (no split characters, 禁则), key–value lines, tables."""
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.printer.layout import (MIDDLE_DOTS, NO_LINE_END, NO_LINE_START, column_widths,
                                          key_value, table, text_width, wrap)


def test_widths():
    assert text_width("ab") == 2
    assert text_width("石坝，“”·") == 12
    assert text_width("𠈌") == 2


def test_wrap_keeps_words_and_punctuation_rules():
    assert wrap("数据指纹 9f2c 41d0 7be3 a8c5 9f2c 41d0 7be3 a8c5", 32) == [
        "数据指纹 9f2c 41d0 7be3 a8c5", "9f2c 41d0 7be3 a8c5"]
    assert wrap("中文标点：，。、；：？！“引号”《书名》（括号）——", 48) == [
        "中文标点：，。、；：？！“引号”《书名》（括", "号）——"]
    assert wrap("一二三四五六七（八", 16) == ["一二三四五六七", "（八"]


@given(st.text(alphabet=st.sampled_from(list("村道修路，。（）a1 𠈌䶮-")), max_size=80),
       st.integers(min_value=2, max_value=48))
def test_wrap_never_loses_or_splits_and_fits(text, cols):
    lines = wrap(text, cols)
    assert all(text_width(ln) <= cols for ln in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")


def test_key_value():
    assert key_value("凭证号", "记-0012", 32) == ["凭证号" + " " * 19 + "记-0012"]
    long = key_value("摘要", "村道维修（水泥、沙石）购置及运输费用", 32)
    assert long[0] == "摘要" and all(text_width(x) == 32 for x in long[1:])


def test_table_right_aligns_amounts_at_the_edge():
    lines = table([["摘要", "金额"], ["办公用品", "30.05"], ["村道维修（水泥、沙石）", "1,200.00"]],
                  32, ["left", "right"])
    assert lines == ["摘要                        金额",
                     "办公用品                   30.05",
                     "村道维修（水泥、沙石）  1,200.00"]


def test_wrap_breaks_at_a_separator_and_drops_it():
    # 58 mm title: 16 double-size columns; no stray "·" at the end of the first line.
    assert wrap("打印测试 · 财务公开", 16) == ["打印测试", "财务公开"]
    assert wrap("打印测试 · 财务公开", 24) == ["打印测试 · 财务公开"]
    assert wrap("数据更新至 2024-03-31 · 第12版 · 指纹 3f9a1c07", 32) == [
        "数据更新至 2024-03-31 · 第12版", "指纹 3f9a1c07"]


def test_wrap_never_puts_a_middle_dot_or_enumeration_comma_at_a_line_end_or_start():
    assert wrap("阿依古丽·买买提", 8) == ["阿依古", "丽·买", "买提"]
    assert wrap("一二三四五六、七八", 12) == ["一二三四五", "六、七八"]
    assert wrap("一二三四五（六七", 12) == ["一二三四五", "（六七"]


_HANZI = st.text(alphabet=st.sampled_from(list("村道修路水泥沙石办公用品")), min_size=2, max_size=5)
_PUNCT = st.sampled_from(["", "·", "、", "，", "。", "（", "）", "《", "》", "“", "”", "：", ","])


@given(st.lists(st.tuples(_HANZI, _PUNCT), min_size=1, max_size=12), st.integers(6, 48))
def test_wrap_keeps_every_line_end_and_start_clean(parts, cols):
    # Two or more characters between punctuation marks always leave a legal break.
    text = "".join(h + p for h, p in parts)
    lines = wrap(text, cols)
    assert "".join(lines) == text
    assert all(text_width(ln) <= cols for ln in lines)
    for ln in lines[1:]:
        assert ln[0] not in NO_LINE_START | MIDDLE_DOTS, lines
    for ln in lines[:-1]:
        assert ln[-1] not in NO_LINE_END | MIDDLE_DOTS, lines


def test_amount_columns_keep_their_width_and_the_text_column_gets_the_rest():
    rows = [["摘要", "收入", "支出"], ["村道维修（水泥、沙石）", "", "1,200.00"],
            ["上级转移支付", "30,000.00", ""], ["合计", "30,000.00", "1,230.05"]]
    assert column_widths(rows, 32) == [13, 9, 8]
    assert column_widths(rows, 48) == [29, 9, 8]
    # Wide amounts: the description wraps, a figure never does.
    big = [["办公用品", "1,234,567.89", "1,234,567.89"]]
    assert column_widths(big, 32) == [6, 12, 12]
    assert table(big, 32, ["left", "right", "right"]) == [
        "办公   1,234,567.89 1,234,567.89", "用品"]  # no 孤字


def test_table_refuses_amounts_wider_than_the_paper():
    with pytest.raises(ValueError, match="do not fit"):
        column_widths([["摘要", "1,234,567,890.00", "1,234,567,890.00"]], 32)
