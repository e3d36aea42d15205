"""Invented villagers and officials for demo data. No real person: names are drawn from pools,
ID numbers synthesised with :func:`kiosk.idnumber.make` (valid GB 11643 check characters).
"""
from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from kiosk import idnumber
from kiosk.demo.refdata import Village

# Common surnames of Lianyuan/Loudi; a village is dominated by a few clans (picked per village).
SURNAMES = ("李", "刘", "王", "张", "陈", "曾", "谢", "肖", "梁", "吴", "周", "彭", "罗",
            "贺", "易", "龚", "胡", "邓", "颜", "袁", "童", "聂", "伍", "蒋", "唐", "朱")
MALE_CHARS = "建国伟军华明平志勇德清春生林福海强文光龙辉桂秋冬金玉长正新发顺红云松树立志福安祥"
FEMALE_CHARS = "秀英兰珍梅芳娟桂凤玲霞莲菊红丽琴云春花美翠香群娥秋冬玉艳燕金淑荣"
CN_NUM = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1..99 in Chinese numerals (第十二村民小组)."""
    if n < 10:
        return CN_NUM[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else CN_NUM[tens]) + "十" + (CN_NUM[ones] if ones else "")


@dataclass(frozen=True)
class DemoPerson:
    """An invented villager as an ID card would show them.

    Attributes:
        name: full name (may hold Ext-A/Ext-B characters, a compound surname or a middle dot).
        sex_code: GB/T 2261.1 code, ``'1'`` 男 or ``'2'`` 女 (matches the ID number's parity).
        nation_code: GB 3304 two-digit code, e.g. ``'01'`` 汉族.
        birth: birth date (1935–2005).
        id_number: 18-character synthetic number, region = the village's county code.
        address: synthetic 住址 (湖南省涟源市白马镇洪泉村第三村民小组12号); only for the card
            simulator, never written to source files.
        group_name: 村民小组 the person belongs to (第三村民小组).
    """

    name: str
    sex_code: str
    nation_code: str
    birth: dt.date
    id_number: str
    address: str
    group_name: str


@dataclass
class Household:
    head: DemoPerson
    members: list[DemoPerson]  # head first
    group_no: int
    land_mu: str  # 承包耕地面积 (亩), decimal string


@dataclass(frozen=True)
class Officials:
    """Village officials (shown in full as they act in office)."""

    secretary: str       # 村党组织书记、村委会主任 (一肩挑)
    deputy: str          # 村党组织副书记、村委会副主任
    accountant: str      # 村委会委员（报账员）
    women: str           # 村委会委员（妇联主席）
    member: str          # 村委会委员
    supervisor_chief: str  # 村务监督委员会主任
    supervisors: tuple[str, str]  # 村务监督委员会委员
    group_leaders: tuple[str, ...]  # 村民小组长, one per group
    phones: dict[str, str]


# Special persons the card simulator needs (rare characters, compound surname, middle dot).
_FEATURED = (
    ("李桂生", "1", "01"),                 # ID number forced to end in X
    ("欧阳秀英", "2", "01"),               # compound surname
    ("曾\u4dae", "1", "01"),               # 䶮 U+4DAE (CJK Ext-A)
    ("刘\U0002020c华", "1", "15"),         # 𠈌 U+2020C (CJK Ext-B), 土家族
    ("热依汗古丽·艾合买提江", "2", "05"),  # long name with a middle dot, 维吾尔族
)


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        clans = rng.sample(SURNAMES[:10], 3)
        self.surnames = list(SURNAMES)
        self.weights = [30 if s in clans else (4 if i < 12 else 1) for i, s in enumerate(SURNAMES)]

    def surname(self) -> str:
        return self.rng.choices(self.surnames, self.weights)[0]

    def given(self, sex: str) -> str:
        pool = MALE_CHARS if sex == "1" else FEMALE_CHARS
        n = 2 if self.rng.random() < 0.8 else 1
        return "".join(self.rng.choice(pool) for _ in range(n))

    def full(self, sex: str, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given(sex)


def _rand_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


class _IdMaker:
    """Unique synthetic ID numbers; sequence parity matches sex (odd = male, GB 11643)."""

    def __init__(self, rng: random.Random, region: str):
        self.rng, self.region, self.used = rng, region, set()

    def make(self, born: dt.date, sex: str, want_x: bool = False) -> str:
        while True:
            seq = self.rng.randrange(0, 500) * 2 + (1 if sex == "1" else 0)
            idn = idnumber.make(self.region, born, seq)
            if idn not in self.used and (not want_x or idn.endswith("X")):
                self.used.add(idn)
                return idn


def population(village: Village, rng: random.Random) -> tuple[list[Household], list[DemoPerson]]:
    """Households of the village and the featured persons (first five, in order).

    Featured persons are elderly heads of their own household so they draw pensions and
    benefits; the first has an ID number ending in X.
    """
    names = _Names(rng)
    ids = _IdMaker(rng, village.county_code)
    n_groups = rng.randint(12, 16)
    doors: dict[int, int] = {}
    households: list[Household] = []

    def person(name: str, sex: str, nation: str, born: dt.date, g: int, door: int,
               want_x: bool = False) -> DemoPerson:
        group = f"第{cn_number(g)}{village.group_word}"
        addr = f"湖南省{village.county_name}{village.township_name}{village.name}{group}{door}号"
        return DemoPerson(name, sex, nation, born, ids.make(born, sex, want_x), addr, group)

    def next_door(g: int) -> int:
        doors[g] = doors.get(g, 0) + rng.randint(1, 3)
        return doors[g]

    featured: list[DemoPerson] = []
    for i, (name, sex, nation) in enumerate(_FEATURED):
        g = rng.randint(1, n_groups)
        door = next_door(g)
        born = _rand_date(rng, dt.date(1938, 1, 1), dt.date(1958, 12, 31))
        p = person(name, sex, nation, born, g, door, want_x=(i == 0))
        featured.append(p)
        households.append(Household(p, [p], g, f"{rng.randint(10, 45) / 10:.1f}"))

    n_households = rng.randint(300, 340)
    for _ in range(n_households):
        g = rng.randint(1, n_groups)
        door = next_door(g)
        head_sex = "1" if rng.random() < 0.88 else "2"
        surname = names.surname()
        head_born = _rand_date(rng, dt.date(1935, 1, 1), dt.date(1982, 12, 31))
        head = person(names.full(head_sex, surname), head_sex, "01", head_born, g, door)
        members = [head]
        if rng.random() < 0.85:  # spouse, own surname
            s_sex = "2" if head_sex == "1" else "1"
            s_born = _rand_date(rng, max(head_born - dt.timedelta(days=3 * 365), dt.date(1935, 1, 1)),
                                min(head_born + dt.timedelta(days=6 * 365), dt.date(2005, 12, 31)))
            members.append(person(names.full(s_sex), s_sex, "01", s_born, g, door))
        for _ in range(rng.choice((0, 1, 1, 2, 2, 3))):
            c_born = head_born + dt.timedelta(days=rng.randint(22 * 365, 36 * 365))
            if c_born > dt.date(2005, 12, 31):
                break
            c_sex = rng.choice("12")
            members.append(person(names.full(c_sex, surname), c_sex, "01", c_born, g, door))
        land = f"{rng.randint(8, 65) / 10:.1f}"
        households.append(Household(head, members, g, land))
    return households, featured


def officials(village: Village, rng: random.Random, n_groups: int) -> Officials:
    """Invented officials of the village (consistent across all records)."""
    names = _Names(rng)
    picks = [names.full("1"), names.full("1"), names.full("2"), names.full("2"), names.full("1"),
             names.full("1"), names.full("2"), names.full("1")]
    leaders = tuple(names.full("1" if rng.random() < 0.8 else "2") for _ in range(n_groups))

    def mobile() -> str:
        # A local number starting with 0 cannot be dialled in China: never a real person's phone.
        return f"0738-0{rng.randrange(10**6):06d}"

    phones = {n: mobile() for n in picks}
    return Officials(picks[0], picks[1], picks[2], picks[3], picks[4], picks[5],
                     (picks[6], picks[7]), leaders, phones)
