"""``kiosk devices [--json]`` and ``kiosk print-test [--simulate] [--profile NAME] [--out FILE]``."""
from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path


def _discover_all() -> list[dict]:
    """Printers, plus ID-card readers when ``kiosk.devices.idcard`` provides ``discover()``."""
    from kiosk.devices import printer

    found = list(printer.discover())
    try:
        idcard = importlib.import_module("kiosk.devices.idcard")
    except ImportError:
        idcard = None
    if idcard is not None and hasattr(idcard, "discover"):
        found += list(idcard.discover())
    return found


def _devices(args) -> int:
    found = _discover_all()
    if args.json:
        print(json.dumps(found, ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("no printer or ID-card reader attached (未检测到打印机或身份证阅读器)")
        return 0
    for d in found:
        vp = f" [{d['vid_pid']}]" if d.get("vid_pid") else ""
        print(f"{d['kind']:8} {d['name']}{vp} via {d['transport']} {d['path']}: {d['status']}")
    return 0


def _print_test(args) -> int:
    from kiosk.devices import printer
    from kiosk.devices.printer.testpage import sample_receipt
    from kiosk.devices.printer.transports import FileTransport

    prof = printer.get_profile(args.profile)
    out = Path(args.out) if args.out else None
    if out and out.suffix.lower() not in (".png", ".bin"):
        from kiosk.cli import CliError

        raise CliError("--out must end in .png (rendered receipt) or .bin (raw ESC/POS bytes)")
    receipt = sample_receipt()
    if out and out.suffix.lower() == ".bin":
        transport = FileTransport(out)
    elif args.simulate or out:
        transport = printer.SimulatedPrinter(prof)
    else:
        transport = None  # the attached printer
    res = printer.print_receipt(receipt, prof, transport)
    if out and out.suffix.lower() == ".png":
        transport.save_png(out)
    if not res.ok:
        raise res.error
    where = f" → {out}" if out else f" on {res.transport}"
    print(f"printed test receipt ({prof.name}, {res.bytes_sent} bytes){where}; "
          f"printer status: {res.status.label()}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("devices", help="list attached printers and ID-card readers with their status")
    p.add_argument("--json", action="store_true", help="print a JSON list")
    p.set_defaults(func=_devices)
    p = sub.add_parser("print-test", help="print a test receipt (Chinese, rare characters, capitals, QR)")
    p.add_argument("--simulate", action="store_true", help="use the simulated printer")
    p.add_argument("--profile", help="printer profile (default: config printer.profile)")
    p.add_argument("--out", help="FILE.png: render the simulated receipt; FILE.bin: write the ESC/POS bytes")
    p.set_defaults(func=_print_test)
