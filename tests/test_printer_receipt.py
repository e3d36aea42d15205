"""Decoded receipts: compose for each profile, feed the simulated printer, read back text,
raster and the QR code (pyzbar) from the rendered image."""
import datetime as dt
from decimal import Decimal

import pytest
from PIL import Image, ImageChops
from pyzbar.pyzbar import decode

from kiosk.devices.printer import Receipt, SimulatedPrinter, compose, get_profile, print_receipt
from kiosk.devices.printer.layout import text_width
from kiosk.devices.printer.raster import render_lines
from kiosk.devices.printer.testpage import QR_PAYLOAD, sample_receipt

NOW = dt.datetime(2024, 4, 1, 10, 30)
PROFILES = ["pos58", "xprinter80", "epson-tm-t20", "epson-tm-t88"]


def _print(receipt, name):
    sim = SimulatedPrinter(name)
    res = print_receipt(receipt, name, sim, now=NOW)
    assert res.ok, res.error
    return sim, res


@pytest.mark.parametrize("name", PROFILES)
def test_qr_payload_decodes_back_from_rendered_receipt(name):
    sim, _ = _print(sample_receipt(NOW), name)
    page = sim.render()
    assert page.width == get_profile(name).dots
    found = [d.data.decode() for d in decode(page)]
    assert found == [QR_PAYLOAD]


@pytest.mark.parametrize("name", PROFILES)
def test_no_question_marks_and_rare_characters_are_raster(name):
    sim, res = _print(sample_receipt(NOW), name)
    assert not any("?" in ln for ln in sim.text_lines())
    assert sim.unknown == []
    raster = res.job.raster_lines()
    # 䶮 is in GB18030's disputed FE area and never trusted to a printer font.
    assert any("刘䶮、王𠈌" in ln for ln in raster)


def test_chinese_printer_prints_text_lines_in_gb18030():
    sim, res = _print(sample_receipt(NOW), "pos58")
    lines = sim.text_lines()
    assert "石坝村（测试）" in lines
    assert "中文标点：，。、；：？！“引号”" in lines
    assert "大写        壹仟贰佰叁拾元零伍分" in lines
    assert "大写                叁拾元零伍分" in lines
    assert lines[-3:] == ["数据更新至 2024-03-31 · 第12版", "指纹 3f9a1c07",
                          "打印时间        2024-04-01 10:30"]
    i = sim.received.index("石坝村（测试）".encode("gb18030"))
    assert sim.received.rindex(b"\x1c\x26", 0, i) > sim.received.rfind(b"\x1c\x2e", 0, i)


def test_four_byte_gb18030_character_goes_as_text_on_xprinter():
    r = Receipt("测试", village="石坝村").row("户主", "王𠈌")
    sim, res = _print(r, "xprinter80")
    assert "户主" + " " * 40 + "王𠈌" in sim.text_lines()
    assert bytes.fromhex("9532b730") in sim.received  # 𠈌 as 4-byte GB18030
    # pos58 has no 4-byte glyphs: the same line is raster there.
    sim58, res58 = _print(r, "pos58")
    assert not any("𠈌" in ln for ln in sim58.text_lines())
    assert any("王𠈌" in ln for ln in res58.job.raster_lines())


def test_punctuation_goes_raster_on_a_printer_without_it():
    import dataclasses

    prof = dataclasses.replace(get_profile("pos58"), cjk_punctuation=False)
    r = Receipt("测试").row("摘要", "修路，买水泥").row("村", "石坝村")
    job = compose(r, prof, NOW)
    assert "摘要       修路，买水泥" .replace("       ", " " * (32 - 4 - 12)) in job.raster_lines()
    assert "村                        石坝村" in job.text_lines()


def test_epson_gets_the_whole_receipt_as_raster():
    sim, res = _print(sample_receipt(NOW), "epson-tm-t20")
    assert [ln for ln in sim.text_lines() if ln] == []
    assert b"\x1c\x26" not in sim.received
    assert all(im.width <= 576 for im in sim.images)
    assert sim.cuts == 1


def test_raster_cell_holds_the_rare_glyph_not_a_box():
    """The raster the printer received is exactly our rendering, and the 䶮 cell is the glyph."""
    r = Receipt("测试").row("姓名", "刘䶮")
    sim, res = _print(r, "pos58")
    line = next(ln for ln in res.job.lines if ln.mode == "raster")
    expect = render_lines([(line.text, 1, False)], 384)
    got = sim.images[0]
    assert ImageChops.difference(got.convert("L"), expect.convert("L")).getbbox() is None
    col = text_width(line.text) - 2  # 䶮 is the last character, two columns
    cell = got.crop((col * 12, 0, col * 12 + 24, 30)).convert("L")
    ink = sum(1 for v in cell.getdata() if v < 128)
    box = render_lines([("\u25a1", 1, False)], 24).convert("L")  # a drawn box for comparison
    assert ink > 40
    assert ImageChops.difference(cell.crop((0, 0, 24, 30)), box).getbbox() is not None


