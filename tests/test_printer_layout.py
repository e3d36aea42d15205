"""Column layout: widths, wrapping (no split characters, 禁则), key–value lines, tables."""
from hypothesis import given
from hypothesis import strategies as st

from kiosk.devices.printer.layout import key_value, table, text_width, wrap


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
