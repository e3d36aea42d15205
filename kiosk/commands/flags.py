"""``kiosk flags check BUNDLE`` (recompute a bundle's supervision flags and compare) and
``kiosk flags list [--json]`` (the installed data's flags)."""
from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

from kiosk.errors import Exit


def _check(args) -> int:
    from kiosk.cache import bundle, flagstore, keys, verify

    root = Path(args.bundle)
    if args.pubkey:
        pub = keys.load_public(Path(args.pubkey))
        verify.verify_bundle(root, [keys.TrustedKey(keys.key_id(pub), pub)])
    db = root / bundle.DB_PATH
    if not db.is_file():
        raise bundle.BundleError(f"{root}: not a bundle folder ({bundle.DB_PATH} missing)", f"{root} 不是数据包文件夹")
    from kiosk.rules import RulesError

    try:
        rep = flagstore.recompute(db)
    except sqlite3.DatabaseError as exc:
        raise bundle.BundleError(f"{db}: cannot be read ({exc})", "数据包数据库无法读取") from None
    except RulesError as exc:
        raise bundle.BundleError(f"the bundle's rule table is malformed: {exc.message}",
                                 "数据包中的规则表有误") from None
    if rep.revision < flagstore.SCHEMA_REVISION:
        raise bundle.BundleError(f"{root}: schema revision {rep.revision} carries no supervision flags to check",
                                 "该数据包版本较旧，没有监督提示可以核对")
    for d in rep.differences:
        print(f"difference: {d}")
    if rep.differences:
        print(f"kiosk: error: {len(rep.differences)} difference(s) between the bundle's flags and its records and rules "
              "(数据包中的监督提示与其记录和规则不符)", file=sys.stderr)
        return Exit.BUNDLE
    print(f"OK: {rep.flags} flags in {rep.villages} village(s) are exactly what the records and the rules give")
    return Exit.OK


def _list(args) -> int:
    from kiosk import config
    from kiosk.cache.integrity import status_line
    from kiosk.cache.mirror import open_current

    home = config.kiosk_home()
    config.load(home)  # a malformed config.json is exit 15, not "data damaged"
    m = open_current(home)
    if m is None:
        line = status_line(home)
        print(f"注意: {line}" if line else "尚无数据 (no data installed yet)", file=sys.stderr)
        return Exit.DATA_DAMAGED if line else Exit.OK
    try:
        if args.village:
            from kiosk.cli import CliError

            try:
                m = m.with_village(args.village)
            except ValueError as exc:
                raise CliError(str(exc)) from None
        rows, after = [], None
        while True:
            page = m.flags_page(rule=args.rule, after=after, limit=200)
            rows += page.rows
            if not (after := page.next):
                break
        if args.json:
            print(json.dumps([{"rule": r["rule_id"], "kind": r["kind"], "id": r["record_id"], "village": r["village_code"],
                               "severity": r["severity"], "figures": r["figures"], "detail": r["detail"],
                               "title": r["title"], "note": r["note"]} for r in rows],
                             ensure_ascii=False, sort_keys=True))
        elif not m.has_flags:
            print("the installed data (schema revision 1) carries no supervision flags (本机数据版本较旧，没有监督提示)")
        else:
            for r in rows:
                fig = " ".join(f"{k}={v}" for k, v in sorted(r["figures"].items()))
                print(f"{r['rule_id']}\t{r['kind']}\t{r['record_id']}\t{r['severity']}\t{fig}\t{r['detail']}")
            print(f"{len(rows)} flags", file=sys.stderr)
    finally:
        m.close()
    return Exit.OK


def register(sub) -> None:
    f = sub.add_parser("flags", help="supervision flags (监督提示)").add_subparsers(dest="flags_cmd", required=True)
    p = f.add_parser("check", help="recompute a bundle's flags from its records and rules; report any difference")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("--pubkey", metavar="FILE", help="verify the bundle's signature and files first")
    p.set_defaults(func=_check)
    p = f.add_parser("list", help="the installed data's flags: rule, record kind and id, the figures")
    p.add_argument("--json", action="store_true")
    p.add_argument("--rule", metavar="ID", help="only this rule (kiosk/rules, e.g. approval_level)")
    p.add_argument("--village", metavar="CODE", help="a township/county bundle: only this village")
    p.set_defaults(func=_list)
