"""``kiosk app …``: the kiosk's own software. County side: ``build``, ``verify``. Kiosk side:
``install``, ``status``; root only (systemd units and technicians): ``trust``,
``apply-spool``, ``health-check``, ``rollback``. deploy/README.md, "Updating the app"."""
from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

from kiosk import config
from kiosk.cli import CliError


def _layout():
    from kiosk.cache.appinstall import Layout

    return Layout.from_env()


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        raise CliError(f"{what} needs root (sudo)")


def _build(args) -> int:
    from kiosk.cache import apppackage as P

    doc = P.build(Path(args.wheels), Path(args.key), Path(args.out), Path(args.keylist) if args.keylist else None)
    size = sum(e["size"] for e in doc["files"])
    print(f"built app package {args.out}: version {doc['version']} for {doc['arch']} (Python {doc['python']}), "
          f"{len(doc['files'])} files, {size / 1e6:.1f} MB, signed by {doc['signer_key_id']}")
    return 0


def _verify(args) -> int:
    from kiosk.cache import apppackage as P
    from kiosk.cache import keys as K

    pub = K.load_public(Path(args.pubkey))
    pkg = P.read(Path(args.package), [K.TrustedKey(K.key_id(pub), pub, roles=(K.APP,))])
    P.verify_files(pkg)
    print(f"{args.package}: version {pkg.version} for {pkg.arch} (Python {pkg.python}), signed by {pkg.signer_key_id}; "
          "every file verified")
    return 0


def _find_package(path: Path, stack):
    """A package folder from PATH: the folder itself, a folder to search, or a block device
    (mounted read-only for the duration)."""
    from kiosk.cache import apppackage as P

    if path.exists() and stat.S_ISBLK(os.stat(path).st_mode):
        from kiosk.devices.usbstick import mount

        m = stack.enter_context(mount.mount_ro(str(path)))
        path = m.path
    return path


def _install(args) -> int:
    from contextlib import ExitStack

    from kiosk.cache import appinstall as I
    from kiosk.cache import apppackage as P
    from kiosk.services.appupdate import AppUpdateService
    from kiosk.services.bus import EventBus
    from kiosk.services.events import AppUpdateEvent, AppUpdateProgress, AppUpdateRefused

    layout = _layout()
    with ExitStack() as stack:
        root = _find_package(Path(args.path), stack)
        if os.geteuid() == 0:
            found = [root] if (root / P.MANIFEST).is_file() else P.find(root)
            if not found:
                raise P.AppPackageError(f"{args.path}: no app package", "U盘上没有软件更新包")
            pkgs = []
            for p in found:
                try:
                    pkgs.append(P.read(p, layout.trust.keys(role="app")))
                except P.AppPackageError as exc:
                    last = exc
            if not pkgs:
                raise last
            from packaging.version import Version

            best = max(pkgs, key=lambda p: Version(p.version))
            trial = I.install(best.path, layout, restart=not args.no_restart)
            print(f"switched to {trial['version']} (was {trial['previous_version'] or 'none'}) in {trial['install_s']} s; "
                  "the health check decides (journalctl -u cunwu-kiosk-health)")
        else:
            bus = EventBus()
            seen = []

            def show(ev):
                seen.append(ev)
                if isinstance(ev, AppUpdateProgress):
                    if ev.phase == "install" or ev.percent % 25 == 0:
                        print(f"{ev.phase}: {ev.text}", flush=True)
                elif not isinstance(ev, AppUpdateRefused):
                    print(f"{type(ev).__name__}: " + ", ".join(f"{k}={v}" for k, v in vars(ev).items() if k != "package"))

            bus.subscribe(AppUpdateEvent, show)
            svc = AppUpdateService(bus, config.kiosk_home(), layout)
            offer = svc.offer(root)
            if offer is None:
                refused = [e for e in seen if isinstance(e, AppUpdateRefused)]
                if refused:
                    raise P.AppPackageError(refused[0].message, refused[0].message_zh)
                raise P.AppPackageError(f"{args.path}: no app package", "U盘上没有软件更新包")
            if not svc.install_now(offer):
                refused = [e for e in seen if isinstance(e, AppUpdateRefused)][-1]
                raise P.AppPackageError(refused.message or refused.message_zh, refused.message_zh)
    if args.wait:
        return _wait_health(layout, args.wait)
    return 0


def _wait_health(layout, timeout: float) -> int:
    """Wait (at most ``timeout`` s) for the health check to keep or roll back the new version."""
    from kiosk.cache import appinstall as I
    from kiosk.cache.apppackage import AppPackageError

    from kiosk.cache.fsutil import read_json

    trial = read_json(layout.state / "trial.json", None) or {}
    deadline = time.monotonic() + timeout
    while (layout.state / "trial.json").exists():
        if time.monotonic() > deadline:
            raise AppPackageError(f"the health check did not finish within {timeout:.0f} s", "软件更新的检查超时")
        time.sleep(0.5)
    st = I.status(layout)
    res = st["result"] or {}
    kept = st["current"] == trial.get("version") and not res.get("rolled_back")
    print(f"{'kept' if kept else 'rolled back'}: running {st['current']}; {res.get('message_zh', '')}")
    return 0 if kept else int(AppPackageError.exit_code)


