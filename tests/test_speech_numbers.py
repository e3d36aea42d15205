"""Numbers as said (kiosk.speech.numbers), checked against cn2an's rmb mode where it is right."""
import random
from decimal import Decimal

import cn2an
import pytest

from kiosk.speech import numbers as num

_TO_ORDINARY = str.maketrans("零壹贰叁肆伍陆柒捌玖拾佰仟", "零一二三四五六七八九十百千")


def _cn2an_said(value: str) -> str:
    """cn2an's rmb words mapped to ordinary numerals, with the spoken forms we use."""
    words = cn2an.an2cn(value, "rmb").translate(_TO_ORDINARY).removesuffix("整")
    words = words[1:] if words.startswith("一十") else words
    if words[:1] == "二" and words[1:2] in "千万亿元":
        words = "两" + words[1:]
    return words


def test_amounts_agree_with_cn2an_below_one_hundred_million():
    rng = random.Random(12)
    values = ["0.05", "0.50", "1.00", "10.00", "15.00", "100000.00", "100010.10", "1010.00", "30.05",
              "18217.66", "1200.50", "2.00", "2000.00", "20000000.01"]
    values += [f"{Decimal(rng.randrange(1, 10 ** rng.randint(1, 10))) / 100:.2f}" for _ in range(3000)]
    for v in values:
        assert num.amount(v) == _cn2an_said(v), v


def test_cn2an_drops_a_required_zero_above_one_hundred_million():
    # Why the project's own rules are used: 2亿 0000万 5717 needs a 零.
    assert _cn2an_said("200005717") == "两亿五千七百一十七元"
    assert num.amount("200005717") == "两亿零五千七百一十七元"


@pytest.mark.parametrize("n,said", [(0, "零"), (10, "十"), (15, "十五"), (110, "一百一十"), (1001, "一千零一"),
                                    (100000, "十万"), (110000, "十一万"), (100000000, "一亿"), (-7, "负七")])
def test_cardinals(n, said):
    assert num.cardinal(n) == said


@pytest.mark.parametrize("n,said", [(2, "两"), (12, "十二"), (2000, "两千"), (22000, "两万二千"), (200, "二百")])
def test_liang_before_measure_words(n, said):
    assert num.cardinal(n, liang=True) == said


def test_decimals_digits_and_years():
    assert num.decimal("1,064.70") == "一千零六十四点七零"
    assert num.decimal("-0.5") == "负零点五"
    assert num.digits("0738", num.PHONE_DIGITS) == "零七三八" and num.digits("110", num.PHONE_DIGITS) == "幺幺零"
    assert num.year("2006") == "二〇〇六"
    with pytest.raises(ValueError):
        num.decimal("12a")
    with pytest.raises(ValueError):
        num.amount("1.005")
