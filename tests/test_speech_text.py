"""朗读: text as shown → text as said → tone-numbered pinyin (kiosk.speech.normalise, .pinyin)."""
import pytest

from kiosk.linebreak import NAME_END, NAME_START
from kiosk.speech.normalise import field_text, normalise, normalise_fields
from kiosk.speech.pinyin import syllables, to_pinyin
from kiosk.speech.utterance import prepare, split

# (as shown, as said, pinyin as given to espeak-ng)
CASES = [
    # amounts: 元/角/分, separators and a space before 元 as the screens show them
    ("18217.66元", "一万八千二百一十七元六角六分",
     "yi2 wan4 ba1 qian1 er4 bai3 yi1 shi2 qi1 yuan2 liu4 jiao3 liu4 fen1"),
    ("100000元", "十万元", "shi2 wan4 yuan2"),
    ("0.05元", "五分", "wu3 fen1"),
    ("支出 28,280.00 元", "支出两万八千二百八十元", "zhi1 chu1 liang3 wan4 ba1 qian1 er4 bai3 ba1 shi2 yuan2"),
    ("-1,200.00 元", "负一千二百元", "fu4 yi4 qian1 er4 bai3 yuan2"),
    ("1200.50元", "一千二百元五角", "yi4 qian1 er4 bai3 yuan2 wu2 jiao3"),
    ("30.05元", "三十元零五分", "san1 shi2 yuan2 ling2 wu3 fen1"),
    ("200005717元", "两亿零五千七百一十七元", "liang3 yi4 ling2 wu3 qian1 qi1 bai3 yi1 shi2 qi1 yuan2"),
    ("12.5万元", "十二点五万元", "shi2 er4 dian2 wu3 wan4 yuan2"),
    ("2 元", "两元", "liang3 yuan2"),
    ("5,000-50,000 元", "五千至五万元", "wu3 qian1 zhi4 wu3 wan4 yuan2"),
    # dates, times and years (years digit by digit, 〇 for zero; 一月 is January)
    ("2026年10月15日", "二〇二六年十月十五日", "er4 ling2 er4 liu4 nian2 shi2 yue4 shi2 wu3 ri4"),
    ("2026-10-15", "二〇二六年十月十五日", "er4 ling2 er4 liu4 nian2 shi2 yue4 shi2 wu3 ri4"),
    ("2024-01", "二〇二四年一月", "er4 ling2 er4 si4 nian2 yi1 yue4"),
    ("2026-10-31 14:05", "二〇二六年十月三十一日十四点零五分",
     "er4 ling2 er4 liu4 nian2 shi2 yue4 san1 shi2 yi1 ri4 shi2 si4 dian3 ling2 wu3 fen1"),
    ("2021—2025年", "二〇二一至二〇二五年", "er4 ling2 er4 yi1 zhi4 er4 ling2 er4 wu3 nian2"),
    ("2026年度", "二〇二六年度", "er4 ling2 er4 liu4 nian2 du4"),
    ("11月1日", "十一月一日", "shi2 yi1 yue4 yi1 ri4"),
    ("国发〔2014〕8号", "国发二〇一四年八号", "guo2 fa1 er4 ling2 yi1 si4 nian2 ba1 hao4"),
    # the footer: the fingerprint is not read
    ("数据更新至 2026-10-31 · 第3版 · 指纹 1a2b3c4d", "数据更新至二〇二六年十月三十一日，第三版",
     "shu4 ju4 geng1 xin1 zhi4 er4 ling2 er4 liu4 nian2 shi2 yue4 san1 shi2 yi1 ri4, di4 san1 ban3"),
    # codes, phone numbers (1 as 幺), ID-style strings digit by digit; account codes not read
    ("凭证号 记202401-001", "凭证号记二零二四零一，零零一",
     "ping2 zheng4 hao4 ji4 er4 ling2 er4 si4 ling2 yi1, ling2 ling2 yi1"),
    ("电话 0738-0371137", "电话零七三八，零三七幺幺三七",
     "dian4 hua4 ling2 qi1 san1 ba1, ling2 san1 qi1 yao1 yao1 san1 qi1"),
    ("手机 13807381234", "手机幺三八，零七三八，幺二三四",
     "shou3 ji1 yao1 san1 ba1, ling2 qi1 san1 ba1, yao1 er4 san1 si4"),
    ("举报电话 12388", "举报电话，幺二三八八", "ju3 bao4 dian4 hua4, yao1 er4 san1 ba1 ba1"),
    ("ZC001", "Z C，零零一", "Z C, ling2 ling2 yi1"),
    ("4313**********002X", "四三一三，零零二，X", "si4 san1 yi1 san1, ling2 ling2 er4, X"),
    ("51301 管理费用-办公费", "管理费用，办公费", "guan2 li3 fei4 yong4, ban4 gong1 fei4"),
    ("https://jiandu.example.org/431382", "网址请看屏幕", "wang2 zhi2 qing3 kan4 ping2 mu4"),
    # counts with measure words (两 for 2), spans, percentages, ordinals
    ("共 1,616 条", "共一千六百一十六条", "gong4 yi4 qian1 liu4 bai3 yi1 shi2 liu4 tiao2"),
    ("2 笔", "两笔", "liang2 bi3"),
    ("2,000 户", "两千户", "liang3 qian1 hu4"),
    ("共 3 人", "共三人", "gong4 san1 ren2"),
    ("30 年", "三十年", "san1 shi2 nian2"),
    ("3~5 年", "三至五年", "san1 zhi4 wu3 nian2"),
    ("12.5%", "百分之十二点五", "bai3 fen1 zhi1 shi2 er4 dian2 wu3"),
    ("100%", "百分之百", "bai3 fen1 zhi1 bai3"),
    ("第1组", "第一组", "di4 yi1 zu3"),
    ("818.6 平方米", "八百一十八点六平方米", "ba1 bai3 yi1 shi2 ba1 dian3 liu4 ping2 fang1 mi3"),
    # masked names (surname readings), punctuation
    ("曾*荣", "曾某荣", "zeng1 mou3 rong2"),
    ("单*", "单某", "shan4 mou3"),
    ("欧阳*娜", "欧阳某娜", "ou1 yang2 mou3 na4"),
    ("村\"两委\"会议商议", "村两委会议商议", "cun1 liang2 wei3 hui4 yi4 shang1 yi4"),
    ("互联网+监督", "互联网加监督", "hu4 lian2 wang3 jia1 jian1 du1"),
    # polyphones and tone changes
    ("银行还款", "银行还款", "yin2 hang2 huan2 kuan3"),
    ("按期还款", "按期还款", "an4 qi1 huan2 kuan3"),
    ("还款金额", "还款金额", "huan2 kuan3 jin1 e2"),
    ("重大事项调整", "重大事项调整", "zhong4 da4 shi4 xiang4 tiao2 zheng3"),
    ("长期租赁", "长期租赁", "chang2 qi1 zu1 lin4"),
    ("会计", "会计", "kuai4 ji4"),
    ("行长", "行长", "hang2 zhang3"),
    ("调查", "调查", "diao4 cha2"),
    ("村长、组长", "村长、组长", "cun1 zhang3, zu2 zhang3"),
    ("重建", "重建", "chong2 jian4"),
    ("还清", "还清", "huan2 qing1"),
    ("便民服务", "便民服务", "bian4 min2 fu2 wu4"),
    ("一事一议", "一事一议", "yi2 shi4 yi2 yi4"),
    ("四议两公开", "四议两公开", "si4 yi4 liang3 gong1 kai1"),
    ("第二村民小组", "第二村民小组", "di4 er4 cun1 min2 xiao2 zu3"),
    ("统一规划", "统一规划", "tong3 yi1 gui1 hua4"),
    ("不是", "不是", "bu2 shi4"),
    ("一个月", "一个月", "yi2 ge4 yue4"),
]