def test_table_columns_stay_aligned_with_full_width_characters():
    rows = [["村道维修（水泥、沙石）", "", "1,200.00"], ["上级转移支付", "30,000.00", ""],
            ["办公用品", "", "30.05"]]
    r = Receipt("表").table(["摘要", "收入", "支出"], rows, totals=["合计", "30,000.00", "1,230.05"])
    sim, _ = _print(r, "xprinter80")
    lines = [ln.text for ln in sim.lines]
    header = next(ln for ln in lines if ln.startswith("摘要"))
    assert text_width(header) == 48 and header.endswith("收入     支出")
    for amount in ("1,200.00", "30.05", "1,230.05"):
        ln = next(ln for ln in lines if ln.endswith(amount))
        assert text_width(ln) == 48  # right column ends at the paper edge
    ln = next(ln for ln in lines if "30,000.00" in ln and ln.startswith("上级"))
    assert text_width(ln[: ln.index("30,000.00") + 9]) == 48 - 9  # income column ends before 支出


def test_long_lines_wrap_without_splitting_characters():
    text = "本村" * 30 + "𠈌"
    job = compose(Receipt("测").text(text), get_profile("pos58"), NOW)
    body = [ln.text for ln in job.lines if "本" in ln.text or "𠈌" in ln.text]
    assert "".join(body) == text
    assert all(text_width(ln) <= 32 for ln in body)


def test_amount_in_capitals_and_figures():
    job = compose(Receipt("测").amount("合计", Decimal("1200")), get_profile("xprinter80"), NOW)
    assert "合计" + " " * (48 - 4 - 11) + "1,200.00 元" in job.text_lines()
    assert any(ln.endswith("壹仟贰佰元整") for ln in job.text_lines())


@pytest.mark.parametrize("name, footer", [
    ("pos58", ["数据更新至 2024-03-31 · 第12版", "指纹 3f9a1c07"]),
    ("epson-tm-t88", ["数据更新至 2024-03-31 · 第12版", "指纹 3f9a1c07"]),
    ("xprinter80", ["数据更新至 2024-03-31 · 第12版 · 指纹 3f9a1c07"]),
])
def test_footer_says_what_the_screen_footer_says(name, footer):
    # kiosk.cache.mirror's screen footer: 数据更新至 … · 第N版 · 指纹 <8 hex>, wrapped at a separator.
    job = compose(sample_receipt(NOW), get_profile(name), NOW)
    lines = [ln.text.strip() for ln in job.lines]
    i = lines.index(footer[0])
    assert lines[i:i + len(footer)] == footer
    assert lines[i + len(footer)].startswith("打印时间")
    assert sum("3f9a1c07" in ln for ln in lines) == 1


@pytest.mark.parametrize("bad", ["9f2c41d07be3a8c5" * 4, "3F9A1C07", "3f9a1c0", "3f9a 1c07", ""])
def test_footer_refuses_a_fingerprint_not_in_the_kiosk_form(bad):
    with pytest.raises(ValueError, match="8 lowercase hex"):
        Receipt("测").footer(seq=12, fingerprint=bad, data_as_of="2024-03-31")


def test_footer_refuses_bad_date_and_seq():
    with pytest.raises(ValueError):
        Receipt("测").footer(seq=12, fingerprint="3f9a1c07", data_as_of="2024-3-31")
    with pytest.raises(ValueError, match="seq"):
        Receipt("测").footer(seq=0, fingerprint="3f9a1c07", data_as_of="2024-03-31")


def _end_column(line: str, token: str) -> int:
    """Display column (full-width characters count two) just after ``token`` in ``line``."""
    return text_width(line[: line.index(token) + len(token)])


@pytest.mark.parametrize("name", PROFILES)
def test_header_body_and_totals_columns_line_up(name):
    # Decoded from the printed text lines: each amount ends where its column's header ends.
    # (Printers without a Chinese font get the table as raster drawn from the same laid-out lines.)
    sim, res = _print(sample_receipt(NOW), name)
    prof = get_profile(name)
    lines = [ln.text for ln in (sim.lines if prof.chinese_font else res.job.lines)]
    cols = get_profile(name).columns

    def row(start):
        return next(ln for ln in lines if ln.startswith(start))

    header, income, spend, total = row("摘要"), row("上级转移支付"), row("办公用品"), row("合计 ")
    assert _end_column(header, "支出") == cols
    assert _end_column(spend, "30.05") == cols
    assert _end_column(row("村道维修"), "1,200.00") == cols
    assert _end_column(total, "1,230.05") == cols
    income_end = _end_column(header, "收入")
    assert _end_column(income, "30,000.00") == income_end
    assert _end_column(total, "30,000.00") == income_end
    assert income_end == cols - 1 - len("1,230.05")  # the 支出 column is exactly its widest cell


def test_text_column_gets_all_the_amounts_leave_on_58mm():
    sim, _ = _print(sample_receipt(NOW), "pos58")
    lines = [ln.text for ln in sim.lines]
    i = next(k for k, ln in enumerate(lines) if ln.startswith("村道维修"))
    # 32 columns - 2 gaps - 9 (30,000.00) - 8 (1,230.05) = 13 for 摘要: 22 columns of text must wrap
    # (6 characters a line), while the amount stays on the row's first line at the edge.
    assert lines[i:i + 2] == ["村道维修（水" + " " * 12 + "1,200.00", "泥、沙石）"]
    assert "上级转移支付  30,000.00" in lines
