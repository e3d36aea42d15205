"""Record generators for the source export: assets, projects, finance (财务收支), services and
payments (到户资金). Every function takes its own ``random.Random`` so one kind can change
without shifting the others; nothing reads the clock.
"""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from kiosk.formatting import money as shown  # amounts in texts as the screens show them: 60,334.68 元
from kiosk.rules import approval_level
from kiosk.demo.people import DemoPerson, Household, Officials, cn_number
from kiosk.demo.refdata import Village, chart

D = dt.date
DAY = dt.timedelta(days=1)
BOOKS_START = D(2024, 1, 1)  # the 2023 chart (财会〔2023〕14号) is in force from this day
CENT = Decimal("0.01")
PLACES = ("后山", "大冲", "老屋岭", "狮子山", "茶园坡", "枫树坳", "长冲", "杉木冲", "鹅公岭", "竹山湾",
          "黄土岭", "石门冲", "松树坡", "牛形山", "塘湾", "新屋场", "坳上", "河边", "桥头", "洪家湾",
          "上屋", "下屋", "庙冲", "对门山")
TIANGAN = ("甲丰", "乙兴", "丙安", "丁顺", "戊达", "己成", "庚泰", "辛和", "壬盛", "癸源")
STAGES = ("立项", "设计", "招标", "合同", "施工", "验收", "审计结算", "公示")


def money(d: Decimal) -> str:
    """Two-place decimal string in 元."""
    return str(d.quantize(CENT))


def yuan(rng: random.Random, lo: int, hi: int, step_fen: int = 1) -> Decimal:
    """Random amount in [lo, hi] 元, a multiple of ``step_fen`` 分."""
    fen = rng.randint(lo * 100, hi * 100)
    return Decimal(fen - fen % step_fen) / 100


def rand_date(rng: random.Random, a: dt.date, b: dt.date) -> dt.date:
    return a + DAY * rng.randint(0, max(0, (b - a).days))


def invented_org(rng: random.Random, place: str, trade: str) -> str:
    """An obviously invented organisation name (天干 placeholder words + 虚构)."""
    return f"{place}{rng.choice(TIANGAN)}{trade}（虚构）"


# ---------------------------------------------------------------- assets 资产资源
_ASSET_PLAN = (
    # name, kind, category, unit, (area lo, hi) in tenths, status choices, rent 元/unit/yr (lo, hi)|None
    ("村部综合楼", "资产", "房屋", "平方米", (6000, 9000), ("在用",), None),
    ("原村小学教学楼", "资产", "房屋", "平方米", (8000, 12000), ("出租",), (8, 18)),
    ("村部一楼门面1号", "资产", "房屋", "平方米", (400, 800), ("出租",), (60, 110)),
    ("村部一楼门面2号", "资产", "房屋", "平方米", (400, 800), ("出租",), (60, 110)),
    ("村部一楼门面3号", "资产", "房屋", "平方米", (400, 800), ("出租", "闲置"), (60, 110)),
    ("集体仓库", "资产", "房屋", "平方米", (1500, 3000), ("出租", "闲置"), (10, 20)),
    ("老村部旧址", "资产", "房屋", "平方米", (2000, 3500), ("闲置", "出租"), (6, 12)),
    ("村卫生室用房", "资产", "房屋", "平方米", (800, 1200), ("在用",), None),
    ("农产品加工厂房", "资产", "房屋", "平方米", (3000, 6000), ("出租",), (10, 22)),
    ("村级光伏发电设备（60千瓦）", "资产", "设备", None, None, ("在用",), None),
    ("柴油抽水机（一号）", "资产", "设备", None, None, ("在用",), None),
    ("电动抽水机（二号）", "资产", "设备", None, None, ("在用",), None),
    ("垃圾转运车", "资产", "设备", None, None, ("在用",), None),
    ("旧变压器", "资产", "设备", None, None, ("已处置",), None),
    ("报废办公电脑（5台）", "资产", "设备", None, None, ("已处置",), None),
)


