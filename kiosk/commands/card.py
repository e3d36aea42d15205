"""``kiosk read-card``: read one ID card (reader, simulator, or a captured reply) and print it
with the ID number masked to its first four digits, the birth date cut to the year and the
address cut to the township: with the last four characters and the full birth date, the
county code (from the address) would give the whole number."""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path



def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("read-card", help="read one resident ID card (ID number masked, birth year only, address cut to the township)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--simulate", action="store_true",
                     help="use the simulated reader (a demo card is placed on it)")
    src.add_argument("--replay", metavar="FILE", type=Path,
                     help="parse a captured 30 01 reader reply (raw bytes or hex text)")
    src.add_argument("--device", metavar="SPEC", default="auto",
                     help="reader: serial:/dev/ttyUSB0, usb:VID:PID, usb-native:VID:PID, sim:usb-chunked … (default auto)")
    p.add_argument("--card", type=int, default=0, metavar="N",
                   help="with --simulate: which simulated card to place (default 0)")
    p.add_argument("--fault", choices=["none", "no-card", "select", "checksum", "removed", "unplugged"],
                   default="none", help="with --simulate: inject a fault")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=run)


def _load_replay(path: Path) -> bytes:
    from kiosk.devices.idcard import FrameError

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FrameError(f"cannot read {path}: {exc.strerror}", "无法读取文件") from None
    text = data.decode("ascii", errors="replace")
    if re.fullmatch(r"[0-9A-Fa-f\s:]+", text):  # a hex dump, as logged by many tools
        digits = re.sub(r"[\s:]", "", text)
        if len(digits) % 2:
            raise FrameError(f"{path}: odd number of hex digits ({len(digits)}): a byte is cut in half",
                             "抓包文件格式有误（十六进制位数为奇数）")
        return bytes.fromhex(digits)
    return data


def read_one(args: argparse.Namespace):
    """The IdCard the arguments ask for (raises IdCardError subclasses)."""
    from kiosk.devices.idcard import NoCard, open_reader, parse_captured_reply

    if args.replay:
        return parse_captured_reply(_load_replay(args.replay))
    if args.simulate:
        from kiosk.devices.idcard.simulator import SimulatedReader

        sim = SimulatedReader()
        if not 0 <= args.card < len(sim.cards):
            from kiosk.errors import KioskError

            raise KioskError(f"--card must be 0..{len(sim.cards) - 1}", "参数错误")
        if args.fault != "no-card":
            sim.place(args.card)
        sim.fail_select = args.fault == "select"
        sim.corrupt_replies = 10 if args.fault == "checksum" else 0
        sim.remove_during_read = args.fault == "removed"
        if args.fault == "unplugged":
            sim.unplug()
        session = open_reader("sim", simulator=sim)
    else:
        session = open_reader(args.device)
    with session:
        try:
            return session.read_card()
        except NoCard:
            raise NoCard(0x80, "no card on the reader: place a resident ID card on it") from None


def run(args: argparse.Namespace) -> int:
    from kiosk.devices.idcard.text import FIELDS_ZH

    card = read_one(args)
    d = card.masked_dict()
    d["validity"] = card.validity_text
    if args.json:
        print(json.dumps(d, ensure_ascii=False, indent=2))
    else:
        width = max(len(zh) for _k, zh in FIELDS_ZH)
        for key, zh in FIELDS_ZH:
            print(zh.ljust(width, "\u3000"), d[key], sep="  ")
    sys.stdout.flush()
    return 0
