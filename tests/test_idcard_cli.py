"""``kiosk read-card``: simulated reads, replayed captures, masking, and non-zero exits."""
from __future__ import annotations

import json

import pytest

from kiosk.errors import Exit

from kiosk.cli import main
from kiosk.devices.idcard.simulator import read_reply, synthetic_cards, status_reply
from kiosk.devices.idcard.text import parse_text

CARDS = synthetic_cards()


def run(capsys, *argv):
    rc = main(["read-card", *argv])
    out, err = capsys.readouterr()
    return rc, out, err


def test_simulated_read_prints_masked_card(capsys, monkeypatch):
    import kiosk.devices.idcard.simulator as simulator

    monkeypatch.setattr(simulator, "demo_cards", lambda *a, **k: synthetic_cards())
    rc, out, err = run(capsys, "--simulate", "--card", "2", "--json")
    d = json.loads(out)
    assert rc == 0 and err == ""
    assert d["name"] == "王测试"
    assert d["id_number"] == "4313" + "*" * 14  # not the last four: with the birth date they give the number
    assert d["birth"] == parse_text(CARDS[2].text).birth.isoformat()[:4]
    assert d["address"] == "湖南省涟源市伏口镇"


def test_replay_raw_and_hex_text(tmp_path, capsys):
    raw = tmp_path / "reply.bin"
    raw.write_bytes(b"junk" + read_reply(CARDS[3].text))
    rc, out, _ = run(capsys, "--replay", str(raw))
    assert rc == 0
    assert "赵长期" in out and "2008.11.01-长期" in out and "湖南省涟源市蓝田街道" in out
    assert "演示社区" not in out  # cut to the township
    hexfile = tmp_path / "reply.hex"
    hexfile.write_text(read_reply(CARDS[0].text).hex(" ").upper() + "\n")
    rc, out, _ = run(capsys, "--replay", str(hexfile))
    full = parse_text(CARDS[0].text).id_number
    assert rc == 0 and full not in out and full[:4] + "*" * 14 in out and full[-4:] not in out


@pytest.mark.parametrize("payload, expect", [
    (read_reply(synthetic_cards()[4].text), "only resident ID cards"),
    (status_reply(0x80), "no card"),
    (read_reply(CARDS[0].text)[:-1] + b"\x00", "checksum"),
    (b"not a frame", "no complete reader frame"),
])
def test_replay_errors_exit_non_zero_with_one_line(tmp_path, capsys, payload, expect):
    f = tmp_path / "bad.bin"
    f.write_bytes(payload)
    rc, out, err = run(capsys, "--replay", str(f))
    assert rc != 0 and out == ""
    assert err.count("\n") == 1 and err.startswith("kiosk: error: ") and expect in err


@pytest.mark.parametrize("fault, expect", [
    ("no-card", "no card"), ("select", "select failed"), ("checksum", "checksum"),
    ("removed", "card moved or removed"), ("unplugged", "unplug"),
])
def test_simulated_faults_exit_non_zero(capsys, fault, expect):
    rc, out, err = run(capsys, "--simulate", "--fault", fault)
    assert rc != 0 and out == "" and expect in err


def test_missing_device_exits_non_zero(capsys):
    rc, _, err = run(capsys, "--device", "/dev/ttyUSB-does-not-exist")
    assert rc == Exit.CARD_READER and "cannot be opened" in err