def assets(village: Village, rng: random.Random, heads: list[DemoPerson], as_of: dt.date,
           land_contract_end: dt.date | None = None) -> list[dict]:
    """≥ 60 assets and resources; leased ones carry 底价 and its review, deal price, bidder
    count, term, rent and rent schedule (yearly from the term's start). Clean by construction
    for the supervision rules: deals above the reserve price (or at it with several bidders),
    leases ending more than 90 days after ``as_of``, land transfers (流转) ending by
    ``land_contract_end``."""
    plan = list(_ASSET_PLAN)
    places = list(PLACES)
    rng.shuffle(places)
    for i in range(14):
        plan.append((f"{places[i]}山林地", "资源", "山林", "亩", (200, 3000), ("发包", "发包", "集体管护"), (15, 40)))
    for i in range(16):
        plan.append((f"{places[(i + 5) % len(places)]}机动田", "资源", "耕地", "亩", (20, 400), ("流转", "流转", "发包"), (200, 450)))
    for i in range(12):
        plan.append((f"{places[(i + 11) % len(places)]}山塘", "资源", "水面", "亩", (30, 300), ("发包", "发包", "集体管护"), (150, 400)))
    for i in range(4):
        plan.append((f"{places[(i + 17) % len(places)]}荒坡地", "资源", "四荒地", "亩", (50, 500), ("发包", "闲置"), (10, 30)))
    out = []
    for n, (name, kind, cat, unit, area_r, statuses, rent_r) in enumerate(plan, 1):
        status = rng.choice(statuses)
        area = Decimal(rng.randint(*area_r)) / 10 if area_r else None
        rec = {"id": f"ZC{n:03d}", "name": name, "kind": kind, "category": cat,
               "area": f"{area:.1f}" if area is not None else None, "area_unit": unit,
               "status": status, "counterparty": None, "counterparty_type": None,
               "disposal_method": None, "reserve_price": None, "reserve_review": None,
               "deal_price": None, "term_start": None, "term_end": None,
               "annual_rent": None, "deposit": None, "bidders": None, "rent_schedule": None}
        if status in ("出租", "发包", "流转") and rent_r:
            per_unit = Decimal(rng.randint(*rent_r))
            reserve = (per_unit * area).quantize(Decimal("10")) if area else Decimal(rng.randint(3, 20) * 1000)
            method = rng.choice(("公开竞价", "公开竞价", "协商"))
            if method == "协商":  # one party, a price negotiated above the reserve
                deal = max(reserve + 10, (reserve * Decimal(rng.randint(103, 115)) / 100).quantize(Decimal("10")))
                bidders = 1
            else:
                deal = (reserve * Decimal(rng.randint(100, 130)) / 100).quantize(Decimal("10"))
                bidders = rng.randint(2, 6)
            years = {"房屋": rng.choice((3, 5)), "山林": rng.choice((15, 20, 30)), "耕地": rng.choice((3, 5, 10)),
                     "水面": rng.choice((5, 8, 10)), "四荒地": 10}[cat]
            # ends at least ~95 days after as_of (day 1 of the month can move the start back 30 days)
            start = rand_date(rng, max(D(2016, 3, 1), as_of.replace(year=as_of.year - years) + 130 * DAY), as_of - 20 * DAY)
            start = start.replace(day=1)
            end = start.replace(year=start.year + years) - DAY
            if cat == "耕地" and status == "流转" and land_contract_end:  # no longer than the contract period
                end = min(end, land_contract_end)
            if cat in ("房屋",) or rng.random() < 0.45:
                cp, cp_type = invented_org(rng, village.township_name,
                                           rng.choice(("种养专业合作社", "农业开发有限公司", "商贸有限公司"))), "org"
            else:
                cp, cp_type = rng.choice(heads).name, "person"
            review = rng.choice((
                "村“两委”会议提出，村务监督委员会审核，村民代表会议表决确定",
                f"委托{invented_org(rng, village.county_name, '资产评估事务所')}评估，村民代表会议审议确定",
                "参照周边同类租金，经乡镇农经站审核、村民代表会议表决确定",
            ))
            rec.update(counterparty=cp, counterparty_type=cp_type, disposal_method=method,
                       reserve_price=money(reserve), reserve_review=review, deal_price=money(deal),
                       term_start=start.isoformat(), term_end=end.isoformat(), annual_rent=money(deal),
                       deposit=money((deal * rng.choice((Decimal("0.25"), Decimal("0.5"), Decimal(1)))).quantize(Decimal(1))),
                       bidders=bidders, rent_schedule={"first_due": start.isoformat(), "every_months": 12})
        elif status == "已处置":
            reserve = Decimal(rng.randint(8, 60) * 100)
            deal = (reserve * Decimal(rng.randint(100, 125)) / 100).quantize(Decimal(1))
            rec.update(counterparty=invented_org(rng, village.county_name, "再生资源回收有限公司"),
                       counterparty_type="org", disposal_method="公开竞价", reserve_price=money(reserve),
                       reserve_review="报废鉴定后委托评估，村民代表会议表决确定底价", deal_price=money(deal),
                       bidders=rng.randint(2, 5))
        out.append(rec)
    return out


