"""Fault handling: each fault gives a clear staff message and a job that can be retried."""
import datetime as dt

from kiosk.devices.printer import (CoverOpen, PaperOut, PrinterDisconnected, PrinterNotFound,
                                   SimulatedPrinter, print_receipt, retry)
from kiosk.devices.printer import job as jobmod
from kiosk.devices.printer.testpage import QR_PAYLOAD, sample_receipt

NOW = dt.datetime(2024, 4, 1, 10, 30)


def test_paper_out_before_the_job_then_retry():
    sim = SimulatedPrinter("pos58", paper_out=True)
    res = print_receipt(sample_receipt(NOW), "pos58", sim)
    assert not res.ok and isinstance(res.error, PaperOut) and res.retryable
    assert res.message_zh == "打印纸已用完，请更换纸卷后重试"
    assert res.status.paper_end is True and res.bytes_sent == 0
    assert sim.lines == []
    sim.paper_out = False
    again = retry(res, sim)
    assert again.ok and "石坝村（测试）" in sim.text_lines()


def test_paper_runs_out_during_the_job():
    sim = SimulatedPrinter("xprinter80", paper_out_after=1500)
    res = print_receipt(sample_receipt(NOW), "xprinter80", sim)
    assert isinstance(res.error, PaperOut) and res.retryable
    assert res.bytes_sent == len(res.job.data)
    assert QR_PAYLOAD not in sim.qr_payloads  # the rest was not printed


def test_cover_open():
    sim = SimulatedPrinter("xprinter80", cover_open=True)
    res = print_receipt(sample_receipt(NOW), "xprinter80", sim)
    assert isinstance(res.error, CoverOpen) and res.retryable
    assert res.message_zh == "打印机纸仓盖未关好，请合上后重试"
    assert res.status.cover_open is True and res.status.offline is True
    sim.cover_open = False
    assert retry(res, sim).ok


def test_unplugged_mid_job_then_replug_and_retry():
    sim = SimulatedPrinter("pos58", unplug_after=5000)
    res = print_receipt(sample_receipt(NOW), "pos58", sim)
    assert isinstance(res.error, PrinterDisconnected) and res.retryable
    assert "重新插好" in res.message_zh
    assert 0 < res.bytes_sent < len(res.job.data)
    assert len(sim.received) == 5000  # the printer got 5000 bytes, status queries included
    assert res.bytes_sent == 4096  # the job's first chunk was acknowledged, the second failed
    sim.replug()
    sim.new_paper()
    again = retry(res, sim)
    assert again.ok and again.bytes_sent == len(res.job.data)
    assert "打印时间        2024-04-01 10:30" in sim.text_lines()


def test_no_status_reply_is_unknown_not_fine():
    sim = SimulatedPrinter("pos58", no_status=True)
    res = print_receipt(sample_receipt(NOW), "pos58", sim)
    assert res.ok  # cheap printers never answer; the receipt is still printed
    assert not res.status.known and not res.status.ok
    assert res.status.label() == "unknown (no status reply)"
    assert res.status.label_zh() == "状态未知（打印机未应答）"


def test_each_job_discovers_the_printer_again(monkeypatch):
    """Hot-plug: no printer for the first job, plugged in for the retry; no restart needed."""
    sim = SimulatedPrinter("pos58")
    attached = []

    def fake_open_default(vid_pid=""):
        if not attached:
            raise PrinterNotFound("no printer attached")
        return attached[0]

    monkeypatch.setattr(jobmod, "open_default", fake_open_default)
    res = print_receipt(sample_receipt(NOW), "pos58")
    assert isinstance(res.error, PrinterNotFound) and res.retryable
    assert res.message_zh.startswith("未检测到打印机")
    attached.append(sim)
    assert retry(res).ok
    assert sim.opened == 1
