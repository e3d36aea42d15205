"""Formatting for public screens and receipts: money, Chinese capital amounts, names, dates.

All amounts are ``decimal.Decimal`` in 元; floats are refused.
"""
from __future__ import annotations

import datetime as _dt
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")

#: Two-character surnames kept whole when masking (common 复姓).
COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 夏侯 轩辕 令狐 端木 独孤 南宫 西门 申屠".split()
)


def to_decimal(value: str | int | Decimal) -> Decimal:
    """Parse an amount in 元 (decimal string, int or Decimal) to a Decimal with two places.

    Raises:
        ValueError: not a finite number, a float, or more than two decimal places.
    """
    if isinstance(value, float) or isinstance(value, bool):
        raise ValueError(f"amount must be a decimal string, not {type(value).__name__}: {value!r}")
    try:
        d = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not d.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    try:
        q = d.quantize(FEN)
    except InvalidOperation:  # more digits than the context holds (1e30)
        raise ValueError(f"amount too large: {value!r}") from None
    if d != q:
        raise ValueError(f"more than two decimal places: {value!r}")
    return q


def to_fen(amount: Decimal) -> int:
    """Integer 分 of an amount in 元 (exact)."""
    return int((amount * 100).to_integral_exact())


def from_fen(fen: int) -> Decimal:
    """Amount in 元 for an integer number of 分."""
    return (Decimal(fen) / 100).quantize(FEN)


def money(amount: Decimal | str, unit: bool = True) -> str:
    """``Decimal("12345.6")`` → ``"12,345.60 元"`` (``unit=False`` drops " 元")."""
    d = to_decimal(amount) if not isinstance(amount, Decimal) else amount.quantize(FEN)
    s = f"{d:,.2f}"
    return f"{s} 元" if unit else s


def money_short(amount: Decimal | str) -> str:
    """Money in running text, without ``.00`` when whole: ``86000`` → ``"86,000 元"``,
    ``860.5`` → ``"860.50 元"``."""
    d = to_decimal(amount) if not isinstance(amount, Decimal) else amount.quantize(FEN)
    s = f"{d:,.0f}" if d == d.to_integral_value() else f"{d:,.2f}"
    return f"{s} 元"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_BIG_UNITS = ("", "万", "亿", "万亿")


