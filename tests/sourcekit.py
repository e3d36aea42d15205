"""A small, hand-written valid source export for fast bundle/mirror tests.

Persons and ID numbers are invented; ID numbers are made with kiosk.idnumber.make.
"""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from kiosk.idnumber import make

VILLAGE = "431382111249"
ID_A = make("431382", dt.date(1950, 3, 7), 123)      # an elderly villager
ID_B = make("431382", dt.date(1988, 11, 2), 48)


def small_source() -> dict:
    fin = [
        {"id": "F1", "date": "2025-01-05", "voucher_no": "记-001", "summary": "收到县财政转移支付", "account_code": "50301",
         "account_name": "补助收入-转移支付", "direction": "income", "amount": "120000.00", "handler": "李建国",
         "reviewer": "刘秀英", "approver": "王德明", "approval_level": "四议两公开", "attachments": 2, "reverses": None},
        {"id": "F2", "date": "2025-01-09", "voucher_no": "记-002", "summary": "购买办公用品", "account_code": "51301",
         "account_name": "管理费用-办公费", "direction": "expense", "amount": "860.50", "handler": "李建国",
         "reviewer": "刘秀英", "approver": "王德明", "approval_level": "两委", "attachments": 3, "reverses": None},
        {"id": "F3", "date": "2025-01-20", "voucher_no": "记-003", "summary": "冲销记-002 重复入账", "account_code": "51301",
         "account_name": "管理费用-办公费", "direction": "expense", "amount": "-860.50", "handler": "李建国",
         "reviewer": "刘秀英", "approver": "王德明", "approval_level": "两委", "attachments": 1, "reverses": "F2"},
        {"id": "F4", "date": "2025-02-03", "voucher_no": "记-004", "summary": "村道路灯维修", "account_code": "514",
         "account_name": "公益支出", "direction": "expense", "amount": "12000.00", "handler": "李建国",
         "reviewer": "刘秀英", "approver": "王德明", "approval_level": "两委+监委", "attachments": 4, "reverses": None},
        {"id": "F5", "date": "2024-12-28", "voucher_no": "记-120", "summary": "山林租金收入", "account_code": "501",
         "account_name": "经营收入", "direction": "income", "amount": "3500", "handler": "李建国",
         "reviewer": "刘秀英", "approver": "王德明", "approval_level": "两委", "attachments": 1, "reverses": None},
    ]
    projects = [{"id": "P1", "name": "洪泉村第三组道路硬化", "category": "道路", "location": "第三村民小组",
                 "budget": "380000.00", "review_amount": "365000.00",
                 "fund_sources": [{"source": "县财政衔接资金", "amount": "300000.00"}, {"source": "村集体自筹", "amount": "65000.00"}],
                 "procurement_method": "公开招标", "contractor": "涟源市示例路桥工程有限公司", "contract_amount": "352000.00",
                 "settlement_amount": None, "supervisors": ["刘秀英（村务监督委员会主任）"],
                 "stages": [{"stage": "立项", "date": "2024-03-01", "note": "村民代表会议决议"},
                            {"stage": "设计", "date": "2024-04-10", "note": ""},
                            {"stage": "招标", "date": "2024-05-20", "note": "县公共资源交易中心"},
                            {"stage": "合同", "date": "2024-06-01", "note": ""},
                            {"stage": "施工", "date": "2024-06-15", "note": ""}]}]
    assets = [{"id": "A1", "name": "原村小学教学楼", "kind": "资产", "category": "房屋", "area": "620.00", "area_unit": "平方米",
               "status": "出租", "counterparty": "张三丰", "counterparty_type": "person", "disposal_method": "公开竞价",
               "reserve_price": "18000.00", "reserve_review": "村民代表会议审议", "deal_price": "21000.00",
               "term_start": "2024-01-01", "term_end": "2028-12-31", "annual_rent": "21000.00", "deposit": "5000.00"},
              {"id": "A2", "name": "后山林地", "kind": "资源", "category": "山林", "area": "150", "area_unit": "亩",
               "status": "出租", "counterparty": "涟源市示例林业专业合作社", "counterparty_type": "org",
               "disposal_method": "协商", "reserve_price": None, "reserve_review": None, "deal_price": "3500.00",
               "term_start": "2023-01-01", "term_end": "2032-12-31", "annual_rent": "3500.00", "deposit": None}]
    powers = [{"id": "PW-C05", "class": "便民服务", "no": 5, "name": "最低生活保障申请", "sample": True,
               "basis": "《社会救助暂行办法》", "executor": "村民委员会", "supervisor": "村务监督委员会",
               "materials": "身份证、户口簿", "time_limit": "30个工作日",
               "steps": [{"id": "s1", "label": "村民申请", "kind": "start"}, {"id": "s2", "label": "村委会初审", "kind": "decision"},
                         {"id": "s3", "label": "退回补充材料", "kind": "step"}, {"id": "s4", "label": "张榜公示", "kind": "end"}],
               "edges": [{"from": "s1", "to": "s2", "label": ""}, {"from": "s2", "to": "s4", "label": "通过"},
                         {"from": "s2", "to": "s3", "label": "不通过"}, {"from": "s3", "to": "s1", "label": "退回"}]}]
    services = [{"id": "S1", "power_id": "PW-C05", "applicant": "张三丰", "applicant_id_number": ID_A,
                 "group": "第三村民小组", "result": "同意纳入低保", "decided_on": "2025-03-10",
                 "notice_from": "2025-03-11", "notice_to": "2025-03-17",
                 "steps": [{"step": "村民申请", "date": "2025-02-20", "note": ""}, {"step": "村委会初审", "date": "2025-03-01", "note": "通过"}]}]
    payments = [{"id": "PAY1", "item": "城乡居民养老保险待遇", "period": "2025-01", "paid_on": "2025-01-15", "amount": "213.00",
                 "basis": "《湖南省城乡居民基本养老保险实施办法》", "holder": "张三丰", "holder_id_number": ID_A, "household_head": "张三丰"},
                {"id": "PAY2", "item": "耕地地力保护补贴", "period": "2025", "paid_on": "2025-05-20", "amount": "356.40",
                 "basis": "湖南省耕地地力保护补贴政策", "holder": "李四", "holder_id_number": ID_B, "household_head": "李四"}]
    village = {"code": VILLAGE, "official_name": "洪泉村委会", "township": {"code": "431382111", "name": "白马镇"},
               "county": {"code": "431382", "name": "涟源市"}, "data_as_of": "2025-05-31",
               "cadres": [{"role": "村党组织书记、村委会主任", "name": "王德明", "phone": "0738-0000001"}],
               "supervision_committee": [{"role": "主任", "name": "刘秀英", "phone": "0738-0000002"}],
               "discipline_office": {"name": "白马镇纪委", "phone": "0738-0000003"},
               "complaints": {"platform_url": "https://example.invalid/complaint", "wechat_official_account": "涟源互联网+监督",
                              "village_group": {"name": "洪泉村村务监督群", "admin": "刘秀英"}, "received": 4, "handled": 4}}
    return {"village": village, "finance": fin, "projects": projects, "assets": assets, "powers": powers,
            "services": services, "payments": payments}


def write_source(dest: Path, data: dict | None = None) -> Path:
    data = data or small_source()
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "village.json").write_text(json.dumps(data["village"], ensure_ascii=False), encoding="utf-8")
    for kind in ("finance", "projects", "assets", "powers", "services", "payments"):
        (dest / f"{kind}.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data[kind]), encoding="utf-8")
    return dest
