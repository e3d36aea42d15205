"""``kiosk demo-data``: write synthetic source data for one real village (see kiosk.demo_data)."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "demo-data", help="write demo source data (county export format) for a village",
        description="Write invented but realistic source data (docs/data-model.md) for a real "
                    "Loudi village. Same seed and as-of date, same bytes. Replaces OUT only if it is empty or "
                    "was written by demo-data, unless --force.")
    p.add_argument("--village", default="431382111249", metavar="CODE",
                   help="12-digit village code from kiosk/data/loudi-4313-villages.csv (default 洪泉村)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (SRC)")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    p.add_argument("--as-of", default=None, metavar="DATE",
                   help="the data-as-of date: YYYY-MM-DD, or month-end for the last day of last month by "
                        "this machine's clock (make demo); default 2026-10-31. Same seed and date, same bytes")
    p.add_argument("--force", action="store_true", help="replace a non-empty folder not made by demo-data")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import datetime as dt

    from kiosk.demo_data import DATA_AS_OF, parse_as_of, write

    as_of = DATA_AS_OF if args.as_of is None else parse_as_of(args.as_of, dt.date.today())
    counts = write(args.village.strip(), args.out, seed=args.seed, force=args.force, as_of=as_of)
    print(f"wrote {args.out} (data as of {as_of}): " + ", ".join(f"{k} {n}" for k, n in counts.items()))
    return 0
