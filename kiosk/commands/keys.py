"""``kiosk keygen``, ``kiosk keylist build``, ``kiosk trust``, ``kiosk scope`` and ``kiosk pin``.

PINs are read with getpass on a terminal, or one per line from stdin with ``--pin-stdin``
(tests, scripted set-up); they are never taken as command-line arguments (``ps`` shows those).
"""
from __future__ import annotations

import getpass
import sys
from pathlib import Path

from kiosk.cache import highwater, keys, pin
from kiosk.cli import CliError
from kiosk.config import kiosk_home
from kiosk.errors import Exit


class _PinReader:
    """Reads PINs from stdin lines (``--pin-stdin``) or the terminal."""

    def __init__(self, from_stdin: bool):
        self.from_stdin = from_stdin

    def __call__(self, prompt: str) -> str:
        if self.from_stdin:
            line = sys.stdin.readline()
            if not line:
                raise CliError("expected a PIN on stdin (one per line)")
            return line.rstrip("\r\n")
        if not sys.stdin.isatty():
            raise CliError("a PIN is needed: run on a terminal or pass --pin-stdin")
        return getpass.getpass(prompt)


def _keygen(args) -> int:
    kpath, ppath = keys.generate(Path(args.out))
    print(f"wrote {kpath} (keep secret, county side only) and {ppath}")
    print(f"key id {keys.key_id(keys.load_public(ppath))}")
    return 0


def _keylist_build(args) -> int:
    doc = keys.build_keylist(Path(args.key), [Path(p) for p in args.pubfiles], args.seq, Path(args.out),
                             app_pubs=[Path(p) for p in args.app_key])
    print(f"built key list {args.out}: seq {doc['seq']}, signed by {doc['signer_key_id']}, keys "
          + ", ".join(k["key_id"] + (f" ({','.join(k['roles'])})" if k.get("roles", ["data"]) != ["data"] else "")
                      for k in doc["keys"]))
    return 0


def _technician(args, home: Path) -> None:
    """Ask for and check the technician PIN (raises on wrong/locked/not set)."""
    if not pin.is_set("technician", home):
        raise pin.PinNotSet("no technician PIN is set (kiosk pin set technician)", "尚未设置技术人员密码")
    pin.require("technician", _PinReader(args.pin_stdin)("technician PIN: "), home)


def _trust(args) -> int:
    home = kiosk_home()
    store = keys.TrustStore(home)
    if args.list:
        from kiosk.cache import trustlog

        for k in store.keys(role=None):
            print(f"{k.key_id}  {','.join(k.roles):8}  {k.label}")
        print(f"key list seq {store.keylist_seq()}")
        for e in trustlog.events(home):  # changes made with the PIN, newest first
            print(f"  {e.line_zh}")
        return 0
    if args.rotate:
        doc = store.rotate(Path(args.rotate))
        print(f"applied key list seq {doc['seq']}: trusted keys now "
              + ", ".join(k.key_id + ("" if k.roles == keys.DEFAULT_ROLES else f" ({','.join(k.roles)})")
                          for k in store.keys(role=None)))
        return 0
    if args.remove:
        _technician(args, home)
        store.remove(args.remove)
        print(f"removed key {args.remove}")
        return 0
    if not args.pubfile:
        raise CliError("give PUBFILE, --rotate KEYLIST, --remove KEYID or --list")
    pub = keys.load_public(Path(args.pubfile))
    if args.if_new and any(k.key_id == keys.key_id(pub) for k in store.keys(role=None)):
        print(f"key {keys.key_id(pub)} is already trusted")
        return 0
    try:
        have = bool(store.keys(role=None))
    except keys.KeyError_:
        have = True  # a damaged keys.json: replacing it needs the PIN like any change
    if not have and not highwater.is_set_up(home):
        kid = store.trust_first(pub, label=Path(args.pubfile).name)  # a kiosk never set up: first trust
    elif not pin.is_set("technician", home) and not args.pin_stdin:
        store.trust_first(pub)  # raises: already trusted / set up before; explains the two ways
        return Exit.KEYS
    else:
        _technician(args, home)
        kid = store.add(pub, label=Path(args.pubfile).name)
    print(f"trusted key {kid}")
    return 0


