"""Line breaking on the kiosk's own labels (禁则, kiosk.linebreak through
kiosk.screens.wrapping): a table of cases laid out by real KLabels, AutoLabels and KButtons in
the kiosk's fonts, and the fields of real records on their detail screens at 特大字."""
from __future__ import annotations

import pytest
from uikit import until

from kiosk.linebreak import MIDDLE_DOTS, NO_LINE_END, NO_LINE_START, mark_name as N
from kiosk.screens.headless import pump

pytestmark = pytest.mark.ui

#: (text, wrap width in ems of the label's size, pieces each on one line)
CASES = [
    ("本月支出合计 28,280.00 元，较上月增加（主要是村道维修）。共 1,616 条记录。", 9, ["28,280.00 元", "1,616 条"]),
    ("《中华人民共和国村民委员会组织法》第二十四条、《湖南省实施〈中华人民共和国村民委员会组织法〉办法》", 11, []),
    ("经手人：" + N("欧阳娜娜") + "，审核人：" + N("阿依古丽·买买提") + "（村务监督委员会）", 9, ["欧阳娜娜", "阿依古丽·买买提"]),
    ("涉及 900 户、2,615 人，发放 1,320,000.00 元", 9, ["900 户", "2,615 人", "1,320,000.00 元"]),
    ("数据更新至 2026-10-31 · 第12版 · 指纹 4f74c4a0", 10, ["2026-10-31", "第12版", "4f74c4a0"]),
    ("2026年10月15日开工，工期 30 天，完成率 12.5%。", 9, ["2026年10月15日", "30 天", "12.5%。"]),
    ("年租金 12,000.00 元，保证金 2,000.00 元（签约时交清）", 8, ["12,000.00 元", "2,000.00 元"]),
    ("施工单位：" + N("涟源市白马镇恒通建筑工程有限公司") + "，合同金额 366,300.00 元", 9, ["366,300.00 元"]),
    ("村“两委”会议商议，村民（代表）会议决议；不通过的，退回重议……", 5, []),
    ("办公用品购置（打印纸、墨盒）——第三季度", 5, []),
]
ROLES = ("body", "large")


def laid_out_lines(lbl) -> list[str]:
    """The lines Kivy laid the label's text out in (its words joined)."""
    return ["".join(w.text for w in line.words) for line in lbl._label._cached_lines]


def _check(text: str, pieces: list[str], lines: list[str], where: str) -> list[str]:
    out = []
    flat = [ln.replace("\u00a0", " ") for ln in lines]
    for i, ln in enumerate(flat):
        if i and ln[:1] in NO_LINE_START | MIDDLE_DOTS:
            out.append(f"{where}: line {i + 1} starts with {ln[0]!r}: {flat}")
        if i < len(flat) - 1 and ln[-1:] in NO_LINE_END | MIDDLE_DOTS:
            out.append(f"{where}: line {i + 1} ends with {ln[-1]!r}: {flat}")
    for piece in pieces:
        if not any(strip(piece) in ln for ln in flat):
            out.append(f"{where}: {strip(piece)!r} split across lines: {flat}")
    squeeze = lambda s: "".join(c for c in strip(s) if c not in " \u00a0·")  # noqa: E731 (breaks drop them)
    if squeeze("".join(flat)) != squeeze(text):
        out.append(f"{where}: text changed: {flat}")
    return out


def strip(s: str) -> str:
    from kiosk.linebreak import strip_marks

    return strip_marks(s)


def test_table_of_cases_on_kiosk_labels(ui):
    from kiosk.screens.widgets import AutoLabel, KButton, KLabel, rich

    problems, multi = [], 0
    for text, ems, pieces in CASES:
        for role in ROLES:
            for make in (lambda: KLabel(role=role), lambda: AutoLabel(role=role), lambda: KButton(role=role, wrap=True)):
                lbl = make()
                lbl.text = rich(text)
                width = ems * ui.theme.fonts[role]
                if isinstance(lbl, KButton):
                    lbl.width = width + 16  # its wrap width is its width less 16 px
                else:
                    lbl.text_size = (width, None)
                lbl.texture_update()
                lines = laid_out_lines(lbl)
                multi += len(lines) > 1
                where = f"{type(lbl).__name__} {role} {ems}em {text[:12]}"
                problems += _check(text, pieces, lines, where)
                if lbl.texture_size[0] > width + 2:
                    problems.append(f"{where}: {lbl.texture_size[0]} px wider than {width}")
    assert multi >= len(CASES) * 5  # the widths make them wrap
    assert not problems, "\n".join(problems)


def test_record_fields_break_by_the_rules_at_large_text(ui):
    """At 特大字 on a portrait panel the fields of the first power item (its 依据 with nested
    《〈〉》) and of the largest finance line wrap on screen by the same rules, and the amount
    stays with its unit (元)."""
    from kiosk.formatting import money
    from kiosk.screens.widgets import walk_labels

    box = {}
    ui.data.submit(lambda m: (m.powers()[0]["id"],
                              max(m.finance_page(m.finance_years()[0], limit=50).rows, key=lambda r: r["amount"])),
                   lambda res: box.setdefault("r", res))
    until(ui, lambda: "r" in box)
    pid, fin = box["r"]
    from kivy.core.window import Window

    from kiosk.tools.screenshots import panel_for

    try:
        # a portrait floor-standing panel at 特大字: the fields get about 13 characters a line
        Window.size = (1080, 1920)
        ui.set_display(1.5, False, panel_for((1080, 1920), ui.cfg["panel"]))
        problems, wrapped, amount_seen = [], 0, False
        amount = money(fin["amount"])
        for screen, rid in (("power_detail", pid), ("finance_detail", fin["id"])):
            ui.go(screen, id=rid)
            pump(ui, 3)
            scr = ui.sm.current_screen
            for lbl in walk_labels(scr.ids.rows):
                lines = laid_out_lines(lbl)
                text = "".join(lines)
                has_amount = amount.replace(" ", "") in text.replace("\u00a0", "").replace(" ", "")
                amount_seen |= has_amount
                if lbl.text and (len(lines) > 1 or has_amount):
                    wrapped += len(lines) > 1
                    problems += _check(text, [amount] if has_amount else [], lines, f"{screen} {text[:10]}")
        assert wrapped and amount_seen
        assert not problems, "\n".join(problems)
    finally:
        from conftest import UI_SIZE

        Window.size = UI_SIZE
        ui.set_display(1.0, False, ui.cfg["panel"])
        ui.go_home()
        pump(ui, 2)


def test_names_in_detail_fields_are_marked(ui):
    """The fields that hold a person's or an organisation's name mark it, so a label never
    breaks inside it (kiosk.screens.widgets.mark_names)."""
    from kiosk.linebreak import NAME_END, NAME_START
    from kiosk.screens.widgets import mark_names

    assert mark_names("经手人", "欧阳娜娜") == f"{NAME_START}欧阳娜娜{NAME_END}"
    assert mark_names("审核人", "张建国（村务监督委员会）") == f"{NAME_START}张建国{NAME_END}（村务监督委员会）"
    assert mark_names("监督人", "李明、王*") == f"{NAME_START}李明{NAME_END}、{NAME_START}王*{NAME_END}"
    assert mark_names("摘要", "支付张三工资") == "支付张三工资"