# ---------------------------------------------------------------- projects 工程项目
_PROJECT_PLAN = (
    # category, name template, budget lo, hi (元)
    ("道路硬化", "{p}组级道路硬化工程（长{l}米、宽3.5米）", 90000, 650000),
    ("道路硬化", "{p}至村部通组公路拓宽硬化", 200000, 800000),
    ("水利", "{p}山塘清淤扩容工程", 30000, 180000),
    ("水利", "{p}灌溉渠道硬化工程（{l}米）", 50000, 300000),
    ("危桥改造", "{p}危桥改造工程", 80000, 450000),
    ("路灯", "村主干道太阳能路灯安装工程（{n}盏）", 60000, 300000),
    ("文化广场", "{p}文化广场建设工程", 150000, 500000),
    ("村部维修", "村综合服务平台维修改造工程", 40000, 200000),
    ("安全饮水", "{p}安全饮水巩固提升工程", 80000, 300000),
    ("人居环境", "{p}垃圾分类收集亭建设", 15000, 60000),
    ("人居环境", "{p}排水沟整治工程", 20000, 90000),
    ("水利", "{p}河堤护坡加固工程", 60000, 300000),
)
_FUNDS = ("财政奖补资金", "一事一议财政奖补资金", "乡村振兴衔接资金", "水利专项资金", "交通专项资金", "村集体自筹", "乡贤捐赠")


def _procurement(rng: random.Random, budget: Decimal) -> str:
    if budget >= 400000:
        return "公开招标"
    if budget >= 100000:
        return rng.choice(("邀请招标", "竞争性谈判", "公开招标"))
    if budget >= 30000:
        return rng.choice(("询价", "直接委托", "竞争性谈判"))
    return rng.choice(("直接委托", "村民自建"))


