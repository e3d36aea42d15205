"""``kiosk devices`` and ``kiosk print-test``."""
import json
import os
import sys

from PIL import Image
from pyzbar.pyzbar import decode

from kiosk import cli
from kiosk.devices.printer.testpage import QR_PAYLOAD
from kiosk.errors import Exit


def _no_hardware(monkeypatch):
    from kiosk.devices import printer

    monkeypatch.setattr(printer, "discover", lambda: [])
    import sys

    monkeypatch.setitem(sys.modules, "kiosk.devices.idcard", None)  # not importable


def test_devices_with_nothing_attached(monkeypatch, capsys):
    _no_hardware(monkeypatch)
    assert cli.main(["devices"]) == 0
    assert "no printer or ID-card reader attached" in capsys.readouterr().out
    assert cli.main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_devices_aggregates_idcard_readers(monkeypatch, capsys):
    import sys
    import types

    from kiosk.devices import printer

    reader = {"kind": "idcard", "name": "SAM-V reader", "transport": "serial", "path": "/dev/ttyUSB0",
              "vid_pid": "1a86:7523", "status": "ok"}
    monkeypatch.setattr(printer, "discover", lambda: [])
    monkeypatch.setitem(sys.modules, "kiosk.devices.idcard",
                        types.SimpleNamespace(discover=lambda: [reader]))
    assert cli.main(["devices", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [reader]
    assert cli.main(["devices"]) == 0
    assert "SAM-V reader [1a86:7523] via serial /dev/ttyUSB0: ok" in capsys.readouterr().out


def test_print_test_png_and_bin(tmp_path, capsys):
    png = tmp_path / "r.png"
    assert cli.main(["print-test", "--simulate", "--profile", "pos58", "--out", str(png)]) == 0
    img = Image.open(png)
    assert img.width == 384
    assert [d.data.decode() for d in decode(img)] == [QR_PAYLOAD]
    binf = tmp_path / "r.bin"
    assert cli.main(["print-test", "--profile", "xprinter80", "--out", str(binf)]) == 0
    data = binf.read_bytes()
    assert data.startswith(bytes.fromhex("100401")) and b"\x1b@" in data
    assert "石坝村（测试）".encode("gb18030") in data
    assert QR_PAYLOAD.encode() in data  # native QR store command


def test_print_test_without_printer_fails_with_one_line(monkeypatch, capsys):
    from kiosk.devices.printer import job

    def none(vid_pid=""):
        from kiosk.devices.printer.errors import PrinterNotFound

        raise PrinterNotFound("no printer attached")

    monkeypatch.setattr(job, "open_default", none)
    assert cli.main(["print-test", "--profile", "pos58"]) == Exit.PRINTER
    assert "kiosk: error: no printer attached (未检测到打印机" in capsys.readouterr().err


def test_bad_out_suffix(tmp_path, capsys):
    assert cli.main(["print-test", "--simulate", "--out", str(tmp_path / "r.txt")]) == Exit.USAGE
    assert "--out must end in .png" in capsys.readouterr().err


def test_failed_job_prints_exactly_one_line_in_a_real_process(tmp_path):
    # A subprocess: pytest's own log capture would hide Python's last-resort stderr handler.
    import subprocess

    script = (
        "import sys\n"
        "from kiosk.devices.printer import job\n"
        "from kiosk.devices.printer.errors import PrinterNotFound\n"
        "def none(vid_pid=''):\n"
        "    raise PrinterNotFound('no printer attached')\n"
        "job.open_default = none\n"
        "from kiosk import cli\n"
        "sys.exit(cli.main(['print-test', '--profile', 'pos58']))\n"
    )
    env = dict(os.environ, KIOSK_HOME=str(tmp_path), KIVY_NO_ARGS="1", KIVY_NO_FILELOG="1",
               KIVY_HOME=str(tmp_path / "kivy"))
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == Exit.PRINTER
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "kiosk: error: no printer attached (未检测到打印机，请检查打印机电源和 USB 连线后重试)"]
