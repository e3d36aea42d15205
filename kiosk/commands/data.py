"""``kiosk demo-data``: write synthetic source data for one real village (see kiosk.demo_data)."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo-data", help="write demo source data (county export format) for a village",
        description="Write invented but realistic source data (docs/data-model.md) for a real "
                    "Loudi village. Same seed, same bytes. Replaces OUT only if it is empty or "
                    "was written by demo-data, unless --force.")
    p.add_argument("--village", default="431382111249", metavar="CODE",
                   help="12-digit village code from kiosk/data/loudi-4313-villages.csv (default 洪泉村)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (SRC)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--force", action="store_true", help="replace a non-empty folder not made by demo-data")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from kiosk.demo_data import write

    counts = write(args.village.strip(), args.out, seed=args.seed, force=args.force)
    print(f"wrote {args.out}: " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    return 0
