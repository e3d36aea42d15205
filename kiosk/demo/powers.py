"""The sample village power list (村级小微权力清单, 示例) with basis, bodies and procedure graphs.

Item names come from ``kiosk/data/power-list-sample.csv``; the details below are a plausible
reconstruction from public county lists, so every item is written with ``sample: true``.
四议两公开 items use the six fixed steps (project reference data README).
"""
from __future__ import annotations

from kiosk.demo.refdata import power_items

SIYI = ("村党组织提议", "村“两委”会议商议", "党员大会审议", "村民（代表）会议决议", "决议公开", "实施结果公开")
ORG_LAW = "《中华人民共和国村民委员会组织法》"
HN_ORG = "《湖南省实施〈中华人民共和国村民委员会组织法〉办法》"
SUPERVISE = "村务监督委员会、乡镇纪委"

# 重大决策: extra basis per item number.
_MAJOR_BASIS = {
    1: "《中国共产党农村基层组织工作条例》",
    2: "《中华人民共和国招标投标法》",
    3: "《农村集体经济组织会计制度》（财会〔2023〕14号）、《农村集体资产清产核资办法》",
    4: "《中华人民共和国政府采购法》（参照）",
    5: "《农村集体经济组织会计制度》（财会〔2023〕14号）",
    6: "《中华人民共和国农村集体经济组织法》",
    7: "《中华人民共和国土地管理法》第四十八条",
    8: "《中华人民共和国农村集体经济组织法》",
    9: "《村民一事一议筹资筹劳管理办法》（农经发〔2007〕4号）",
    10: "《农村集体经济组织会计制度》（财会〔2023〕14号）",
}

# 日常管理: (basis, executor, steps path, decision index, return-to index)
_DAILY = {
    1: ("《中华人民共和国村民委员会组织法》第三十条、" + HN_ORG, "村“两委”",
        ("收集整理公开事项", "村务监督委员会审核", "村党组织书记审签", "公开栏及查询终端公开", "收集群众意见", "归档备查"), 1, 0),
    2: ("《农村集体经济组织会计制度》（财会〔2023〕14号）、《农村集体经济组织财务公开规定》（农经发〔2011〕13号）", "村报账员、村委会",
        ("报账员整理收支明细", "村务监督委员会审核", "村党组织书记审签", "每季度公开", "归档备查"), 1, 0),
    3: (ORG_LAW + "、本村印章管理制度", "村党组织、村委会",
        ("提出用印申请", "印章管理人审核", "村党组织书记审批", "用印登记", "归档备查"), 1, 0),
}

