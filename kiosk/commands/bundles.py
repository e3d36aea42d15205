"""``kiosk bundle build|verify``, ``kiosk import``, ``kiosk status``, ``kiosk check``."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from kiosk import config
from kiosk.cache import bundle, install, integrity, keys, verify
from kiosk.cache.mirror import assess, open_current  # noqa: F401 (open_current: callers)
from kiosk.errors import Exit


def _build(args) -> int:
    from kiosk.county.build import build  # county side only

    m = build(Path(args.src), Path(args.key), args.seq, Path(args.out),
              previous=Path(args.previous) if args.previous else None,
              id_hash_n=args.id_hash_n, cfg=config.load(),
              progress=None if args.quiet else (lambda s: print(f"  {s}…", file=sys.stderr)))
    print(f"built bundle {args.out}: scope {m.scope}, 第{m.seq}版, fingerprint {m.fingerprint}, "
          + ", ".join(f"{k} {v}" for k, v in m.counts.items()))
    return 0


def _verify(args) -> int:
    pub = keys.load_public(Path(args.pubkey))
    try:
        m = verify.verify_bundle(Path(args.bundle), [keys.TrustedKey(keys.key_id(pub), pub)])
    except bundle.BundleError as exc:
        if exc.message.startswith("signature does not verify"):  # one key given, not the trust store
            raise bundle.BundleError(f"signature does not verify with the given public key {args.pubkey} "
                                     "(changed manifest or signed by another key)",
                                     "签名验证失败：清单被改动或不是用该公钥对应的密钥签名") from None
        raise
    print(f"OK: scope {m.scope}, 第{m.seq}版, fingerprint {m.fingerprint}")
    return 0


def _import(args) -> int:
    home = config.kiosk_home()
    cfg = config.load(home)
    # a bundle folder, or a stick / folder holding several: pick this kiosk's newest
    from kiosk.cache.discovery import resolve
    from kiosk.cache.stickimport import install_newest

    st = install.read_state(home)
    src = Path(args.bundle)
    try:
        paths, passed = resolve(src, keys.TrustStore(home).keys(), cfg.get("scope") or st.get("scope"),
                                install.highest(home, st)[0])
    except bundle.BundleError as exc:
        if "on the stick" not in exc.message or src.is_mount():
            raise
        # a plain folder (a source export, an empty folder): name it instead of "the stick"
        raise bundle.BundleError(exc.message.replace("on the stick", f"in {src}"),
                                 exc.message_zh.replace("U盘上", f"{src} 中")) from None
    # newer bundles that were damaged: named once an older one is installed
    refused = [f"kiosk: note: {path} refused: {exc}" for path, exc in passed]
    res = install_newest(paths, home, scope=cfg.get("scope"),
                         on_refused=lambda path, exc: refused.append(f"kiosk: note: {path} refused: {exc}"))
    for line in refused:
        print(line, file=sys.stderr)
    old = f"第{res.old_seq}版" if res.old_seq else "无"
    print(f"installed 第{res.new_seq}版 (was {old}), data as of {res.data_as_of}, fingerprint {res.fingerprint}, "
          f"chain {res.chain}")
    return 0


def status_dict(home: Path, verify: bool = False) -> dict:
    """What the screens show: the same ``assess``/``open_current`` the UI uses (so the two
    always agree). ``ok`` is False whenever nothing trustworthy is shown, a banner is up
    (older version, fallback, state or keys damaged) or, with ``verify`` (slow: re-hashes
    the database), the shown files do not match their manifest (``verify_error``).
    ``notice``: the footer line while a change made with the PIN is unconfirmed."""
    from kiosk.cache import trustlog

    m, line = assess(home)
    state, problem = install.state_check(home)
    kp = keys.keys_problem(home)
    problems = [p for p in (problem, kp[0] if kp else None) if p]
    # changes made with the technician PIN, not yet confirmed by a county-signed key list
    extra = {"notice": notice} if (notice := trustlog.public_notice(home)) else {}
    if m is None:
        out = {"installed": False, **({"problem": line} if line else {})}
        out["ok"] = not line and not problems
        return {**out, **({"problems": problems} if problems else {}), **extra}
    try:
        i = m.info
        out = {"installed": True, "village_code": i.village_code, "village_name": i.village_name,
               "seq": i.seq, "data_as_of": i.data_as_of, "fingerprint": i.fingerprint, "counts": i.counts,
               "issued_at": i.issued_at, "version": i.version_dir, "banner": i.banner,
               "highest_seq": install.highest(home, state)[0], "flags": flags_summary(m)}
    finally:
        m.close()
    if verify:
        out["verify_error"] = install.verify_version(home, out["version"], state)
        out["verified"] = out["verify_error"] is None
    out["ok"] = not out["banner"] and not problems and not out.get("verify_error")
    return {**out, **({"problems": problems} if problems else {}), **extra}


def flags_summary(m) -> dict:
    """Supervision flags of what is shown (the selected village, or the whole bundle):
    ``{"schema_revision": 2, "total": 22, "by_rule": {"approval_level": 2, ...}}``."""
    counts = m.flag_counts()
    return {"schema_revision": int(m.meta.get("schema_revision", "1")), "total": sum(counts.values()), "by_rule": counts}


def _status(args) -> int:
    home = config.kiosk_home()
    config.load(home)  # a malformed config.json is exit 15 here, never "data damaged"
    st = status_dict(home, verify=True)
    if args.json:
        print(json.dumps(st, ensure_ascii=False, sort_keys=True))
    elif not st["installed"]:
        print(f"注意: {st['problem']}" if st.get("problem") else "尚无数据 (no data installed yet)")
    else:
        print(f"{st['village_name']} ({st['village_code']}) 第{st['seq']}版 数据更新至 {st['data_as_of']} 指纹 {st['fingerprint']}")
        print("  " + ", ".join(f"{k} {v}" for k, v in st["counts"].items()))
        if st["flags"]["schema_revision"] >= 2:
            print(f"  监督提示 {st['flags']['total']} 条 (supervision flags; kiosk flags list)")
        if st["verified"]:
            print("  files: verified (signature, SHA-256 of every file, database schema and record counts)")
        if st.get("banner"):
            print(f"  注意: {st['banner']}")
    if not args.json:
        for p in st.get("problems", []):
            print(f"  problem: {p}")
        if st.get("notice"):  # changes made with the technician PIN, not yet confirmed by the county
            print(f"  {st['notice']}")
    if st.get("verify_error"):
        print(f"kiosk: error: installed files do not match their manifest: {st['verify_error']} "
              "(run kiosk check) (已安装数据与清单不符，请运行 kiosk check 并联系技术人员)", file=sys.stderr)
    return Exit.OK if st["ok"] else Exit.DATA_DAMAGED


def _check(args) -> int:
    home = config.kiosk_home()
    config.load(home)  # before anything is checked: a config error must never quarantine data
    install.cleanup(home)
    res = integrity.recheck(home)
    if args.json:
        print(json.dumps(res.as_dict(), ensure_ascii=False, sort_keys=True))
    elif res.status == "ok":
        print(f"OK: 第{res.seq}版 ({res.shown}) matches its manifest")
    elif res.status == "not_installed":
        print("尚无数据 (no data installed yet)")
    else:
        print(f"{res.status}: {res.reason or ''}".rstrip())
        if res.banner:
            print(f"  注意: {res.banner}")
    return {"ok": Exit.OK, "not_installed": Exit.OK, "busy": Exit.BUSY}.get(res.status, Exit.DATA_DAMAGED)


def register(sub) -> None:
    b = sub.add_parser("bundle", help="build or verify a signed bundle").add_subparsers(dest="bundle_cmd", required=True)
    p = b.add_parser("build", help="validate a source export and build a signed bundle (county side)")
    p.add_argument("src", metavar="SRC")
    p.add_argument("--key", required=True, metavar="KEYFILE")
    p.add_argument("--seq", required=True, type=int)
    p.add_argument("--out", required=True, metavar="BUNDLE")
    p.add_argument("--previous", metavar="MANIFEST", help="the previous bundle's manifest.json")
    p.add_argument("--id-hash-n", type=int, default=2 ** 14, help="scrypt cost N (default 16384)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_build)
    p = b.add_parser("verify", help="verify a bundle against a public key")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("--pubkey", required=True, metavar="FILE")
    p.set_defaults(func=_verify)
    p = sub.add_parser("import", help="verify a bundle (or the newest one for this kiosk in a folder/stick) and install it")
    p.add_argument("bundle", metavar="BUNDLE")
    p.set_defaults(func=_import)
    p = sub.add_parser("status", help="what the kiosk shows now")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    p = sub.add_parser("check", help="re-hash the installed data now; fall back to the last known good version if damaged")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_check)
