"""``kiosk sync [BASE_URL]``, ``kiosk publish BUNDLE DEST`` and ``kiosk stick DEVICE``."""
from __future__ import annotations

import sys
from pathlib import Path

from kiosk import config


def _progress(quiet: bool):
    if quiet:
        return None
    last = {}

    def p(phase: str, done: int, total: int) -> None:
        pct = int(done * 100 / total) if total else 100
        if last.get(phase) != pct:
            last[phase] = pct
            print(f"\r  {phase} {pct:3d}%", end="" if pct < 100 else "\n", file=sys.stderr)

    return p


def _sync(args) -> int:
    from kiosk.cache import sync
    from kiosk.services.updates import record_sync

    home = config.kiosk_home()
    cfg = config.load(home)
    base = args.base_url or cfg["sync"].get("base_url", "")
    try:
        res = sync.sync(base, home, scope=args.scope or cfg.get("scope"), progress=_progress(args.quiet))
    except Exception as exc:
        record_sync(home, None, exc)
        raise
    record_sync(home, res, None)
    if res.status == "unchanged":
        print("unchanged: the server's manifest is the one already seen (nothing downloaded)")
    elif res.status == "not_newer":
        print(f"not newer: the server offers 第{res.seq}版, not above the installed version")
    else:
        i = res.install
        old = f"第{i.old_seq}版" if i.old_seq else "无"
        print(f"installed 第{i.new_seq}版 (was {old}), data as of {i.data_as_of}, fingerprint {i.fingerprint}; "
              f"downloaded {res.downloaded} bytes" + (f", resumed after {res.resumed_from}" if res.resumed_from else ""))
    return 0


def _check_before_publishing(bundle: Path, pubkeys: list[str]) -> None:
    """Nothing is written for a bundle that kiosks would refuse: every file's size and
    SHA-256 against its manifest, and with ``--pubkey`` the signature too.

    Raises:
        BundleError: the bundle is damaged or not signed by one of the keys.
    """
    from kiosk.cache import keys, verify
    from kiosk.cache.bundle import BundleError, Manifest

    if not bundle.is_dir():
        raise BundleError(f"{bundle}: not a bundle folder", f"找不到数据包文件夹 {bundle}")
    if pubkeys:
        trusted = [keys.TrustedKey(keys.key_id(pub), pub) for pub in (keys.load_public(Path(p)) for p in pubkeys)]
        verify.verify_bundle(bundle, trusted)
    else:
        verify.check_files(bundle, Manifest.parse(verify.read_manifest(bundle)[0]))


def _publish(args) -> int:
    from kiosk import viewer
    from kiosk.cache.bundle import LATEST
    from kiosk.county.publish import publish

    _check_before_publishing(Path(args.bundle), args.pubkey or [])
    v = publish(Path(args.bundle), Path(args.dest))
    print(f"published {v} and pointed {v.parent / LATEST} at it")
    # the phone viewer: into the world-readable web tree (--web), else beside the kiosks' tree
    web = Path(args.web) if args.web else Path(args.dest)
    try:
        w = viewer.publish_web(Path(args.bundle), web, [Path(p) for p in args.pubkey or []])
    except viewer.ViewerError as exc:
        if args.web or args.pubkey:
            raise
        print(f"phone viewer not written: {exc}", file=sys.stderr)
        return 0
    print(f"phone viewer: {web}/<village>/ reads {w}")
    if not args.web:
        print(f"note: {args.dest} also holds the kiosks' database with personal records; serve it to kiosks only "
              "(HTTP authentication) and publish phones' files with --web PUBLIC_DIR", file=sys.stderr)
    return 0


def _stick(args) -> int:
    from kiosk.cache import stickimport
    from kiosk.devices.usbstick import mount

    home = config.kiosk_home()
    cfg = config.load(home)
    with mount.mount_ro(args.device, Path(args.mount_base) if args.mount_base else None) as m:
        plan = stickimport.plan(m.path, home, cfg.get("scope"))
        print(f"found 第{plan.new.seq}版 of {plan.candidate.scope} at {plan.candidate.path.relative_to(m.path)}")
        rep = stickimport.run(plan, home, cfg.get("scope"), _progress(args.quiet))
    old = f"第{rep.old.seq}版 ({rep.old.data_as_of})" if rep.old else "无"
    print(f"installed 第{rep.new.seq}版 ({rep.new.data_as_of}), was {old}; stick unmounted, 可以拔出U盘")
    return 0


def register(sub) -> None:
    p = sub.add_parser("sync", help="fetch and install a newer bundle from a static HTTP server")
    p.add_argument("base_url", nargs="?", metavar="BASE_URL", help="default: config sync.base_url")
    p.add_argument("--scope", metavar="CODE", help="village code, for the first sync of a kiosk without data")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_sync)
    p = sub.add_parser("publish", help="put a bundle into the published layout (web root or USB stick)")
    p.add_argument("bundle", metavar="BUNDLE")
    p.add_argument("dest", metavar="DEST", help="the kiosks' tree: web root, object-store folder or stick mount point")
    p.add_argument("--web", metavar="WEBDIR", help="world-readable tree for phones: the viewer and the public files, "
                   "never the kiosks' database (default: the viewer goes into DEST)")
    p.add_argument("--pubkey", metavar="FILE", action="append",
                   help="county public key the viewer verifies with (repeat for several; kept in viewer/keys.json)")
    p.set_defaults(func=_publish)
    p = sub.add_parser("stick", help="mount a USB stick read-only, import the bundle for this kiosk, unmount")
    p.add_argument("device", metavar="DEVICE", help="block device, e.g. /dev/sdb1")
    p.add_argument("--mount-base", metavar="DIR", help="where to mount (default /run/cunwu-kiosk/usb)")
    p.add_argument("--quiet", action="store_true")
    p.set_defaults(func=_stick)