# 便民服务: (basis, executor, materials, time_limit, steps path, decision index, return index)
_SERVICE = {
    1: ("《扶贫开发建档立卡工作方案》（国开办发〔2014〕24号）", "村“两委”、驻村工作队",
        "申请书、户口簿、居民身份证、家庭收入情况说明", "15个工作日",
        ("农户申请", "村民小组评议", "村民代表会议民主评议", "村内公示", "乡镇审核", "结果反馈"), 2, 0),
    2: ("《全国“十三五”易地扶贫搬迁规划》（发改地区〔2016〕2022号）", "村“两委”",
        "搬迁申请书、户口簿、居民身份证、原住房情况说明", "30个工作日",
        ("农户申请", "村民代表会议评议", "村内公示", "乡镇审核", "县级审批", "结果反馈"), 1, 0),
    3: ("《关于做好农村低收入群体等重点对象住房安全保障工作的实施意见》（建村〔2021〕35号）", "村委会、乡镇住建站",
        "申请书、户口簿、居民身份证、住房安全鉴定申请", "30个工作日",
        ("农户申请", "村民代表会议评议", "村内公示", "住房安全鉴定", "乡镇审核", "县级审批", "结果反馈"), 1, 0),
    4: ("《中华人民共和国户口登记条例》", "村委会（出具证明）、派出所",
        "户口簿、居民身份证、出生医学证明或迁移证明", "即时出具证明",
        ("提出申请", "核实情况", "出具证明", "派出所办理"), 1, 0),
    5: ("《社会救助暂行办法》（国务院令第649号）、《最低生活保障审核确认办法》（民发〔2021〕57号）", "村委会（协助）、乡镇人民政府",
        "申请书、户口簿、居民身份证、家庭收入及财产状况声明、授权核对书", "30个工作日",
        ("提出申请", "材料审核", "入户调查", "民主评议", "村内公示", "乡镇审核确认", "结果反馈"), 1, 0),
    6: ("《特困人员认定办法》（民发〔2021〕43号）", "村委会（协助）、乡镇人民政府",
        "申请书、户口簿、居民身份证、收入及赡养扶养情况说明", "20个工作日",
        ("提出申请", "材料审核", "入户调查", "村内公示", "乡镇审核确认", "结果反馈"), 1, 0),
    7: ("《国务院关于全面建立临时救助制度的通知》（国发〔2014〕47号）", "村委会（协助）、乡镇人民政府",
        "申请书、居民身份证、遭遇困难情况证明", "紧急情况即时办理，一般10个工作日",
        ("提出申请", "材料审核", "入户核实", "村内公示", "乡镇审批", "结果反馈"), 1, 0),
    8: ("《国务院关于全面建立困难残疾人生活补贴和重度残疾人护理补贴制度的意见》（国发〔2015〕52号）", "村委会（协助）、乡镇残联",
        "申请表、居民身份证、第二代残疾人证、户口簿", "20个工作日",
        ("提出申请", "材料审核", "乡镇残联初审", "县残联审定", "结果反馈"), 1, 0),
    9: ("《中华人民共和国土地管理法》第六十二条、《关于规范农村宅基地审批管理的通知》（农经发〔2019〕6号）", "村委会、乡镇人民政府",
        "建房申请表、户口簿、居民身份证、四邻意见、建房设计图", "20个工作日",
        ("农户申请", "村民小组讨论", "村委会审查", "村内公示", "乡镇审批", "放样验线", "竣工验收"), 2, 0),
    10: ("《湖南省人口与计划生育条例》", "村委会（计生专干）",
         "户口簿、双方居民身份证、结婚证", "即时办理",
         ("提出申请", "核实信息", "登记", "结果反馈"), 1, 0),
    11: ("《国务院关于建立统一的城乡居民基本养老保险制度的意见》（国发〔2014〕8号）", "村协办员、乡镇社保所",
         "居民身份证、户口簿、银行卡（社保卡）", "参保即时办理，待遇领取15个工作日",
         ("提出申请", "资格审核", "乡镇社保所审核", "县社保中心核定", "结果反馈"), 1, 0),
    12: ("《国务院关于整合城乡居民基本医疗保险制度的意见》（国发〔2016〕3号）", "村协办员、乡镇医保站",
         "居民身份证、户口簿", "即时办理",
         ("提出申请", "信息核对", "缴费登记", "结果反馈"), 1, 0),
    13: (ORG_LAW + "、本村印章管理制度", "村委会",
         "居民身份证、户口簿及与证明事项有关的材料", "即时办理",
         ("提出申请", "核实情况", "村委会审批", "出具证明并用印", "登记归档"), 1, 0),
    14: ("《中华人民共和国农村土地承包法》、《农村土地经营权流转管理办法》（农业农村部令2021年第1号）", "村委会（受托）",
         "土地经营权流转合同、承包经营权证、双方居民身份证", "10个工作日",
         ("提出申请", "审查流转合同", "村委会备案", "结果反馈"), 1, 0),
    15: ("《中华人民共和国兵役法》、《军人抚恤优待条例》", "村委会、乡镇退役军人服务站",
         "居民身份证、户口簿、退役证或应征报名表", "10个工作日",
         ("提出申请", "资格审核", "乡镇审核", "结果反馈"), 1, 0),
}


def _graph(path: tuple[str, ...], decision: int | None, back: int | None) -> tuple[list, list]:
    """A linear path with one decision step: 通过 goes on, 不通过 returns to ``back``."""
    steps, edges = [], []
    for i, label in enumerate(path):
        if i == 0:
            kind = "start"
        elif i == len(path) - 1:
            kind = "end"
        elif i == decision:
            kind = "decision"
        else:
            kind = "step"
        steps.append({"id": f"s{i + 1}", "label": label, "kind": kind})
    for i in range(len(path) - 1):
        edges.append({"from": f"s{i + 1}", "to": f"s{i + 2}", "label": "通过" if i == decision else ""})
    if decision is not None:
        edges.append({"from": f"s{decision + 1}", "to": f"s{back + 1}", "label": "不通过，退回"})
    return steps, edges


def powers(village_name: str) -> list[dict]:
    """Power list records for ``SRC/powers.jsonl`` (ids ``P-<class initial>-<no>``), plus a
    private ``_path`` (happy-path step labels) used to build service records."""
    out = []
    prefix = {"重大决策": "ZD", "日常管理": "RC", "便民服务": "BM"}
    for row in power_items():
        cls, no, name = row["class"], int(row["no"]), row["name"]
        rec = {"id": f"P-{prefix[cls]}-{no:02d}", "class": cls, "no": no, "name": name,
               "sample": True, "materials": None, "time_limit": None}
        if cls == "重大决策":
            rec.update(basis=f"{ORG_LAW}第二十四条、{HN_ORG}、{_MAJOR_BASIS[no]}",
                       executor=f"{village_name}党组织、村“两委”、村民（代表）会议", supervisor=SUPERVISE)
            path, dec, back = SIYI, 3, 0
        elif cls == "日常管理":
            basis, executor, path, dec, back = _DAILY[no]
            rec.update(basis=basis, executor=executor, supervisor=SUPERVISE)
        else:
            basis, executor, materials, limit, path, dec, back = _SERVICE[no]
            rec.update(basis=basis, executor=executor, supervisor=SUPERVISE,
                       materials=materials, time_limit=limit)
        rec["steps"], rec["edges"] = _graph(path, dec, back)
        rec["_path"] = path
        out.append(rec)
    return out
