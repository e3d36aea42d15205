"""The link a receipt's QR code carries to the phone viewer (kiosk/receipts.py ``ViewerLink``):
``viewer.base_url`` from the config and the id of the trusted county key that signed the
version shown, found by checking the installed manifest's signature (not by believing its
informative ``key_id`` field)."""
from __future__ import annotations

from pathlib import Path

from kiosk import config
from kiosk.cache import bundle as B
from kiosk.cache.keys import TrustStore, verify
from kiosk.receipts import ViewerLink


def signer_key_id(home: Path, version_dir: Path) -> str | None:
    """Id of the trusted key whose signature over ``version_dir/manifest.json`` verifies, or None."""
    mbytes = (Path(version_dir) / B.MANIFEST).read_bytes()
    sig = (Path(version_dir) / B.SIGNATURE).read_bytes()
    return next((k.key_id for k in TrustStore(home).keys() if verify(k.public_key, sig, mbytes)), None)


def for_mirror(home: Path, mirror, cfg: dict | None = None) -> ViewerLink | None:
    """The receipts' viewer link for the version ``mirror`` shows; None when ``viewer.base_url``
    is not set (receipts then print no QR code) or no trusted key verifies the manifest."""
    cfg = cfg if cfg is not None else config.load(home)
    base = ((cfg.get("viewer") or {}).get("base_url") or "").strip()
    if not base:
        return None
    kid = signer_key_id(home, mirror.version_dir)
    return ViewerLink(base, kid) if kid else None
