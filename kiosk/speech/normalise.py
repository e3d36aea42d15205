"""Text as shown → text as said: numbers, dates, codes and symbols become spoken Chinese.

The output holds only Chinese characters, Chinese pause punctuation (，。？！；：、), Latin
letters to be spelled (``Z C``, as Mandarin speakers say letters) and name marks
(:data:`kiosk.linebreak.NAME_START` … :data:`~kiosk.linebreak.NAME_END`, which the pinyin
step uses for surname readings). Rules, in the order they apply:

- fingerprints (``指纹 1a2b3c4d``, long hex strings) and account codes (科目 ``51301``) are
  not read; web addresses become 网址请看屏幕;
- dates: ``2026年10月15日`` and ``2026-10-15`` → 二〇二六年十月十五日; ``2024-01`` (a
  period) → 二〇二四年一月; calendar years digit by digit; ``14:05`` → 十四点零五分;
- telephone numbers digit by digit with 1 as 幺 (``0738-0371137``, mobiles, and any number
  after 电话/热线/手机); voucher numbers (``记202401-001``), record and ID-style strings
  (``ZC001``, ``P-BM-04``, masked ID numbers) digit by digit, letters spelled;
- amounts in 元/角/分 (``28,280.00 元`` → 二万八千二百八十元; negatives 负…; ``12.5万元`` →
  十二点五万元); percentages (百分之…); ranges (``3~5 年`` → 三至五年); ordinals (第3版 →
  第三版); counts before a measure word with 两 for 2 (``2 笔`` → 两笔, ``1,616 条``);
- masked names ``张*三`` → 张某三; symbols and brackets become pauses or words.

Why our own rules: cn2an's ``transform`` reads 1200.50元 as 一千二百点五零元, 30年 as 三零年,
dates as 二千零二十六负十负十五 and phone numbers as one large number (see docs/speech.md).
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Callable, Iterable

from kiosk.formatting import COMPOUND_SURNAMES
from kiosk.linebreak import NAME_END, NAME_START
from kiosk.speech import numbers as num

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0003ffff"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"  # 1,616 / 28,280.00 / 818.6 / 30

#: Measure words after which 2 is said 两 (两笔, 两户, 两年).
LIANG_UNITS = ("平方公里", "平方米", "立方米", "千克", "公斤", "小时", "分钟", "个月", "季度",
               "个", "条", "笔", "户", "人", "项", "次", "家", "份", "张", "名", "间", "台", "辆",
               "栋", "座", "处", "块", "只", "头", "棵", "株", "口", "组", "批", "届", "年", "天",
               "周", "岁", "位", "件", "本", "亩", "吨", "斤", "倍", "层", "套", "根", "箱", "袋",
               "盏", "轮", "票", "所", "宗", "米", "公里", "千米", "秒")
#: Units after which a number is an ordinary cardinal (二号, 二月, 二级).
PLAIN_UNITS = ("号", "版", "期", "页", "月", "日", "级", "楼", "度", "分", "点")
_UNIT_WORDS = {"㎡": "平方米", "m²": "平方米", "m2": "平方米", "m³": "立方米", "km": "公里",
               "kg": "千克", "KG": "千克", "Kg": "千克", "t": "吨", "m": "米"}
_PHONE_LABELS = ("电话", "热线", "手机", "号码", "联系方式")
#: Full-width digits and letters as typed by some clerks → ASCII.
_FULLWIDTH = str.maketrans({chr(0xFF10 + i): chr(0x30 + i) for i in range(10)}
                           | {chr(0xFF21 + i): chr(0x41 + i) for i in range(26)}
                           | {chr(0xFF41 + i): chr(0x61 + i) for i in range(26)}
                           | {"％": "%", "．": ".", "，": "，", "\u00a0": " ", "\u3000": "  ",
                              "\u2002": " ", "\u2003": " ", "\u2009": " ", "\u202f": " "})
_KIVY_MARKUP = re.compile(r"\[/?(?:b|i|u|s|font|font_family|size|color|sub|sup|ref|anchor|text_language)"
                          r"(?:=[^\]]*)?\]")

Rule = tuple["re.Pattern[str]", Callable[["re.Match[str]"], str]]


def _r(pattern: str, fn: Callable[["re.Match[str]"], str] | str, flags: int = 0) -> Rule:
    return re.compile(pattern, flags), (fn if callable(fn) else (lambda m, s=fn: s))


# ---- readers used by the rules -------------------------------------------------------------
def _date(y: str, m: str, d: str | None = None) -> str:
    out = f"{num.year(y)}年{num.cardinal(int(m))}月"
    return out + f"{num.cardinal(int(d))}日" if d else out


def _time(h: str, m: str) -> str:
    mm = int(m)
    tail = "整" if mm == 0 else ("零" if mm < 10 else "") + num.cardinal(mm) + "分"
    return f"{num.cardinal(int(h))}点{tail}"


def _phone(s: str) -> str:
    """Digit groups separated by pauses: 0738-0371137 → 零七三八，零三七幺幺三七."""
    groups = [g for g in re.split(r"[^\d]+", s) if g]
    if len(groups) == 1 and len(groups[0]) == 11 and groups[0].startswith("1"):
        g = groups[0]
        groups = [g[:3], g[3:7], g[7:]]  # mobile: 3-4-4, as people say it
    return "，".join(num.digits(g, num.PHONE_DIGITS) for g in groups)


def _spell(code: str) -> str:
    """An ID-style string: letters spelled, digits one by one, any separator a pause."""
    out: list[str] = []
    for part in re.split(r"[-_/.·\s*]+", code):
        words = []
        for run in re.findall(r"[A-Za-z]+|\d+", part):
            words.append(" ".join(run.upper()) if run.isalpha() else num.digits(run))
        if words:
            out.append(" ".join(w for w in words))
    return "，".join(out)


def _decimal_or_cardinal(s: str, liang: bool = False) -> str:
    t = s.replace(",", "")
    if "." in t:
        return num.decimal(t)
    return num.cardinal(int(t), liang=liang)


def _bare_number(s: str) -> str:
    """A number with no unit: separators or a point → its value; up to 4 digits → its
    value; a longer string of digits or one with a leading zero is a code → digit by digit."""
    if "," in s or "." in s:
        return num.decimal(s)
    if len(s) <= 4 and not (len(s) > 1 and s[0] == "0"):
        return num.cardinal(int(s))
    return num.digits(s)


def _amount(m: "re.Match[str]") -> str:
    sign, value, unit = m.group("sign"), m.group("value").replace(",", ""), m.group("unit") or "元"
    neg = "负" if sign else ""
    if unit in ("万元", "亿元"):
        return neg + num.decimal(value) + unit
    whole, _, frac = value.partition(".")
    if len(frac) > 2:
        return neg + num.decimal(value) + "元"
    return num.amount(("-" if sign else "") + value)


def _percent(m: "re.Match[str]") -> str:
    value = m.group(1).replace(",", "")
    if value.lstrip("-−") == "100":
        words = "百"
    else:
        words = num.decimal(value.lstrip("-−"))
    return ("负" if value[:1] in "-−" else "") + "百分之" + words


def _range_start(m: "re.Match[str]") -> str:
    first, second = m.group(1), m.group(2)
    is_year = (re.fullmatch(r"(?:19|20)\d\d", first) and re.fullmatch(r"(?:19|20)\d\d", second)
               and m.string[m.end() + len(second):].lstrip().startswith("年"))
    return (num.year(first) if is_year else _decimal_or_cardinal(first)) + "至"


def _count(m: "re.Match[str]") -> str:
    return _decimal_or_cardinal(m.group(1), liang=m.group(2) in LIANG_UNITS) + m.group(2)


def _masked_name(m: "re.Match[str]") -> str:
    return f"{NAME_START}{m.group(1)}某{m.group(2)}{NAME_END}"


@lru_cache(maxsize=1)
def _account_names() -> "re.Pattern[str]":
    from kiosk.records import chart_of_accounts  # the chart shipped in kiosk/data

    names = sorted(set(chart_of_accounts().values()), key=len, reverse=True)
    return re.compile(r"(?<!\d)[1-5]\d{2}(?:\d{2}){0,2}[ \t]*(?=" + "|".join(map(re.escape, names)) + ")")


# ---- the rules, in order --------------------------------------------------------------------
_UNITS_ALT = "|".join(sorted((re.escape(u) for u in LIANG_UNITS + PLAIN_UNITS), key=len, reverse=True))
RULES: list[Rule] = [
    # Not read: the data fingerprint, long hex strings, account codes; web addresses.
    _r(r"[·•]?\s*指纹[：:\s]*[0-9A-Fa-f]{6,}", ""),
    _r(r"(?<![0-9A-Za-z])(?=[0-9a-fA-F]*[a-fA-F])(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{8,}(?![0-9A-Za-z])", ""),
    _r(r"(?:https?://|www\.)[^\s，。；）)]+", "网址请看屏幕"),
    _r(r"[\w.+-]+@[\w-]+\.[\w.]+", "邮箱请看屏幕"),
    _r(r"(科目(?:代码|编码|编号)?)[：:\s]*[1-5]\d{2}(?:\d{2}){0,3}(?!\d)\s*", lambda m: m[1]),
    _r(r"(?<=[\u4e00-\u9fff])[（(][1-5]\d{2}(?:\d{2}){0,3}[）)]", ""),
    # Dates and times.
    _r(r"(?<![\d-])(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::\d{2})?)?(?![\d-])",
       lambda m: _date(m[1], m[2], m[3]) + (_time(m[4], m[5]) if m[4] else "")),
    _r(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]", lambda m: _date(m[1], m[2], m[3])),
    _r(r"(?<!\d)(\d{4})\s*年\s*(\d{1,2})\s*月", lambda m: _date(m[1], m[2])),
    _r(r"(?<![\d-])(\d{4})-(0[1-9]|1[0-2])(?![\d-])", lambda m: _date(m[1], m[2])),
    _r(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])", lambda m: _time(m[1], m[2])),
    # Document numbers: 国发〔2014〕8号 → 国发二〇一四年八号.
    _r(r"[〔\[［]((?:19|20)\d\d)[〕\]］]", lambda m: num.year(m[1]) + "年"),
    # Telephone numbers (1 as 幺).
    _r(r"(?<!\d)(0\d{2,3})[-－ ](\d{7,8})(?!\d)", lambda m: _phone(m[0])),
    _r(r"(?<!\d)(1[3-9]\d{9})(?!\d)", lambda m: _phone(m[1])),
    _r(r"(" + "|".join(_PHONE_LABELS) + r")([：:\s]*)(\d[\d-]{2,})",
       lambda m: m[1] + "，" + _phone(m[3])),
    # Voucher numbers (凭证号 记202401-001) and other codes, digit by digit.
    _r(r"(凭证号|编号|证号|户号)[：:\s]*([A-Za-z0-9][A-Za-z0-9*-]*)", lambda m: m[1] + "，" + _spell(m[2])),
    _r(r"([记收付转])字?\s*(\d{6,}|\d{3,}(?=-\d))(?:-(\d+))?",
       lambda m: m[1] + num.digits(m[2]) + ("，" + num.digits(m[3]) if m[3] else "")),
    _r(r"(?<![\dA-Za-z])\d{4,6}\*{4,}\d{2,4}[\dXx]?(?![\dA-Za-z])", lambda m: _spell(m[0])),
    _r(r"(?<![A-Za-z0-9])[A-Za-z]+(?:[-_]?[A-Za-z0-9]+)*\d[A-Za-z0-9]*(?![A-Za-z0-9])", lambda m: _spell(m[0])),
    # Unit symbols after a number.
    _r(r"(?<=\d)\s*(㎡|m²|m³|m2|km|kg|KG|Kg|t|m)(?![A-Za-z])", lambda m: _UNIT_WORDS[m[1]]),
    # Ranges: the first number is read now, the second by the rules below.
    _r(r"(?<![\d.,])(" + _NUM + r")\s*(?:[-~～—–]|至|到)\s*(?=(" + _NUM + r"))", _range_start),
    # Amounts.
    _r(r"(?<![\d.,])(?:(?P<sign>[-−])\s*)?(?:[¥￥]\s*)?(?P<value>" + _NUM + r")\s*(?P<unit>万元|亿元|元)", _amount),
    _r(r"(?P<sign>[-−])?[¥￥]\s*(?P<value>" + _NUM + r")(?P<unit>)", _amount),
    _r(r"(?<![\d.,])([-−]?(?:" + _NUM + r"))\s*[%％]", _percent),
    # Calendar years digit by digit (not 30年, a span).
    _r(r"(?<!\d)((?:19|20)\d\d)\s*(?=年)", lambda m: num.year(m[1])),
    _r(r"第\s*(\d+)", lambda m: "第" + num.cardinal(int(m[1]))),
    _r(r"(?<![\d.,])(" + _NUM + r")\s*(" + _UNITS_ALT + r")", _count),
    _r(r"(?<![\d.,])[-−](" + _NUM + r")", lambda m: "负" + _bare_number(m[1])),
    _r(r"(?<![\d.,])(" + _NUM + r")", lambda m: _bare_number(m[1])),
    # Masked private names: 张*三 → 张某三.
    _r(r"(" + "|".join(sorted(COMPOUND_SURNAMES)) + r"|[" + _CJK + r"])[*＊]+([" + _CJK + r"]?)", _masked_name),
    # Symbols.
    _r(r"(?<=[" + _CJK + r"])\s*[+＋]", "加"),
    _r(r"\s*[&＆]\s*", "和"),
    _r(r"\s*[=＝]\s*", "等于"),
    _r(r"[A-Za-z]+", lambda m: " " + " ".join(m[0].upper()) + " "),
]

#: Characters that become a pause (a comma): separators, dashes, brackets, slashes.
_PAUSE = re.compile(r"[·•・\-－—–~～/／|｜（）()\[\]【】〔〕<>＜＞…⋯]+")
_DROP = re.compile(r"[“”‘’\"'《》〈〉「」『』*＊#＃@＠^_`]")
_PUNCT_MAP = str.maketrans({",": "，", ";": "；", "!": "！", "?": "？", ".": "。", "：": "，", ":": "，"})
_PAUSES = "，。、；：？！"


def _tidy(text: str) -> str:
    text = _DROP.sub("", text)
    text = _PAUSE.sub("，", text)
    text = text.translate(_PUNCT_MAP)
    # Spaces matter only between spelled letters; elsewhere they are dropped or a pause.
    text = re.sub(r"(?<=[A-Z]) +(?=[A-Z])", "\0", text)
    text = re.sub(r"\s*\n\s*", "。", text)
    text = re.sub(r"(?<=[" + _CJK + r"A-Z" + NAME_END + r"]) {2,}(?=[" + _CJK + NAME_START + r"A-Z])", "，", text)
    text = re.sub(r"\s+", "", text).replace("\0", " ")
    # One pause at a time; the strongest wins (。 over ，).
    text = re.sub(r"[" + _PAUSES + r"]{2,}", lambda m: max(m[0], key=lambda c: "，、：；。？！".index(c)), text)
    return text.lstrip(_PAUSES)


def normalise(text: str) -> str:
    """``text`` as shown on a screen → the same text as said, in Chinese characters.

    ``"支出 28,280.00 元"`` → ``"支出二万八千二百八十元"``;
    ``"数据更新至 2026-10-31 · 第3版 · 指纹 1a2b3c4d"`` → ``"数据更新至二〇二六年十月三十一日，第三版"``.
    Never raises on any text; characters it cannot say (emoji, unknown symbols) are dropped
    later by the pinyin step.
    """
    text = _KIVY_MARKUP.sub("", text).translate(_FULLWIDTH)
    if re.search(r"[1-5]\d{2}", text):
        text = _account_names().sub("", text)
    for pattern, fn in RULES:
        text = pattern.sub(fn, text)
    return _tidy(text)


# ---- fields whose label says how to read them -------------------------------------------------
#: Labels whose value is never read (科目代码, 指纹: the screen shows them for comparison).
SILENT_LABELS = ("科目代码", "科目编码", "指纹", "数据指纹", "二维码")
#: Labels whose value is read digit by digit.
DIGIT_LABELS = ("凭证号", "编号", "身份证号", "证件号", "户号", "合同号", "项目编号")


def field_text(label: str, value: str) -> str:
    """How to say one labelled field, before :func:`normalise`: a silent field is ``""``; a
    phone number or an ID-style value is spelled out; any other value is kept as it is."""
    value = value.strip()
    if not value or any(label.endswith(s) for s in SILENT_LABELS):
        return ""
    if any(s in label for s in _PHONE_LABELS) and re.fullmatch(r"[\d\s-]{3,}", value):
        return f"{label}，{_phone(value)}"
    if any(label.endswith(s) for s in DIGIT_LABELS) and value.isascii():
        return f"{label}，{_spell(value)}"
    if label.startswith("科目"):
        value = re.sub(r"^[1-5]\d{2}(?:\d{2}){0,3}\s*", "", value)
    return f"{label}，{value}" if label else value


def normalise_fields(title: str, fields: Iterable[tuple[str, str]] = ()) -> str:
    """A screen's main content as said: the title, then each ``(label, value)`` in order, one
    sentence each; silent fields are skipped."""
    parts = [title.strip()] if title and title.strip() else []
    parts += [t for t in (field_text(k, v) for k, v in fields) if t]
    return normalise("。".join(parts))