def _status(args) -> int:
    from kiosk.cache import appinstall as I

    st = I.status(_layout())
    if args.json:
        print(json.dumps(st, ensure_ascii=False, indent=2))
        return 0
    print(f"current  {st['current'] or '-'}")
    print(f"previous {st['previous'] or '-'}")
    if st["trial"]:
        print(f"on trial {st['trial']} (the health check is running)")
    if st["failed"]:
        print(f"failed   {', '.join(st['failed'])} (rolled back; never installed again)")
    if st["result"]:
        print(f"last     {st['result'].get('at')}: {st['result'].get('message_zh')}")
    return 0


def _trust(args) -> int:
    from kiosk.cache import keys as K

    store = _layout().trust
    if args.list:
        for k in store.keys(role=None):
            print(f"{k.key_id} {','.join(k.roles)} {k.label}")
        print(f"key list seq {store.keylist_seq()}")
        return 0
    _need_root("changing the app-update trust store")
    if args.rotate:
        doc = store.rotate(Path(args.rotate))
        print(f"applied key list seq {doc['seq']}")
        return 0
    if not args.pubfile:
        raise CliError("give PUBFILE --role app|data, --rotate KEYLIST or --list")
    pub = K.load_public(Path(args.pubfile))
    have = {k.key_id: k for k in store.keys(role=None)}
    if args.role in getattr(have.get(K.key_id(pub)), "roles", ()):
        print(f"key {K.key_id(pub)} is already trusted for {args.role}")
        return 0
    kid = store.add(pub, Path(args.pubfile).name, (args.role,), how="root")
    print(f"trusted key {kid} for {args.role} (app updates)")
    return 0


def _apply_spool(args) -> int:
    from kiosk.cache import appinstall as I

    _need_root("apply-spool")
    spool = config.kiosk_home() / "appupdate" / "spool" / "package"
    trial = I.install(spool, _layout())
    print(f"switched to {trial['version']} (was {trial['previous_version']}); health check started")
    return 0


def _health(args) -> int:
    from kiosk.cache import appinstall as I

    _need_root("health-check")
    try:
        t = config.load(config.kiosk_home())["timeouts"]
    except config.ConfigError:
        t = config.DEFAULTS["timeouts"]
    out = I.health_check(_layout(), float(t["app_update_health"]), float(t["app_update_settle"]))
    print(f"health check: {out}")
    return 0


def _rollback(args) -> int:
    from kiosk.cache import appinstall as I

    _need_root("rollback")
    layout = _layout()
    st = I.status(layout)
    if not st["previous"] or os.readlink(layout.opt / "previous") == os.readlink(layout.opt / "current"):
        raise CliError("there is no other version to go back to")
    prev = os.readlink(layout.opt / "previous")
    cur = os.readlink(layout.opt / "current")
    I._link(layout, "current", prev)
    I._link(layout, "previous", cur)
    I._record(layout, "manual rollback", version=st["current"], to=st["previous"])
    layout.run_systemctl("reset-failed", I.APP_UNIT)
    layout.run_systemctl("restart", "--no-block", I.APP_UNIT)
    print(f"switched back to {st['previous']} (was {st['current']})")
    return 0


def register(sub) -> None:
    ap = sub.add_parser("app", help="the kiosk's own software: signed app packages, updates, rollback"
                        ).add_subparsers(dest="app_cmd", required=True)
    p = ap.add_parser("build", help="(county) sign a folder of wheels as an app package")
    p.add_argument("wheels", metavar="WHEELS", help="OUT/<arch>/wheels from deploy/make-wheelhouse.sh")
    p.add_argument("--key", required=True, metavar="KEYFILE", help="the app-signing key (not the data key)")
    p.add_argument("--out", required=True, metavar="DIR", help="e.g. STICK/cunwu-kiosk-app/0.2.0-aarch64")
    p.add_argument("--keylist", metavar="KEYLIST", help="carry the newest signed key list along")
    p.set_defaults(func=_build)
    p = ap.add_parser("verify", help="check an app package against an app-signing public key")
    p.add_argument("package", metavar="PACKAGE")
    p.add_argument("--pubkey", required=True, metavar="PUBFILE")
    p.set_defaults(func=_verify)
    p = ap.add_parser("install", help="install the newest app package found at PATH (folder, stick folder or "
                                      "block device); as the kiosk's user through the root helper unit")
    p.add_argument("path", metavar="PATH")
    p.add_argument("--wait", type=float, metavar="SECONDS", help="then wait for the health check's verdict")
    p.add_argument("--no-restart", action="store_true", help="(root) switch but do not restart the app")
    p.set_defaults(func=_install)
    p = ap.add_parser("status", help="current and previous version, a trial in progress, failed versions")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_status)
    p = ap.add_parser("trust", help="(root) the keys app packages are checked against")
    p.add_argument("pubfile", nargs="?", metavar="PUBFILE")
    p.add_argument("--role", choices=("app", "data"), default="app",
                   help="app: signs app packages; data: signs key lists (the county key)")
    p.add_argument("--rotate", metavar="KEYLIST")
    p.add_argument("--list", action="store_true")
    p.set_defaults(func=_trust)
    p = ap.add_parser("apply-spool", help="(root, cunwu-kiosk-appupdate.service) install the spooled package")
    p.set_defaults(func=_apply_spool)
    p = ap.add_parser("health-check", help="(root, cunwu-kiosk-health.service) keep the new version or roll back")
    p.set_defaults(func=_health)
    p = ap.add_parser("rollback", help="(root) go back to the previous version now")
    p.set_defaults(func=_rollback)
