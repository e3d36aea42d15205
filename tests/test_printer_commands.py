"""Byte-level vectors for every ESC/POS command the composer sends (Epson ESC/POS manual)."""
from PIL import Image

from kiosk.devices.printer import commands as cmd


def test_simple_command_vectors():
    assert cmd.INIT == bytes.fromhex("1b40")
    assert cmd.align(cmd.ALIGN_CENTER) == bytes.fromhex("1b6101")
    assert cmd.bold(True) == bytes.fromhex("1b4501")
    assert cmd.bold(False) == bytes.fromhex("1b4500")
    assert cmd.char_size(2, 2) == bytes.fromhex("1d2111")
    assert cmd.char_size(1, 3) == bytes.fromhex("1d2102")
    assert cmd.feed(3) == bytes.fromhex("1b6403")
    assert cmd.line_spacing(30) == bytes.fromhex("1b331e")
    assert cmd.cut() == bytes.fromhex("1d5601")
    assert cmd.cut(partial=False) == bytes.fromhex("1d5600")
    assert cmd.cut(feed_dots=3) == bytes.fromhex("1d564203")
    assert [cmd.status_request(n) for n in (1, 2, 3, 4)] == [
        bytes.fromhex(h) for h in ("100401", "100402", "100403", "100404")]


def test_chinese_text_is_gb18030_inside_fs_and_fs_dot():
    assert cmd.chinese_text("中，") == bytes.fromhex("1c26" "d6d0" "a3ac" "1c2e")
    # A 4-byte GB18030 character (CJK Ext-B).
    assert cmd.chinese_text("𠈌") == bytes.fromhex("1c26" "9532b730" "1c2e")
    assert cmd.chinese_text("A1") == bytes.fromhex("1c26" "4131" "1c2e")


def test_raster_gs_v_0_header_and_bits():
    img = Image.new("1", (16, 2), 1)
    for x in range(8):
        img.putpixel((x, 0), 0)  # first 8 dots of row 0 black
    img.putpixel((15, 1), 0)
    data = cmd.raster(img, "POS-5890")
    assert data == bytes.fromhex("1d7630" "00" "0200" "0200" "ff00" "0001")


def test_native_qr_gs_paren_k_sequence():
    data = cmd.qr_native("AB", 6, "NT-80-V-UL")
    assert data == bytes.fromhex(
        "1b6101"
        "1d286b 0400 31 41 32 00"   # model 2
        "1d286b 0300 31 43 06"      # module 6 dots
        "1d286b 0300 31 45 31"      # error correction M
        "1d286b 0500 31 50 30 4142"  # store "AB"
        "1d286b 0300 31 51 30"      # print
        "0a" "1b6100".replace(" ", ""))


def test_qr_image_is_centred_on_paper_width():
    strip = cmd.qr_image("hello", 5, 384)
    assert strip.width == 384
    bbox = Image.eval(strip.convert("L"), lambda v: 255 - v).getbbox()
    left, right = bbox[0], 384 - bbox[2]
    assert abs(left - right) <= 5
