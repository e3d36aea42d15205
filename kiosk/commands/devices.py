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


def _transport(args, cfg, out):
    """Where a receipt goes: --out FILE.bin (raw bytes), --out FILE.png or --simulate (the
    simulated printer), else the configured printer (config ``printer``: "sim", a transport
    spec, a VID:PID, or "" to discover the attached one)."""
    from kiosk.devices import printer
    from kiosk.devices.printer.transports import FileTransport

    prof = printer.get_profile(args.profile or (cfg.get("printer") or {}).get("profile") or "pos58")
    if out and out.suffix.lower() == ".bin":
        return prof, FileTransport(out)
    pc = cfg.get("printer") or {}
    if args.simulate or out or pc.get("device") == "sim":
        return prof, printer.SimulatedPrinter(prof)
    if pc.get("device"):
        from kiosk.devices.printer.transports import from_spec

        return prof, from_spec(pc["device"])
    if pc.get("vid_pid"):
        from kiosk.devices.printer.discovery import open_default

        return prof, open_default(pc["vid_pid"])
    return prof, None


def _print_record(args) -> int:
    from kiosk import config, receipts
    from kiosk.cache import viewerlink
    from kiosk.cache.mirror import assess
    from kiosk.cli import CliError
    from kiosk.devices import printer

    out = Path(args.out) if args.out else None
    if out and out.suffix.lower() not in (".png", ".bin"):
        raise CliError("--out must end in .png (rendered receipt) or .bin (raw ESC/POS bytes)")
    home = config.kiosk_home()
    cfg = config.load(home)
    mirror, line = assess(home)
    if mirror is None:
        raise receipts.RecordNotFound(f"no data to print from: {line or 'nothing installed'}",
                                      line or "本机尚无数据")
    try:
        if args.village or len(mirror.villages) > 1:
            if not args.village:
                raise CliError("this bundle covers several villages: give --village CODE")
            try:
                mirror = mirror.with_village(args.village)
            except ValueError as exc:
                raise CliError(str(exc)) from None
        link = viewerlink.for_mirror(home, mirror, cfg)
        if args.kind == "complaints":
            from kiosk import complaints

            receipt = complaints.slip(complaints.channels(mirror.info.profile, mirror.info, link), mirror.info)
        else:
            if not args.id:
                raise CliError(f"{args.kind} needs an ID ({receipts.PRINT_KINDS[args.kind]})")
            try:
                receipt = receipts.for_record(mirror, args.kind, args.id, link)
            except ValueError as exc:
                raise CliError(str(exc)) from None
    finally:
        mirror.close()
    prof, transport = _transport(args, cfg, out)
    res = printer.print_receipt(receipt, prof, transport)
    if out and out.suffix.lower() == ".png":
        transport.save_png(out)
    elif isinstance(transport, printer.SimulatedPrinter) and not out:
        keep = home / "receipts"
        keep.mkdir(parents=True, exist_ok=True)
        out = keep / f"receipt-{args.kind}-{(args.id or 'slip').replace('/', '_')}.png"
        transport.save_png(out)
    if not res.ok:
        raise res.error
    where = f" → {out}" if out else f" on {res.transport}"
    if args.kind == "complaints":
        print(f"printed the 监督投诉 slip ({prof.name}, {res.bytes_sent} bytes){where}")
    else:
        qr = "with a QR code to the phone viewer" if link else "without a QR code (viewer.base_url not set)"
        print(f"printed {args.kind} {args.id} ({prof.name}, {res.bytes_sent} bytes, {qr}){where}")
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
    from kiosk.receipts import PRINT_KINDS

    p = sub.add_parser("print", help="print a record's receipt (the same one the 打印 button gives), or the complaint slip")
    p.add_argument("kind", choices=[*PRINT_KINDS, "complaints"], metavar="KIND",
                   help="finance | finance-month | project | asset | service | power | complaints (监督投诉 slip)")
    p.add_argument("id", nargs="?", metavar="ID", help="the record's id (finance-month: YYYY-MM; none for complaints)")
    p.add_argument("--village", metavar="CODE", help="the village, when the installed bundle covers several")
    p.add_argument("--simulate", action="store_true", help="use the simulated printer (PNG under KIOSK_HOME/receipts/)")
    p.add_argument("--profile", help="printer profile (default: config printer.profile)")
    p.add_argument("--out", help="FILE.png: render the simulated receipt; FILE.bin: write the ESC/POS bytes")
    p.set_defaults(func=_print_record)
