"""``kiosk bench --scale village|city [--json]``: build, bundle, install and measure (kiosk/bench)."""
from __future__ import annotations

import json
from pathlib import Path


def _bench(args) -> int:
    if args.speech:
        from kiosk.bench import speech

        r = speech.run(Path(args.work))
        print(speech.table(r))
        if args.json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
        return 0
    from kiosk.bench import measure

    if args.display:
        from kiosk.config import kiosk_home

        r = measure.display(kiosk_home())
        print(measure.display_table(r))
        if args.json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
        return 0
    r = measure.run(args.scale, Path(args.work), id_hash_n=args.id_hash_n, seed=args.seed,
                    limit=args.villages, rebuild=args.rebuild, with_ui=not args.no_ui)
    print(measure.table(r))
    if args.json:
        print(json.dumps(r, ensure_ascii=False, sort_keys=True))
    return 0


def register(sub) -> None:
    p = sub.add_parser("bench", help="benchmark: build demo data at a scale, bundle, install, measure")
    p.add_argument("--scale", choices=("village", "city"), default="village")
    p.add_argument("--json", action="store_true", help="also print one JSON object with every figure")
    p.add_argument("--work", default="bench-work", metavar="DIR", help="data, bundles and homes (reused)")
    p.add_argument("--id-hash-n", type=int, default=1024,
                   help="scrypt cost of the bench bundles (default 1024; kiosks' default is 16384, see docs/performance.md)")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--villages", type=int, metavar="N", help="city: only the first N villages")
    p.add_argument("--rebuild", action="store_true", help="build the bundle even if one is there")
    p.add_argument("--no-ui", action="store_true", help="skip the Kivy measurements")
    p.add_argument("--speech", action="store_true",
                   help="only the speech figures, in the App on the demo village: tap on 朗读 to first sound, "
                        "the memory speech adds (kiosk/bench/speech.py)")
    p.add_argument("--display", action="store_true",
                   help="only the 特大字 / 高对比 switch figures, on KIOSK_HOME's installed data (kiosk/bench/uichild.py)")
    p.set_defaults(func=_bench)
