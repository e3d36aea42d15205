"""Spoken Chinese → tone-numbered pinyin for espeak-ng's ``cmn-latn-pinyin`` voice.

``to_pinyin("银行还款一万元")`` → ``"yin2 hang2 huan2 kuan3 yi2 wan4 yuan2"``.

How:
1. The text is cut into words by longest match against a phrase table: this domain's own
   phrases (:data:`DOMAIN_PHRASES`, which win) and ``polyphones.tsv``, the part of pypinyin's
   phrase data that changes a reading (see :mod:`kiosk.speech.build_phrases`).
2. Every other character gets its usual reading (pypinyin's first, tone-numbered, neutral
   tone 5, from ``readings.tsv``); the first character of a marked name
   (:data:`kiosk.linebreak.NAME_START`) gets its surname reading (曾 zeng1, 单 shan4).
3. Tone changes (变调), because espeak-ng makes only the third-tone one itself: 一 is yi1 in
   numbers read digit by digit, in ordinals, dates and at the end of a clause, yi2 before a
   fourth tone and yi4 before the others; 不 is bu2 before a fourth tone; of two or more third
   tones in a row all but the last become second tones (组长 zu2 zhang3). Words from the
   phrase table keep their own 一 and 不 (统一 yi1, 一个 yi2).

Memory: both tables are derived from pypinyin's data by :mod:`kiosk.speech.build_phrases`
and loaded compactly (about 2.5 MB in all); pypinyin itself in the App would cost 52 MB with
its phrases, 10 MB without them, against the 20 MB budget of speech.
"""
from __future__ import annotations

import re
import threading
from array import array
from dataclasses import dataclass
from importlib import resources

from kiosk.linebreak import NAME_END, NAME_START

#: This domain's readings, checked by hand; they override pypinyin's phrase data.
DOMAIN_PHRASES: dict[str, str] = {
    # 还 huán (give back), not hái (still).
    "还款": "huan2 kuan3", "还贷": "huan2 dai4", "还本": "huan2 ben3", "还息": "huan2 xi1",
    "还清": "huan2 qing1", "还欠": "huan2 qian4", "归还": "gui1 huan2", "退还": "tui4 huan2",
    "偿还": "chang2 huan2", "返还": "fan3 huan2", "还钱": "huan2 qian2", "还账": "huan2 zhang4",
    # 行 háng, 长 zhǎng, 重 chóng/zhòng, 调 tiáo/diào, 会 kuài, 便 biàn.
    "银行": "yin2 hang2", "行长": "hang2 zhang3", "村长": "cun1 zhang3", "组长": "zu3 zhang3",
    "小组长": "xiao3 zu3 zhang3", "队长": "dui4 zhang3", "镇长": "zhen4 zhang3", "乡长": "xiang1 zhang3",
    "县长": "xian4 zhang3", "市长": "shi4 zhang3", "站长": "zhan4 zhang3", "所长": "suo3 zhang3",
    "长期": "chang2 qi1", "长度": "chang2 du4", "增长": "zeng1 zhang3",
    "重大": "zhong4 da4", "重要": "zhong4 yao4", "重点": "zhong4 dian3", "重建": "chong2 jian4",
    "重新": "chong2 xin1", "重复": "chong2 fu4", "重审": "chong2 shen3",
    "调整": "tiao2 zheng3", "调解": "tiao2 jie3", "调查": "diao4 cha2", "调研": "diao4 yan2",
    "调拨": "diao4 bo1", "调度": "diao4 du4", "协调": "xie2 tiao2",
    "会计": "kuai4 ji4", "便民": "bian4 min2", "出纳": "chu1 na4",
    "差旅费": "chai1 lv3 fei4", "差额": "cha1 e2", "出差": "chu1 chai1",
    "处置": "chu3 zhi4", "处理": "chu3 li3", "处分": "chu3 fen4",
    "发包": "fa1 bao1", "承包": "cheng2 bao1", "租赁": "zu1 lin4", "供养": "gong1 yang3",
    "补贴": "bu3 tie1", "应付": "ying1 fu4", "应收": "ying1 shou1", "应交": "ying1 jiao1",
    "结算": "jie2 suan4", "结余": "jie2 yu2", "单据": "dan1 ju4", "盖章": "gai4 zhang1",
    "两委": "liang3 wei3", "四议两公开": "si4 yi4 liang3 gong1 kai1",
    "一事一议": "yi2 shi4 yi2 yi4", "一卡通": "yi4 ka3 tong1",
    # 一 that ends a word keeps its first tone (统一规划 tong3 yi1 gui1 hua4).
    "统一": "tong3 yi1", "唯一": "wei2 yi1", "同一": "tong2 yi1", "逐一": "zhu2 yi1",
    "单一": "dan1 yi1", "之一": "zhi1 yi1", "初一": "chu1 yi1", "一一": "yi1 yi1",
    "一月": "yi1 yue4",  # January (pypinyin: yi2, as in 一月 "one month")
    # Words of this kiosk.
    "朗读": "lang3 du2", "大字": "da4 zi4", "首页": "shou3 ye4", "返回": "fan3 hui2",
    "指纹": "zhi3 wen2", "凭证": "ping2 zheng4", "摘要": "zhai1 yao4", "底价": "di3 jia4",
    "到户": "dao4 hu4", "地力": "di4 li4", "低保": "di1 bao3",
}
#: Surname readings for the first character of a marked name.
SURNAMES: dict[str, str] = {
    "曾": "zeng1", "单": "shan4", "解": "xie4", "查": "zha1", "仇": "qiu2", "朴": "piao2",
    "区": "ou1", "盖": "ge3", "乐": "yue4", "覃": "qin2", "缪": "miao4", "翟": "zhai2",
    "种": "chong2", "召": "shao4", "繁": "po2", "员": "yun4", "秘": "bi4", "华": "hua4",
    "任": "ren2", "折": "she2", "燕": "yan1", "葛": "ge3", "宁": "ning4", "纪": "ji3",
    "曲": "qu1", "薄": "bo2", "卜": "bu3", "柏": "bai3", "谌": "chen2", "褚": "chu3",
    "都": "du1", "隗": "wei3", "莘": "shen1", "过": "guo1", "句": "gou1", "洗": "xian3",
    "贾": "jia3", "沈": "shen3", "石": "shi2", "长孙": "zhang3 sun1", "尉迟": "yu4 chi2",
    "万俟": "mo4 qi2", "单于": "chan2 yu2", "令狐": "ling2 hu2", "澹台": "tan2 tai2",
}
_NUMERALS = set("零〇一二三四五六七八九十两幺")
_PAUSE_MARKS = {"，": ",", "、": ",", "；": ",", "：": ",", "。": ".", "？": ".", "！": "."}
_LETTER = re.compile(r"[A-Z]")

