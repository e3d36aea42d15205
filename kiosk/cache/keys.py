"""Ed25519 signing keys (cryptography) and the kiosk's trust store.

Files: ``signing.key`` is PKCS#8 PEM (unencrypted; keep it on the county side only),
``signing.pub`` is SubjectPublicKeyInfo PEM. A key's id is the first 16 hex digits of the
SHA-256 of its 32 raw public bytes. The trust store is ``KIOSK_HOME/trust/keys.json``.
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.cache.fsutil import atomic_write_json, read_json
from kiosk.errors import KioskError


class KeyError_(KioskError):
    """A key file is missing or not an Ed25519 key, or the trust store refuses a change."""

    default_zh = "密钥有误"


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: Ed25519PublicKey
    label: str = ""


def key_id(pub: Ed25519PublicKey) -> str:
    raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate(out_dir: Path) -> tuple[Path, Path]:
    """Write ``signing.key`` (mode 0600) and ``signing.pub`` into ``out_dir``; refuse to overwrite."""
    out_dir.mkdir(parents=True, exist_ok=True)
    kpath, ppath = out_dir / "signing.key", out_dir / "signing.pub"
    if kpath.exists() or ppath.exists():
        raise KeyError_(f"{out_dir} already holds a key; refusing to overwrite", "该文件夹已有密钥，不覆盖")
    priv = Ed25519PrivateKey.generate()
    pem = priv.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    fd = os.open(str(kpath), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    ppath.write_bytes(priv.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    return kpath, ppath


def load_private(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except FileNotFoundError:
        raise KeyError_(f"{path}: no such key file", "找不到签名密钥文件") from None
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"{path}: not a PEM private key ({exc})", "签名密钥文件无效") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyError_(f"{path}: not an Ed25519 key", "签名密钥不是 Ed25519")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except FileNotFoundError:
        raise KeyError_(f"{path}: no such public key file", "找不到公钥文件") from None
    except (ValueError, TypeError) as exc:
        raise KeyError_(f"{path}: not a PEM public key ({exc})", "公钥文件无效") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyError_(f"{path}: not an Ed25519 public key", "公钥不是 Ed25519")
    return key


def raw_public(pub: Ed25519PublicKey) -> bytes:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def verify(pub: Ed25519PublicKey, signature: bytes, data: bytes) -> bool:
    try:
        pub.verify(signature, data)
        return True
    except InvalidSignature:
        return False


class TrustStore:
    """Trusted public keys of one kiosk (``KIOSK_HOME/trust/keys.json``)."""

    def __init__(self, home: Path):
        self.path = Path(home) / "trust" / "keys.json"

    def keys(self) -> list[TrustedKey]:
        data = read_json(self.path, {"keys": []})
        out = []
        for k in data.get("keys", []):
            pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(k["public_key"]))
            out.append(TrustedKey(key_id(pub), pub, k.get("label", "")))
        return out

    def _write(self, keys: list[tuple[Ed25519PublicKey, str]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        atomic_write_json(self.path, {"keys": [
            {"key_id": key_id(p), "public_key": base64.b64encode(raw_public(p)).decode(), "label": lbl, "added_at": now}
            for p, lbl in keys
        ]})

    def trust_first(self, pub: Ed25519PublicKey, label: str = "") -> str:
        """Trust ``pub`` when no key is trusted yet (first set-up). Returns its key id.

        Raises:
            KeyError_: a key is already trusted (changes go through signed key rotation).
        """
        if self.keys():
            raise KeyError_(
                "a key is already trusted; change keys with a signed key list (kiosk trust --rotate KEYLIST)",
                "已有受信任的密钥；更换密钥须使用已信任密钥签名的密钥清单",
            )
        self._write([(pub, label)])
        return key_id(pub)

    def replace_all(self, keys: list[tuple[Ed25519PublicKey, str]]) -> None:
        """Replace the trusted set (callers must have authorised the change)."""
        if not keys:
            raise KeyError_("a key list must hold at least one key", "密钥清单不能为空")
        self._write(keys)
