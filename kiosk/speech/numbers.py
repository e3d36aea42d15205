"""Numbers as they are said aloud in Mandarin: cardinals, decimals, amounts, digit strings.

Amounts use the project's own capital-amount rules (:func:`kiosk.formatting.amount_in_capitals`,
the same words a receipt prints) mapped to ordinary numerals. cn2an's ``rmb`` mode gives the
same words for every amount below 1亿, but drops a required 零 above it (200005717 元 comes
out as 二亿五千七百一十七元; it must be 二亿零五千七百一十七元), and importing it costs
about 100 ms and 4.6 MB; ``tests/test_speech_numbers.py`` compares the two.
"""
from __future__ import annotations

from decimal import Decimal

from kiosk.formatting import amount_in_capitals, integer_in_capitals

#: Capital numerals → ordinary ones (拾佰仟 → 十百千); 万 and 亿 are the same in both.
_ORDINARY = str.maketrans("零壹贰叁肆伍陆柒捌玖拾佰仟", "零一二三四五六七八九十百千")
DIGITS = "零一二三四五六七八九"
#: Digits of a calendar year: 〇 for zero, as years are written (二〇二六年).
YEAR_DIGITS = "〇一二三四五六七八九"
#: Digits of a telephone number: 1 is 幺, so it is not heard as 7.
PHONE_DIGITS = "零幺二三四五六七八九"


def _drop_leading_yi(words: str) -> str:
    """一十 at the very start is said 十 (十万元, 十五条); inside a number it stays (一百一十)."""
    return words[1:] if words.startswith("一十") else words


def cardinal(n: int, liang: bool = False) -> str:
    """``18217`` → ``一万八千二百一十七``; ``100000`` → ``十万``; ``0`` → ``零``;
    negatives get ``负``.

    Args:
        liang: say 两 instead of 二 where Mandarin does before a measure word: the number 2
            itself (两笔) and a leading 2 before 千/万/亿 (两千人, 两万户).

    Raises:
        ValueError: ``|n|`` ≥ 10¹⁶.
    """
    sign = "负" if n < 0 else ""
    words = _drop_leading_yi(integer_in_capitals(abs(n)).translate(_ORDINARY))
    if liang:
        words = _liang(words)
    return sign + words


def _liang(words: str) -> str:
    if words == "二":
        return "两"
    if len(words) > 1 and words[0] == "二" and words[1] in "千万亿":
        return "两" + words[1:]
    return words


def digits(s: str, table: str = DIGITS) -> str:
    """Read a string of ASCII digits one by one: ``"0012"`` → ``零零一二``; other characters
    are dropped."""
    return "".join(table[int(c)] for c in s if "0" <= c <= "9")


def decimal(text: str) -> str:
    """A plain decimal number as said: ``"818.6"`` → ``八百一十八点六``, ``"1,064.70"`` →
    ``一千零六十四点七零`` (every written digit after the point is read), ``"-3"`` → ``负三``.

    Raises:
        ValueError: not a number.
    """
    t = text.replace(",", "").strip()
    sign = ""
    if t[:1] in "-−":
        sign, t = "负", t[1:]
    whole, _, frac = t.partition(".")
    if not whole.isdigit() or (frac and not frac.isdigit()):
        raise ValueError(f"not a number: {text!r}")
    out = sign + cardinal(int(whole))
    return out + "点" + digits(frac) if frac else out


def amount(value: Decimal | str) -> str:
    """An amount in 元 as said: ``18217.66`` → ``一万八千二百一十七元六角六分``,
    ``100000`` → ``十万元``, ``0.05`` → ``五分``, ``30.05`` → ``三十元零五分``,
    ``-1200`` → ``负一千二百元``, ``0`` → ``零元``, ``2`` → ``两元``.

    Raises:
        ValueError: not a valid amount (more than two decimal places, ≥ 10¹⁶ 元).
    """
    words = amount_in_capitals(value).translate(_ORDINARY).removesuffix("整")
    sign = ""
    if words.startswith("负"):
        sign, words = "负", words[1:]
    words = _drop_leading_yi(words)
    if words[:2] == "二元":
        words = "两" + words[1:]
    return sign + _liang(words)


def year(y: str) -> str:
    """A calendar year digit by digit: ``"2026"`` → ``二〇二六``."""
    return digits(y, YEAR_DIGITS)