_lock = threading.Lock()
_table: dict[str, str] | None = None  # phrase → its syllables, space-separated (compact)
_longest = 1
#: Usual readings: _SYLLABLES[_BMP[cp - 0x3000]] for U+3000..U+FFFF, _SIP likewise from
#: U+20000 (CJK Ext B..H); index 0 is "no reading".
_SYLLABLES: list[str] = [""]
_BMP = array("H")
_SIP = array("H")
_SIP_BASE = 0x20000


@dataclass
class Syllable:
    """One unit of what is said: a pinyin syllable (``han`` its character), a spelled Latin
    letter (``letter``), or a pause (``pause``: ``","`` or ``"."``)."""

    text: str
    han: str = ""
    locked: bool = False  # its tone came from a word of the phrase table
    kind: str = "syllable"

    @property
    def tone(self) -> int:
        return int(self.text[-1]) if self.kind == "syllable" and self.text[-1:].isdigit() else 0


def load() -> None:
    """Load pypinyin and the phrase table now (the service does this at start, so the first
    sentence is not slowed by it). Idempotent and thread-safe."""
    global _table, _longest
    if _table is not None:
        return
    with _lock:
        if _table is not None:
            return
        bmp, sip = array("H", bytes(2 * 0xD000)), array("H", bytes(2 * 0x14000))
        text = (resources.files("kiosk.speech") / "readings.tsv").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                said, _, chars = line.partition("\t")
                _SYLLABLES.append(said)
                k = len(_SYLLABLES) - 1
                for c in chars:
                    cp = ord(c)
                    if 0x3000 <= cp < 0x10000:
                        bmp[cp - 0x3000] = k
                    elif _SIP_BASE <= cp < _SIP_BASE + len(sip):
                        sip[cp - _SIP_BASE] = k
        _BMP.extend(bmp)
        _SIP.extend(sip)
        table: dict[str, str] = {}
        text = (resources.files("kiosk.speech") / "polyphones.tsv").read_text(encoding="utf-8")
        for line in text.splitlines():
            if line and not line.startswith("#"):
                word, _, said = line.partition("\t")
                table[word] = said
        table.update(DOMAIN_PHRASES)
        _longest = max(map(len, table))
        _table = table