def projects(village: Village, rng: random.Random, off: Officials, as_of: dt.date) -> list[dict]:
    """≥ 30 projects with stage histories (dates never fall); recent ones are still running.

    Clean by construction for the supervision rules: each contractor builds one project, and
    no two projects of one category share a place within 500 days (no suspected splitting)."""
    n = rng.randint(32, 36)
    starts = sorted(rand_date(rng, D(2021, 3, 1), as_of - 20 * DAY) for _ in range(n))
    # make sure several are in progress: the last five start in the final year
    starts[-5:] = sorted(rand_date(rng, as_of - 300 * DAY, as_of - 15 * DAY) for _ in range(5))
    out = []
    used_places: list[tuple[str, int, str, dt.date]] = []
    used_contractors: set[str] = set()
    for i, start in enumerate(starts, 1):
        cat, tpl, lo, hi = rng.choice(_PROJECT_PLAN)
        for _ in range(50):
            place = rng.choice(PLACES)
            group_no = rng.randint(1, len(off.group_leaders))
            if not any(c == cat and g == group_no and pl == place and abs((start - d).days) < 500
                       for c, g, pl, d in used_places):
                break
        used_places.append((cat, group_no, place, start))
        name = tpl.format(p=place, l=rng.randint(4, 25) * 100, n=rng.randint(4, 15) * 10)
        budget = Decimal(rng.randint(lo // 100, hi // 100) * 100)
        method = _procurement(rng, budget)
        # fund sources summing to the budget
        k = rng.choice((1, 2, 2, 3))
        srcs = rng.sample(_FUNDS, k)
        remaining, funds = budget, []
        for j, s in enumerate(srcs):
            amt = remaining if j == k - 1 else (budget * Decimal(rng.randint(20, 60)) / 100).quantize(Decimal(100))
            amt = min(amt, remaining)
            remaining -= amt
            funds.append({"source": s, "amount": money(amt)})
        funds = [f for f in funds if Decimal(f["amount"]) > 0]
        contractor_name = None
        while method != "村民自建" and (contractor_name is None or contractor_name in used_contractors):
            contractor_name = invented_org(rng, village.county_name, rng.choice(
                ("建筑工程有限公司", "路桥建设有限公司", "水利水电工程有限公司", "市政工程有限公司")))
        used_contractors.add(contractor_name)
        review = (budget * Decimal(rng.randint(90, 99)) / 100).quantize(CENT)
        contract = (review * Decimal(rng.randint(92, 99)) / 100).quantize(CENT)
        settle = (contract * Decimal(rng.randint(96, 104)) / 100).quantize(CENT)
        stage_list = [s for s in STAGES
                      if not (s == "招标" and method in ("直接委托", "村民自建"))
                      and not (s == "设计" and method in ("直接委托", "村民自建") and i % 2)]
        gaps = {"立项": 0, "设计": (15, 50), "招标": (15, 40), "合同": (5, 20), "施工": (5, 20),
                "验收": (30, 150), "审计结算": (20, 70), "公示": (3, 15)}
        notes = {
            "立项": "经四议两公开程序，村民代表会议表决通过",
            "设计": f"委托{invented_org(rng, '娄底市', '工程设计咨询有限公司')}设计，造价评审{shown(review)}",
            "招标": {"公开招标": "在县公共资源交易中心公开招标", "邀请招标": "邀请3家单位投标",
                   "竞争性谈判": "3家单位参加竞争性谈判", "询价": "向3家单位询价"}.get(method, ""),
            "合同": (f"与{contractor_name}签订施工合同，合同价{shown(contract)}" if contractor_name
                   else f"与第{cn_number(group_no)}村民小组签订自建协议，金额{shown(contract)}"),
            "施工": f"开工，{off.supervisor_chief}（村务监督委员会主任）现场监督",
            "验收": "乡镇组织竣工验收，质量合格",
            "审计结算": f"第三方审计审定结算金额{shown(settle)}",
            "公示": "结算结果在村务公开栏公示7天，无异议",
        }
        stages, day = [], start
        for s in stage_list:
            if s != "立项":
                day = day + DAY * rng.randint(*gaps[s])
            if day > as_of:
                break
            stages.append({"stage": s, "date": day.isoformat(), "note": notes[s]})
        reached = {s["stage"] for s in stages}
        out.append({
            "id": f"XM{start.year}{i:03d}", "name": name, "category": cat,
            "location": f"第{cn_number(group_no)}{village.group_word}{place}",
            "budget": money(budget),
            "review_amount": money(review) if "设计" in reached else None,
            "fund_sources": funds, "procurement_method": method,
            "contractor": contractor_name if "合同" in reached else None,
            "contract_amount": money(contract) if "合同" in reached else None,
            "settlement_amount": money(settle) if "审计结算" in reached else None,
            "supervisors": [f"{off.supervisor_chief}（村务监督委员会主任）",
                            f"{off.group_leaders[group_no - 1]}（第{cn_number(group_no)}{village.group_word}组长）"],
            "stages": stages,
        })
    return out


# ---------------------------------------------------------------- finance 财务收支
_SUB = {
    "50101": "经营收入-出租收入", "50102": "经营收入-发包收入", "50201": "投资收益-光伏发电收益",
    "50202": "投资收益-入股分红", "50301": "补助收入-转移支付", "50302": "补助收入-专项补助",
    "50401": "其他收入-利息收入", "50402": "其他收入-捐赠收入", "24101": "专项应付款-项目资金",
    "23101": "一事一议资金-财政奖补", "15301": "在建工程-村级公益项目", "51101": "经营支出-出租资产维修", "51102": "经营支出-光伏运维",
    "51201": "税金及附加-印花税", "51301": "管理费用-办公费", "51302": "管理费用-水电费",
    "51303": "管理费用-差旅费", "51304": "管理费用-会议费", "51305": "管理费用-报刊资料费",
    "51306": "管理费用-误工补贴", "51307": "管理费用-修理费", "51308": "管理费用-网络通讯费",
    "51401": "公益支出-道路维护", "51402": "公益支出-环境卫生", "51403": "公益支出-文化活动",
    "51404": "公益支出-慰问支出", "51405": "公益支出-水利设施维护", "51406": "公益支出-路灯电费",
    "51501": "其他支出-银行手续费",
}
_INCOME = ("501", "502", "503", "504", "231", "241")  # money coming in; everything else is spending
_OFFICE = ("购买打印纸", "购买墨盒硒鼓", "购买办公文具", "复印资料费", "党建宣传资料印制",
           "村务公开栏资料制作", "购买档案盒", "购买会议室桌椅", "维修打印机")
_DEPTS = ("县农业农村局", "县民政局", "镇人民政府", "县自然资源局", "县财政局", "县乡村振兴局")


def _month_iter(start: dt.date, end: dt.date):
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        yield y, m
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)


def finance(village: Village, rng: random.Random, off: Officials, as_of: dt.date,
            asset_recs: list[dict], project_recs: list[dict], books_end: dt.date | None = None,
            unpaid_rent: frozenset = frozenset(), extra: tuple = ()) -> list[dict]:
    """Voucher lines from :data:`BOOKS_START` to ``books_end`` (default ``as_of``; ≥ 1,500),
    with a few 红字冲销.

    Lines of one voucher share ``voucher_no`` (记YYYYMM-NNN, numbered by date within a month).
    Summaries never name a private person. Every line states ``payment_method``; project
    payments and fund arrivals carry ``project_id`` (payments also ``project_payment``), rent
    lines ``asset_id``. ``unpaid_rent``: ``(asset id, year)`` whose rent is left out;
    ``extra``: further vouchers ``(date, code, summary, amount, fields)`` (planted cases).
    """
    end = min(books_end or as_of, as_of)
    # date, [(code, summary, amount, direction, extra fields)]
    vouchers: list[tuple[dt.date, list[tuple[str, str, Decimal, str, dict]]]] = []

    def day_in(y: int, m: int, lo: int = 1, hi: int = 28) -> dt.date | None:
        last = min(hi, as_of.day) if (y, m) == (as_of.year, as_of.month) else hi
        return D(y, m, rng.randint(min(lo, last), last)) if last >= 1 else None

    def add(date: dt.date | None, *lines: tuple) -> None:
        if date is None or not BOOKS_START <= date <= end:
            return
        vouchers.append((date, [(ln[0], ln[1], ln[2], "income" if ln[0][:3] in _INCOME else "expense",
                                 ln[3] if len(ln) > 3 else {}) for ln in lines]))

    for y, m in _month_iter(BOOKS_START, as_of):
        q = (m - 1) // 3 + 1
        for _ in range(rng.randint(7, 10)):
            add(day_in(y, m), *[("51301", f"{rng.choice(_OFFICE)}", yuan(rng, 30, 1800))
                                for _ in range(rng.randint(1, 4))])
        add(day_in(y, m, 5, 12), ("51302", f"支付{m}月村部电费", yuan(rng, 200, 900)),
            ("51302", f"支付{m}月村部水费", yuan(rng, 30, 150)))
        add(day_in(y, m, 5, 12), ("51308", f"支付{m}月村部宽带及电话费", yuan(rng, 100, 220)))
        for _ in range(rng.randint(2, 4)):
            add(day_in(y, m), ("51303", f"赴{village.county_name}{rng.choice(_DEPTS)}办事差旅费", yuan(rng, 40, 400)))
        if rng.random() < 0.7:
            add(day_in(y, m), ("51304", rng.choice(("召开村民代表会议会务费", "召开党员大会会务费", "召开屋场会会务费")),
                               yuan(rng, 200, 1500)))
        add(day_in(y, m, 20, 28), *[("51402", f"支付{m}月保洁员工资（第{cn_number(k)}片区）", yuan(rng, 1200, 1800, 100))
                                    for k in range(1, 6)])
        add(day_in(y, m, 5, 15), ("51406", f"支付{m}月路灯电费", yuan(rng, 200, 700)))
        add(day_in(y, m, 21, 28), ("51501", f"{m}月银行账户管理及转账手续费", yuan(rng, 5, 40)))
        add(day_in(y, m, 10, 20), ("50201", f"收到{m}月光伏发电收益", yuan(rng, 1800, 3200)))
        if rng.random() < 0.3:
            add(day_in(y, m), ("51401", f"{rng.choice(PLACES)}段道路维护", yuan(rng, 1500, 40000, 100)))
        if rng.random() < 0.25:
            add(day_in(y, m), ("51405", f"{rng.choice(PLACES)}山塘水渠维修", yuan(rng, 800, 25000, 100)))
        if rng.random() < 0.3:
            add(day_in(y, m), ("51307", rng.choice(("村部空调维修", "村部屋面补漏", "公开栏维修", "监控设备维修")),
                               yuan(rng, 200, 3000)))
        if rng.random() < 0.15:
            add(day_in(y, m), ("51101", "出租房屋水电线路维修", yuan(rng, 500, 8000)))
        if m in (1, 4, 7, 10):
            add(day_in(y, m, 8, 20), ("50301", f"收到{y}年第{q}季度村级组织运转经费", yuan(rng, 40000, 60000, 10000)))
        if m in (3, 6, 9, 12):
            add(day_in(y, m, 21, 21), ("50401", f"{y}年第{q}季度银行存款利息", yuan(rng, 20, 400)))
            add(day_in(y, m, 22, 28), *[("51306", f"支付第{cn_number(g)}{village.group_word}组长{y}年第{q}季度误工补贴",
                                          yuan(rng, 600, 900, 100)) for g in range(1, len(off.group_leaders) + 1)])
            add(day_in(y, m, 10, 25), ("51102", f"光伏电站第{q}季度运维费", yuan(rng, 500, 1500)))
        if m == 1:
            add(day_in(y, m, 10, 25), ("51404", "春节慰问困难群众", yuan(rng, 3000, 9000, 100)))
            add(day_in(y, m, 10, 25), ("51403", "春节文艺活动", yuan(rng, 3000, 12000, 100)))
        if m == 6:
            add(day_in(y, m), ("51403", "七一党员主题活动", yuan(rng, 1000, 4000, 100)))
        if m == 10:
            add(day_in(y, m), ("51404", "重阳节慰问八十岁以上老人", yuan(rng, 5000, 15000, 100)))
        if m == 11:
            add(day_in(y, m), ("51305", f"订阅{y + 1}年度报刊", yuan(rng, 800, 1500)))
        if m == 12:
            add(day_in(y, m), ("51201", f"{y}年度租赁合同印花税", yuan(rng, 50, 300)))
            add(day_in(y, m), ("50202", f"收到{invented_org(rng, village.township_name, '种养专业合作社')}{y}年度入股分红",
                               yuan(rng, 10000, 60000, 100)))
        if m == 5:
            add(day_in(y, m), ("50302", f"收到{y}年村级集体经济发展奖补资金", yuan(rng, 50000, 200000, 10000)))
        if rng.random() < 0.06:
            add(day_in(y, m), ("50402", f"收到乡贤捐赠（用于{rng.choice(('助学', '修路', '敬老'))}）", yuan(rng, 5000, 50000, 1000)))

    # rents: each lease pays its annual rent within ten days of the term's anniversary (its schedule)
    for a in asset_recs:
        if not a["annual_rent"]:
            continue
        start, last = D.fromisoformat(a["term_start"]), D.fromisoformat(a["term_end"])
        code = "50101" if a["kind"] == "资产" else "50102"
        for y in range(BOOKS_START.year, as_of.year + 1):
            paid = D(y, start.month, min(start.day + rng.randint(0, 10), 28))
            if start <= paid <= last and (a["id"], y) not in unpaid_rent:
                add(paid, (code, f"收{a['name']}{y}年度租金", Decimal(a["annual_rent"]), {"asset_id": a["id"]}))

    # projects: fund arrivals (专项应付款) and payments (在建工程) by stage
    for p in project_recs:
        st = {s["stage"]: D.fromisoformat(s["date"]) for s in p["stages"]}
        short = p["name"].split("（")[0]
        if "合同" in st:
            fund = {"project_id": p["id"]}
            for f in p["fund_sources"]:
                if f["source"] not in ("村集体自筹",):
                    code = "23101" if f["source"].startswith("一事一议") else "24101"
                    add(st["合同"] + DAY * rng.randint(0, 20), (code, f"收到{short}{f['source']}", Decimal(f["amount"]), fund))
            contract = Decimal(p["contract_amount"])
            add(st["合同"] + DAY * rng.randint(5, 15), ("15301", f"支付{short}预付款", (contract * Decimal("0.3")).quantize(CENT),
                                                       {**fund, "project_payment": "预付款"}))
            if "施工" in st:
                add(st["施工"] + DAY * rng.randint(25, 45), ("15301", f"支付{short}进度款", (contract * Decimal("0.4")).quantize(CENT),
                                                           {**fund, "project_payment": "进度款"}))
            if "审计结算" in st:
                rest = Decimal(p["settlement_amount"]) * Decimal("0.97") - contract * Decimal("0.7")
                add(st["审计结算"] + DAY * rng.randint(5, 20), ("15301", f"支付{short}结算款（留3%质保金）", rest.quantize(CENT),
                                                             {**fund, "project_payment": "结算款"}))
    for date, code, summary, amount, fields in extra:
        add(date, (code, summary, amount, fields))

    vouchers.sort(key=lambda v: v[0])  # stable: same-day vouchers keep generation order
    lines: list[dict] = []
    handlers = (off.accountant,) * 7 + (off.deputy,) * 2 + (off.member,)

    def line(date, code, summary, amount, direction, reverses=None, fields=None):
        # small office spending is often paid in cash; from 1,000 元 always by transfer
        cash = direction == "expense" and abs(amount) < 1000 and rng.random() < 0.4
        return {"date": date.isoformat(), "summary": summary, "account_code": code,
                "account_name": _SUB.get(code) or chart()[code[:3]],
                "direction": direction, "amount": money(amount), "handler": rng.choice(handlers),
                "reviewer": off.supervisor_chief if rng.random() < 0.85 else rng.choice(off.supervisors),
                "approver": off.secretary, "approval_level": approval_level(amount),
                "attachments": rng.randint(1, 6), "reverses": reverses,
                "payment_method": "现金" if cash else "转账", "project_id": None, "project_payment": None,
                "asset_id": None, **(fields or {})}

    body = [(d, [line(d, c, s, a, di, fields=f) for c, s, a, di, f in ls]) for d, ls in vouchers]
    # 红字冲销: a handful of expense lines reversed a few days later (some re-entered correctly)
    candidates = [ln for _, ls in body for ln in ls
                  if ln["direction"] == "expense" and ln["account_code"] != "15301" and "demo_planted" not in ln
                  and D.fromisoformat(ln["date"]) <= end - 30 * DAY]
    for target in rng.sample(candidates, 6):
        d = D.fromisoformat(target["date"]) + DAY * rng.randint(3, 25)
        reason = rng.choice(("重复报账", "金额录入错误", "科目使用错误"))
        rev = line(d, target["account_code"], reason, -Decimal(target["amount"]), "expense",
                   fields={"payment_method": target["payment_method"]})
        rev["_target"] = target
        entries = [rev]
        if reason == "金额录入错误":
            fixed = (Decimal(target["amount"]) * Decimal(rng.randint(50, 95)) / 100).quantize(CENT)
            entries.append(line(d, target["account_code"], f"{target['summary']}（更正后重新入账）", fixed, "expense"))
        body.append((d, entries))
    body.sort(key=lambda v: v[0])
    counters: dict[tuple[int, int], int] = {}
    for d, ls in body:
        n = counters[(d.year, d.month)] = counters.get((d.year, d.month), 0) + 1
        for k, ln in enumerate(ls, 1):
            ln["voucher_no"] = f"记{d:%Y%m}-{n:03d}"
            ln["id"] = f"F{d:%Y%m}{n:03d}-{k}"
            lines.append(ln)
    for ln in lines:
        t = ln.pop("_target", None)
        if t is not None:
            ln["reverses"] = t["id"]
            ln["summary"] = f"红字冲销{t['voucher_no']}（{t['summary']}）：{ln['summary']}"
    return lines


# ---------------------------------------------------------------- services 办事结果
_RESULTS = {
    1: "纳入防止返贫监测对象", 2: "同意纳入易地搬迁安置", 3: "同意纳入农村危房改造", 4: "已出具户籍证明，转派出所办理",
    5: "同意纳入农村最低生活保障", 6: "认定为特困供养人员（分散供养）", 7: "给予临时救助", 8: "同意享受残疾人两项补贴",
    9: "同意建房，批准宅基地面积120平方米", 10: "已办理生育登记", 11: "已办理城乡居民养老保险待遇领取",
    12: "已办理城乡居民医疗保险参保登记", 13: "已出具证明", 14: "土地经营权流转合同已备案", 15: "已办理优待金申领",
}
_REJECT = {1: "家庭人均纯收入高于监测标准", 3: "住房安全鉴定为A级，不符合改造条件", 5: "家庭人均收入高于当地低保标准",
           6: "有法定赡养人且具备赡养能力", 7: "不符合临时救助条件", 9: "选址不符合村庄规划"}
_CERTS = ("居住证明", "亲属关系证明", "无业证明", "家庭经济状况证明", "婚姻状况证明", "土地权属证明")


def service(rng: random.Random, power: dict, person: DemoPerson, applied: dt.date, as_of: dt.date,
            approved: bool = True) -> dict:
    """One service record following the power's procedure path; dates never fall and never pass
    ``as_of`` (the whole history is shifted earlier if needed). ``id`` is assigned by the caller."""
    path, kinds = power["_path"], [s["kind"] for s in power["steps"]]
    no = power["no"]
    stop = len(path) if approved else kinds.index("decision") + 1
    dates, d, notice = [], applied, None
    for i in range(stop):
        if i:
            d += DAY * rng.randint(1, 5)
        dates.append(d)
        if "公示" in path[i]:
            notice = d
            d += 6 * DAY
    shift = max(dt.timedelta(0), d - as_of)
    dates = [x - shift for x in dates]
    notice = notice - shift if notice else None
    steps = []
    for i in range(stop):
        note = ""
        if kinds[i] == "decision":
            note = "通过" if approved else f"不通过，退回：{_REJECT.get(no, '材料不全，请补正')}"
        elif "公示" in path[i]:
            note = "公示7天，无异议"
        steps.append({"step": path[i], "date": dates[i].isoformat(), "note": note})
    if approved:
        result = _RESULTS[no]
        if no == 13:
            result = f"已出具{rng.choice(_CERTS)}"
        elif no == 7:
            result = f"给予临时救助{shown(Decimal(rng.randint(5, 30) * 100))}"
    else:
        result = f"不予通过：{_REJECT.get(no, '材料不全，已退回补正')}"
    return {"power_id": power["id"], "applicant": person.name, "applicant_id_number": person.id_number,
            "group": person.group_name, "result": result, "decided_on": dates[stop - 1].isoformat(),
            "notice_from": notice.isoformat() if notice and approved else None,
            "notice_to": (notice + 6 * DAY).isoformat() if notice and approved else None,
            "steps": steps}


# ---------------------------------------------------------------- payments 到户资金
BASIS = {
    "最低生活保障金": "《社会救助暂行办法》（国务院令第649号）、《最低生活保障审核确认办法》（民发〔2021〕57号）",
    "特困人员救助供养金": "《国务院关于进一步健全特困人员救助供养制度的意见》（国发〔2016〕14号）、《特困人员认定办法》（民发〔2021〕43号）",
    "城乡居民基本养老保险待遇": "《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）",
    "残疾人两项补贴": "《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）",
    "耕地地力保护补贴": "《财政部 农业部关于全面推开农业“三项补贴”改革工作的通知》（财农〔2016〕26号）",
    "农村危房改造补助": "《关于做好农村低收入群体等重点对象住房安全保障工作的实施意见》（建村〔2021〕35号）",
}
_SVC_FOR = {"最低生活保障金": 5, "特困人员救助供养金": 6, "残疾人两项补贴": 8, "农村危房改造补助": 3,
            "城乡居民基本养老保险待遇": 11}


def payments_and_services(rng: random.Random, households: list[Household], featured: list[DemoPerson],
                          powers_by_no: dict[int, dict], as_of: dt.date,
                          n_services: int = 900) -> tuple[list[dict], list[dict]]:
    """到户资金 lines (≥ 3,000) and 办事结果 (≥ 800): every benefit that starts inside the books has
    the approving service record before its first payment; featured persons get several of each."""
    pays: list[dict] = []
    svcs: list[dict] = []
    head_of = {p.id_number: h.head for h in households for p in h.members}
    months = list(_month_iter(BOOKS_START, as_of))

    def pay(item: str, period: str, paid: dt.date, amount: Decimal, p: DemoPerson) -> None:
        if paid <= as_of:
            pays.append({"item": item, "period": period, "paid_on": paid.isoformat(), "amount": money(amount),
                         "basis": BASIS[item], "holder": p.name, "holder_id_number": p.id_number,
                         "household_head": head_of[p.id_number].name})

    def monthly(item: str, p: DemoPerson, first: dt.date, base: Decimal, raise_: Decimal,
                last: dt.date | None = None) -> None:
        if item in _SVC_FOR and first > BOOKS_START + 40 * DAY:
            svcs.append(service(rng, powers_by_no[_SVC_FOR[item]], p, first - DAY * rng.randint(40, 60), first))
        for y, m in months:
            if D(y, m, 28) < first or (last and D(y, m, 1) > last):
                continue
            pay(item, f"{y}-{m:02d}", D(y, m, 15 if item != "城乡居民基本养老保险待遇" else 10),
                base + raise_ * (y - BOOKS_START.year), p)

    def start_date() -> dt.date:  # enrolled before the books, or during them
        return BOOKS_START if rng.random() < 0.6 else rand_date(rng, BOOKS_START + 60 * DAY, as_of - 60 * DAY).replace(day=1)

    everyone = [p for h in households for p in h.members]
    elderly = [p for p in everyone if p.birth <= D(1966, 10, 1)]
    # 养老保险待遇 for everyone aged 60+, starting the month after the 60th birthday
    # (a sample of the village's pensioners keeps the export and the bundle's hashing small)
    pensioners = featured + [p for p in elderly if p not in featured and rng.random() < 0.3]
    for p in pensioners:
        sixty = D(p.birth.year + 60, p.birth.month, 1) + 32 * DAY
        first = max(BOOKS_START, sixty.replace(day=1))
        monthly("城乡居民基本养老保险待遇", p, first, yuan(rng, 158, 260), Decimal(20))
    others = [p for p in everyone if p not in featured]
    dibao = featured[0:1] + featured[3:4] + rng.sample(others, 30)
    tekun = featured[2:3] + rng.sample([p for p in elderly if p not in featured and p not in dibao], 9)
    disabled = featured[1:2] + featured[4:5] + rng.sample([p for p in others if p not in tekun], 16)
    for p in dibao:
        last = None if rng.random() < 0.85 else rand_date(rng, D(2025, 1, 1), as_of)
        monthly("最低生活保障金", p, start_date(), yuan(rng, 300, 420, 1000), Decimal(15), last)
    for p in tekun:
        monthly("特困人员救助供养金", p, start_date(), yuan(rng, 560, 700, 1000), Decimal(30))
    for p in disabled:
        monthly("残疾人两项补贴", p, start_date(), Decimal(rng.choice((80, 90, 160, 180))), Decimal(0))
    # 耕地地力保护补贴: yearly to the household head by contracted area
    rate = {2024: Decimal("105.00"), 2025: Decimal("108.00"), 2026: Decimal("110.00")}
    for h in households:
        for y in range(BOOKS_START.year, as_of.year + 1):
            pay("耕地地力保护补贴", f"{y}年度", D(y, 6, 18), Decimal(h.land_mu) * rate.get(y, Decimal("110.00")), h.head)
    # 农村危房改造补助: one-off, after an approved 危房改造 service
    for p in rng.sample([h.head for h in households[5:]], 6):
        decided = rand_date(rng, D(2024, 3, 1), as_of - 120 * DAY)
        s = service(rng, powers_by_no[3], p, decided - 30 * DAY, as_of)
        svcs.append(s)
        pay("农村危房改造补助", f"{decided.year}年度", D.fromisoformat(s["decided_on"]) + DAY * rng.randint(60, 110),
            Decimal(rng.choice((20000, 25000, 31000, 35000))), p)

    # every featured person: a few more services of their own
    for p in featured:
        for no in (13, 12, 12, 4):
            svcs.append(service(rng, powers_by_no[no], p, rand_date(rng, BOOKS_START, as_of - 30 * DAY), as_of))
    weights = {1: 20, 2: 5, 3: 20, 4: 90, 5: 50, 6: 12, 7: 45, 8: 25, 9: 40, 10: 50, 11: 80, 12: 160,
               13: 200, 14: 30, 15: 20}
    nos = list(weights)
    adults = [p for p in everyone if p.birth <= D(2004, 1, 1)]
    while len(svcs) < n_services:
        no = rng.choices(nos, [weights[n] for n in nos])[0]
        approved = no not in _REJECT or rng.random() < 0.85
        svcs.append(service(rng, powers_by_no[no], rng.choice(adults),
                            rand_date(rng, BOOKS_START, as_of - 20 * DAY), as_of, approved))

    pays.sort(key=lambda r: (r["paid_on"], r["item"], r["holder_id_number"]))
    for i, r in enumerate(pays, 1):
        r["id"] = f"D{i:06d}"
    svcs.sort(key=lambda r: (r["decided_on"], r["power_id"], r["applicant_id_number"]))
    for i, r in enumerate(svcs, 1):
        r["id"] = f"S{i:05d}"
    return pays, svcs