def _unmarked(s: str) -> str:
    return s.replace(NAME_START, "").replace(NAME_END, "")


@pytest.mark.parametrize("shown,said,pinyin", CASES, ids=[c[0] for c in CASES])
def test_text_is_said_and_spelled_right(shown, said, pinyin):
    spoken = normalise(shown)
    assert _unmarked(spoken) == said
    assert to_pinyin(spoken) == pinyin


def test_enough_cases():
    assert len(CASES) >= 40


def test_output_holds_only_sayable_characters():
    # No ASCII digits, no Latin letter that is not spelled one by one, no symbols left.
    for shown, _, _ in CASES:
        spoken = _unmarked(normalise(shown))
        assert not any(c.isdigit() and c.isascii() for c in spoken), spoken
        for s in syllables(normalise(shown)):
            assert s.kind in ("syllable", "letter", "pause")
            if s.kind == "syllable":
                assert s.text[-1] in "12345" and s.text[:-1].isascii() and s.text[:-1].isalpha(), s


def test_masked_names_are_marked_for_surname_readings():
    assert normalise("申请人曾*荣") == f"申请人{NAME_START}曾某荣{NAME_END}"
    # Unmarked, 曾 is céng (曾经); marked, the surname zēng.
    assert to_pinyin("曾经") == "ceng2 jing1"
    assert to_pinyin(f"{NAME_START}曾国荣{NAME_END}") == "zeng1 guo2 rong2"


def test_kivy_markup_and_odd_spaces_are_not_read():
    assert normalise("[font=fallback]䶮[/font]\u00a0收入\u3000100 元") == "䶮收入，一百元"


def test_fields_skip_codes_and_fingerprints_and_spell_numbers():
    assert field_text("科目代码", "51301") == ""
    assert field_text("指纹", "1a2b3c4d") == ""
    assert field_text("科目", "51301 管理费用-办公费") == "科目，管理费用-办公费"
    assert field_text("联系电话", "0738-0371137") == "联系电话，零七三八，零三七幺幺三七"
    assert field_text("项目编号", "XM2021001") == "项目编号，X M 零二零二一零零一".replace("零二零二一", "二零二一")
    text = normalise_fields("财务收支 · 凭证", [("凭证号", "记202401-001"), ("金额", "1,518.16 元"),
                                            ("科目代码", "51301"), ("摘要", "购买墨盒硒鼓")])
    assert text == "财务收支，凭证。凭证号，记二零二四零一，零零一。金额，一千五百一十八元一角六分。摘要，购买墨盒硒鼓"


def test_nothing_sayable_gives_no_chunks():
    assert prepare("") == [] and prepare("!!! ***") == [] and prepare("指纹 1a2b3c4d") == []


def test_the_first_chunk_is_short_and_nothing_is_lost():
    spoken = normalise("2026年10月 共 45 笔，收入 28,280.00 元，支出 18,217.66 元，结余 10,062.34 元。数据更新至 2026-10-31")
    pieces = split(spoken, first_chars=12)
    assert "".join(pieces) == spoken
    assert len(pieces[0]) <= 13 and pieces[0].endswith("，")
    chunks = prepare("财务收支。2026年10月 共 45 笔")
    assert [c.spoken for c in chunks] == ["财务收支。", "二〇二六年十月共四十五笔"]
    assert [c.syllables for c in chunks] == [4, 12]