def usual_reading(ch: str) -> str:
    """The usual reading of one character (``"行"`` → ``"xing2"``), ``""`` if it has none."""
    load()
    cp = ord(ch)
    if 0x3000 <= cp < 0x10000:
        return _SYLLABLES[_BMP[cp - 0x3000]]
    if _SIP_BASE <= cp < _SIP_BASE + len(_SIP):
        return _SYLLABLES[_SIP[cp - _SIP_BASE]]
    return ""


def _usual(chars: list[str]) -> list[str]:
    return [usual_reading(c) for c in chars]


def syllables(spoken: str) -> list[Syllable]:
    """The syllables, letters and pauses of ``spoken`` (the output of
    :func:`kiosk.speech.normalise.normalise`), tone changes applied. Characters without a
    reading (symbols, emoji) are dropped."""
    load()
    assert _table is not None
    out: list[Syllable] = []
    pending: list[tuple[str, bool]] = []  # characters waiting for their usual reading

    def flush() -> None:
        for (ch, first_of_name), py in zip(pending, _usual([c for c, _ in pending])):
            if first_of_name and ch in SURNAMES:
                py = SURNAMES[ch]
            if py and py[-1].isdigit():
                out.append(Syllable(py, ch))
        pending.clear()

    i, n, name_start = 0, len(spoken), False
    while i < n:
        ch = spoken[i]
        if ch == NAME_START:
            name_start = True
            i += 1
            continue
        if ch == NAME_END:
            i += 1
            continue
        if ch in _PAUSE_MARKS:
            flush()
            out.append(Syllable(_PAUSE_MARKS[ch], kind="pause"))
            i += 1
            continue
        if _LETTER.fullmatch(ch):
            flush()
            out.append(Syllable(ch, kind="letter"))
            i += 1
            continue
        word = None
        if name_start and spoken[i:i + 2] in SURNAMES:
            word, said = spoken[i:i + 2], tuple(SURNAMES[spoken[i:i + 2]].split())
        else:
            for k in range(min(_longest, n - i), 1, -1):
                found = _table.get(spoken[i:i + k])
                if found:
                    word, said = spoken[i:i + k], tuple(found.split())
                    break
        if word:
            flush()
            out.extend(Syllable(s, c, locked=True) for c, s in zip(word, said))
            i += len(word)
        else:
            pending.append((ch, name_start))
            i += 1
        name_start = False
    flush()
    _tone_changes(out)
    return out


def _tone_changes(items: list[Syllable]) -> None:
    """一/不 by context, then third-tone runs (see the module docstring). In place."""
    for k, s in enumerate(items):
        if s.kind != "syllable" or s.locked or s.han not in "一不":
            continue
        prev = items[k - 1] if k > 0 and items[k - 1].kind == "syllable" else None
        nxt = items[k + 1] if k + 1 < len(items) and items[k + 1].kind == "syllable" else None
        if s.han == "不":
            s.text = "bu2" if nxt and nxt.tone == 4 else "bu4"
        elif (nxt is None or (prev and (prev.han in _NUMERALS or prev.han == "第"))
              or nxt.han in _NUMERALS or nxt.han in "月日号"):
            s.text = "yi1"
        else:
            s.text = "yi2" if nxt.tone in (4, 5) else "yi4"
    run: list[Syllable] = []
    for s in [*items, Syllable(",", kind="pause")]:
        if s.kind == "syllable" and s.tone == 3:
            run.append(s)
            continue
        for r in run[:-1]:
            r.text = r.text[:-1] + "2"
        run = []


def to_pinyin(spoken: str) -> str:
    """``spoken`` as one line of tone-numbered pinyin: syllables and spelled letters separated
    by spaces, pauses as ``,`` and ``.`` attached to the syllable before them."""
    out = ""
    for s in syllables(spoken):
        if s.kind == "pause":
            if out and out[-1] not in ",.":
                out += s.text
            elif out and s.text == ".":
                out = out[:-1] + "."
        else:
            out += (" " if out else "") + s.text
    return out