def _scope(args) -> int:
    """Show the kiosk's scope, or bind it to another (technician PIN; recorded, shown on
    every screen until a county-signed key list confirms it)."""
    import json

    from kiosk import config
    from kiosk.cache import install
    from kiosk.cache.fsutil import atomic_write_json

    home = kiosk_home()
    cfg = config.load(home)
    if not args.code:
        print(f"scope {install.recorded_scope(home) or 'not set (the first bundle sets it)'}"
              + (f"; config.json says {cfg['scope']}" if cfg.get("scope") else ""))
        return 0
    _technician(args, home)
    old = install.change_scope(home, args.code.strip())
    path = home / "config.json"
    if cfg.get("scope"):  # keep config.json in step, or every later import would be refused
        user = json.loads(path.read_text(encoding="utf-8"))
        user["scope"] = args.code.strip()
        atomic_write_json(path, user)
    print(f"scope changed from {old or 'none'} to {args.code.strip()}; import a bundle of the new scope. "
          "The change is shown on every screen until a county-signed key list confirms it.")
    return 0


def _pin_set(args) -> int:
    home = kiosk_home()
    read = _PinReader(args.pin_stdin)
    current = read(f"current {args.name} PIN: ") if pin.is_set(args.name, home) else None
    new = read(f"new {args.name} PIN (6-12 digits): ")
    if not args.pin_stdin and read("again: ") != new:
        raise CliError("the two PINs differ")
    pin.set_pin(args.name, new, current, home)
    print(f"{args.name} PIN set")
    return 0


def _pin_check(args) -> int:
    home = kiosk_home()
    pin.require(args.name, _PinReader(args.pin_stdin)(f"{args.name} PIN: "), home)
    print("PIN correct")
    return 0


def _pin_status(args) -> int:
    home = kiosk_home()
    for name in pin.NAMES:
        s = pin.seconds_locked(name, home) if pin.is_set(name, home) else 0
        state = "not set" if not pin.is_set(name, home) else (f"locked for {s} s" if s else "set")
        print(f"{name}: {state}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("keygen", help="create an Ed25519 signing key pair (county side)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_keygen)

    kl = sub.add_parser("keylist", help="signed key lists for key rotation (county side)").add_subparsers(
        dest="keylist_cmd", required=True)
    p = kl.add_parser("build", help="write keylist.json + keylist.sig listing the keys kiosks should trust")
    p.add_argument("pubfiles", nargs="*", metavar="PUBFILE", help="data keys (sign bundles and key lists)")
    p.add_argument("--app-key", action="append", default=[], metavar="PUBFILE",
                   help="an app-signing key (signs app packages only); repeat for several")
    p.add_argument("--key", required=True, metavar="KEYFILE", help="a key the kiosks trust now")
    p.add_argument("--seq", required=True, type=int, help="above every key list issued before")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_keylist_build)

    p = sub.add_parser("trust", help="trust a public key: the first freely, later ones with the technician PIN "
                                     "or a signed key list")
    p.add_argument("pubfile", nargs="?", metavar="PUBFILE")
    p.add_argument("--rotate", metavar="KEYLIST", help="apply a key list signed by a trusted key")
    p.add_argument("--remove", metavar="KEYID", help="stop trusting a key (technician PIN)")
    p.add_argument("--list", action="store_true",
                   help="list trusted keys and the changes made with the technician PIN (PIN resets, keys, scope)")
    p.add_argument("--if-new", action="store_true", help="do nothing if PUBFILE is trusted already (scripts)")
    p.add_argument("--pin-stdin", action="store_true", help="read the technician PIN from stdin")
    p.set_defaults(func=_trust)

    p = sub.add_parser("scope", help="show this kiosk's village/township/county code, or change it "
                                     "(technician PIN; recorded and shown until the county confirms it)")
    p.add_argument("code", nargs="?", metavar="CODE", help="new 12-, 9- or 6-digit division code")
    p.add_argument("--pin-stdin", action="store_true", help="read the technician PIN from stdin")
    p.set_defaults(func=_scope)

    pn = sub.add_parser("pin", help="technician PIN").add_subparsers(dest="pin_cmd", required=True)
    p = pn.add_parser("set", help="set or change a PIN (changing needs the current one)")
    p.add_argument("name", choices=pin.NAMES)
    p.add_argument("--pin-stdin", action="store_true", help="read PINs from stdin, one per line (current first)")
    p.set_defaults(func=_pin_set)
    p = pn.add_parser("check", help="check a PIN (counts towards the lock-out)")
    p.add_argument("name", choices=pin.NAMES)
    p.add_argument("--pin-stdin", action="store_true")
    p.set_defaults(func=_pin_check)
    p = pn.add_parser("status", help="which PINs are set or locked")
    p.set_defaults(func=_pin_status)
