"""Printing a receipt on the simulated printer for tests: the text lines it printed and the
QR codes read back from its picture."""
from __future__ import annotations

from pyzbar.pyzbar import decode

from kiosk.devices.printer import SimulatedPrinter, print_receipt


def printed(receipt, now, profile: str = "pos58"):
    """``(lines, qr_texts, sim)``: the decoded text lines (none with a ``?`` the printer could
    not encode), the QR codes' texts top to bottom, and the simulated printer."""
    sim = SimulatedPrinter(profile)
    res = print_receipt(receipt, profile, sim, now=now)
    assert res.ok, res.error
    lines = sim.text_lines()
    assert not any("?" in ln for ln in lines), lines
    return lines, [d.data.decode() for d in decode(sim.render())], sim
