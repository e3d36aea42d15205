"""``kiosk keygen`` and ``kiosk trust``."""
from __future__ import annotations

from pathlib import Path

from kiosk.cache import keys
from kiosk.config import kiosk_home


def _keygen(args) -> int:
    kpath, ppath = keys.generate(Path(args.out))
    print(f"wrote {kpath} (keep secret, county side only) and {ppath}")
    print(f"key id {keys.key_id(keys.load_public(ppath))}")
    return 0


def _trust(args) -> int:
    pub = keys.load_public(Path(args.pubfile))
    kid = keys.TrustStore(kiosk_home()).trust_first(pub, label=Path(args.pubfile).name)
    print(f"trusted key {kid}")
    return 0


def register(sub) -> None:
    p = sub.add_parser("keygen", help="create an Ed25519 signing key pair (county side)")
    p.add_argument("--out", required=True, metavar="DIR")
    p.set_defaults(func=_keygen)
    p = sub.add_parser("trust", help="trust a public key (only while no key is trusted yet)")
    p.add_argument("pubfile", metavar="PUBFILE")
    p.set_defaults(func=_trust)