def _four_digits(n: int) -> str:
    """Capitals for 0 < n < 10000, with inner zeros collapsed; may start with 零 handling by caller."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // (10 ** pos) % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += _DIGITS[d] + _SMALL_UNITS[pos]
    return out


def integer_in_capitals(n: int) -> str:
    """Capital numerals of a whole number: ``1200`` → ``壹仟贰佰``, ``200005717`` →
    ``贰亿零伍仟柒佰壹拾柒``, ``0`` → ``零`` (the integer part of :func:`amount_in_capitals`;
    read aloud through :mod:`kiosk.speech.numbers`).

    Raises:
        ValueError: ``n`` is negative or ≥ 10¹⁶.
    """
    if n < 0 or n >= 10 ** 16:
        raise ValueError(f"out of range: {n}")
    if n == 0:
        return "零"
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out, need_zero = "", False
    for i in range(len(groups) - 1, -1, -1):
        g = groups[i]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out += "零"
        out += _four_digits(g) + _BIG_UNITS[i]
        need_zero = False
    return out


def amount_in_capitals(amount: Decimal | str) -> str:
    """Chinese capital form of an amount in 元 as written on vouchers and receipts.

    ``1200`` → ``壹仟贰佰元整``; ``30.05`` → ``叁拾元零伍分``; ``0.5`` → ``伍角``;
    ``100010.10`` → ``壹拾万零壹拾元壹角``; negatives get a leading ``负``.

    Source: the usual rules for 大写金额 (中国人民银行《支付结算办法》附件 正确填写票据和结算凭证的基本规定).

    Raises:
        ValueError: not a valid amount, or ≥ 10¹⁶ 元.
    """
    d = to_decimal(amount) if not isinstance(amount, Decimal) else to_decimal(str(amount))
    sign = "负" if d < 0 else ""
    fen_total = abs(to_fen(d))
    yuan, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if yuan >= 10 ** 16:
        raise ValueError("amount too large")
    if fen_total == 0:
        return "零元整"
    int_part = integer_in_capitals(yuan) + "元" if yuan else ""
    if jiao == 0 and fen == 0:
        return sign + int_part + "整"
    tail = ""
    if jiao:
        tail += _DIGITS[jiao] + "角"
    elif yuan:
        tail += "零"
    if fen:
        tail += _DIGITS[fen] + "分"
    return sign + int_part + tail


def mask_name(name: str) -> str:
    """Mask a private person's name for public screens: 张三丰 → 张*丰, 张三 → 张*, 欧阳娜娜 → 欧阳*娜.

    Keeps the surname (compound surnames whole) and, for names of three or more characters,
    the last character. Names containing a middle dot (少数民族 names) keep the first
    character and the last: 阿依古丽·买买提 → 阿*提. Empty stays empty.
    """
    name = name.strip()
    if not name:
        return ""
    if "·" in name or "•" in name:
        return name[0] + "*" + name[-1]
    sur = name[:2] if name[:2] in COMPOUND_SURNAMES and len(name) > 2 else name[:1]
    rest = name[len(sur):]
    if not rest:
        return sur + "*"
    if len(rest) == 1:
        return sur + "*"
    return sur + "*" + rest[-1]


def mask_id_number(idn: str) -> str:
    """``43138219501231002X`` → ``4313**********002X`` (first 4 and last 4 kept)."""
    idn = idn.strip()
    if len(idn) <= 8:
        return "*" * len(idn)
    return idn[:4] + "*" * (len(idn) - 8) + idn[-4:]


def village_display_name(official_name: str) -> str:
    """Statistical name → the name people use: 石坝村委会 → 石坝村, 白马社区居委会 → 白马社区."""
    for suffix, keep in (("村民委员会", "村"), ("居民委员会", ""), ("村委会", "村"), ("居委会", "")):
        if official_name.endswith(suffix):
            base = official_name[: -len(suffix)]
            if keep and not base.endswith(keep):
                base += keep
            return base
    return official_name


_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def parse_date(s: str) -> _dt.date:
    """Parse ISO 8601 ``YYYY-MM-DD``.

    Raises:
        ValueError: not a valid calendar date in that exact form.
    """
    # fromisoformat alone also takes ISO week dates (2024-W01-1) and, in 3.11, 20240105:
    # such a record would have a year but no month on the screens
    if not isinstance(s, str) or not _ISO_DATE.fullmatch(s):
        raise ValueError(f"not an ISO date YYYY-MM-DD: {s!r}")
    return _dt.date.fromisoformat(s)


def date_cn(s: str) -> str:
    """``2024-03-05`` → ``2024年3月5日``."""
    d = parse_date(s)
    return f"{d.year}年{d.month}月{d.day}日"


def cjk_text(s: str) -> str:
    """Replace ASCII spaces with U+00A0: Kivy breaks lines only at ASCII spaces, which gives
    ragged breaks in Chinese text."""
    return s.replace(" ", "\u00a0")


#: Who the counterparty of a collective asset or resource is, by its status (资产资源).
_COUNTERPARTY_ROLE = {"出租": "承租方", "发包": "承包方", "流转": "流入方", "已处置": "买受方", "出售": "买受方"}


def counterparty_label(status: str | None) -> str:
    """Label for an asset's counterparty: 出租 → 承租方, 发包 → 承包方, 流转 → 流入方,
    已处置/出售 → 买受方, anything else → 交易对方."""
    return _COUNTERPARTY_ROLE.get(status or "", "交易对方")
