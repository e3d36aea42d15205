"""Ed25519 signing keys (cryptography), the kiosk's trust store and signed key lists.

Files: ``signing.key`` is PKCS#8 PEM (unencrypted; keep it on the county side only),
``signing.pub`` is SubjectPublicKeyInfo PEM. A key's id is the first 16 hex digits of the
SHA-256 of its 32 raw public bytes. The trust store is ``KIOSK_HOME/trust/keys.json``.

A key list (docs/bundle-format.md, "Key lists") is a folder with ``keylist.json`` and
``keylist.sig`` (64-byte Ed25519 signature over the exact bytes of keylist.json) made on
the county side by :func:`build_keylist`. A kiosk applies it (:meth:`TrustStore.rotate`)
only if a currently trusted key signed it and its ``seq`` is above the last applied one,
so an old key list cannot be replayed to bring back a retired key.

Roles: each trusted key has roles. ``data`` keys sign bundles and key lists; ``app`` keys
sign app packages (kiosk.cache.apppackage), so a stolen app key cannot sign data and the
other way round. An entry without ``roles`` (every key list and trust store written before
roles existed) means ``["data"]``, so those stay valid as they were. A key list that names
any other role is written as version 2, which older kiosks refuse instead of trusting an
app key for data. Only data keys go into the record beside the high-water mark that
installed versions are verified against (:func:`verification_keys`).
"""
from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from kiosk.cache import highwater
from kiosk.cache.fsutil import atomic_write_json, fsync_dir, fsync_file, read_json, writing
from kiosk.errors import Exit, KioskError


class KeyError_(KioskError):
    """A key file is missing or not an Ed25519 key, or the trust store refuses a change."""

    exit_code = Exit.KEYS
    default_zh = "密钥有误"


DATA, APP = "data", "app"
#: the roles of a key entry that names none
DEFAULT_ROLES = (DATA,)


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    public_key: Ed25519PublicKey
    label: str = ""
    roles: tuple[str, ...] = DEFAULT_ROLES


def _entry_roles(entry: dict) -> tuple[str, ...]:
    """The roles of a key entry; raises ValueError unless absent or a non-empty list of names."""
    roles = entry.get("roles")
    if roles is None:
        return DEFAULT_ROLES
    if not isinstance(roles, list) or not roles or not all(isinstance(r, str) and r for r in roles):
        raise ValueError("roles must be a non-empty list of names")
    return tuple(sorted(set(roles)))


def _record_id(kid: str, roles: tuple[str, ...]) -> str:
    """The id kept in the high-water key record: ``kid`` for a data key (as before roles),
    ``kid/app`` etc. otherwise, so a role changed by hand no longer matches the record."""
    return kid if tuple(roles) == DEFAULT_ROLES else f"{kid}/{'+'.join(sorted(roles))}"


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


KEYLIST = "keylist.json"
KEYLIST_SIG = "keylist.sig"
KEYLIST_TYPE = "cunwu-kiosk-keylist"
KEYLIST_VERSION = 1
#: a key list with roles other than data (readers of version 1 would take them for data keys)
KEYLIST_VERSION_ROLES = 2
KEYLIST_VERSIONS = (KEYLIST_VERSION, KEYLIST_VERSION_ROLES)


def build_keylist(signing_key: Path, pubs: list[Path], seq: int, out: Path,
                  app_pubs: list[Path] = ()) -> dict:
    """Write a signed key list folder ``out`` (county side). Labels are ``folder/file`` names.
    ``pubs`` are data keys; ``app_pubs`` app-signing keys (a key in both gets both roles).
    Without app keys the list is version 1, exactly as before roles existed.

    Raises:
        KeyError_: bad key files, ``seq`` < 1, no keys, ``out`` not empty.
    """
    if seq < 1:
        raise KeyError_(f"key list seq must be ≥ 1, got {seq}", "密钥清单序号必须大于等于 1")
    if not pubs and not app_pubs:
        raise KeyError_("a key list must hold at least one key", "密钥清单不能为空")
    priv = load_private(signing_key)
    entries, by_id = [], {}
    for p, role in [(p, DATA) for p in pubs] + [(p, APP) for p in app_pubs]:
        pub = load_public(Path(p))
        kid = key_id(pub)
        if kid in by_id:
            by_id[kid]["roles"] = sorted(set(by_id[kid].get("roles", [DATA])) | {role})
            continue
        e = {"key_id": kid, "public_key": base64.b64encode(raw_public(pub)).decode(),
             "label": "/".join(Path(p).parts[-2:])}  # "county-2027/signing.pub"
        if role != DATA:
            e["roles"] = [role]
        by_id[kid] = e
        entries.append(e)
    has_roles = any(e.get("roles", [DATA]) != [DATA] for e in entries)
    for e in entries:
        if has_roles:
            e.setdefault("roles", [DATA])
        else:
            e.pop("roles", None)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise KeyError_(f"{out} exists and is not empty", f"输出文件夹 {out} 已存在且非空")
    doc = {"type": KEYLIST_TYPE, "version": KEYLIST_VERSION_ROLES if has_roles else KEYLIST_VERSION, "seq": seq,
           "issued_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
           "signer_key_id": key_id(priv.public_key()), "keys": entries}
    data = (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
    out.mkdir(parents=True, exist_ok=True)
    (out / KEYLIST).write_bytes(data)
    (out / KEYLIST_SIG).write_bytes(priv.sign(data))
    for f in (KEYLIST, KEYLIST_SIG):
        fsync_file(out / f)
    fsync_dir(out)
    return doc


def _keylist_files(path: Path) -> tuple[Path, Path]:
    path = Path(path)
    if path.is_dir():
        return path / KEYLIST, path / KEYLIST_SIG
    return path, path.with_name(KEYLIST_SIG)


def parse_keylist(data: bytes) -> tuple[dict, int, list[tuple[Ed25519PublicKey, str, tuple[str, ...]]]]:
    """Parse the exact bytes of a ``keylist.json`` (its signature is checked by the caller).

    Returns ``(document, seq, [(public key, label, roles), ...])``.

    Raises:
        KeyError_: not UTF-8 JSON (or nested too deeply), an unknown type or version, a
            ``seq`` that is not an integer, an entry whose ``key_id`` does not match its key.
    """
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or doc.get("type") != KEYLIST_TYPE:
            raise ValueError("not a key list")
        if type(doc.get("version")) is not int or doc["version"] not in KEYLIST_VERSIONS:  # not 1.0, not true
            raise KeyError_(f"unknown key list version {doc.get('version')!r}", "密钥清单版本未知，请升级终端软件")
        seq = doc["seq"]
        if not isinstance(seq, int) or isinstance(seq, bool):
            raise ValueError("seq is not an integer")
        new = []
        for e in doc["keys"]:
            pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(e["public_key"], validate=True))
            if e.get("key_id") != key_id(pub):
                raise KeyError_(f"key list entry {e.get('key_id')!r} does not match its public key", "密钥清单内容不一致")
            roles = _entry_roles(e)
            if doc["version"] == KEYLIST_VERSION and roles != DEFAULT_ROLES:
                raise KeyError_("a version 1 key list cannot give a key other roles than data", "密钥清单格式错误")
            new.append((pub, str(e.get("label", "")), roles))
    except KeyError_:
        raise
    except (KeyError, TypeError, ValueError, UnicodeDecodeError, RecursionError, AttributeError):
        raise KeyError_("key list is malformed", "密钥清单格式错误") from None
    if not new:
        raise KeyError_("a key list must hold at least one key", "密钥清单不能为空")
    return doc, seq, new


class TrustStore:
    """Trusted public keys of one kiosk (``KIOSK_HOME/trust/keys.json``)."""

    def __init__(self, home: Path):
        self.home = Path(home)
        self.path = self.home / "trust" / "keys.json"

    def _data(self) -> dict:
        try:
            data = read_json(self.path, {"keys": []})
        except ValueError:
            raise KeyError_(f"{self.path} is damaged", "受信任密钥文件已损坏，请技术人员处理") from None
        return data if isinstance(data, dict) else {"keys": []}

    def keys(self, role: str | None = DATA) -> list[TrustedKey]:
        """Trusted keys with ``role`` (default: data keys, the ones that sign bundles and
        key lists); ``role=None``: every key."""
        out = []
        try:
            for k in self._data().get("keys", []):
                pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(k["public_key"]))
                out.append(TrustedKey(key_id(pub), pub, k.get("label", ""), _entry_roles(k)))
        except (KeyError, TypeError, ValueError, AttributeError):
            raise KeyError_(f"{self.path} is damaged", "受信任密钥文件已损坏，请技术人员处理") from None
        return [k for k in out if role is None or role in k.roles]

    def keylist_seq(self) -> int:
        """Sequence number of the last key list applied (0: none)."""
        return int(self._data().get("keylist_seq", 0))

    def _write(self, keys: list[tuple], keylist_seq: int | None = None, how: str = "") -> None:
        """``keys``: ``(public key, label)`` (a data key) or ``(public key, label, roles)``."""
        keys = [(k[0], k[1], tuple(k[2]) if len(k) > 2 else DEFAULT_ROLES) for k in keys]
        now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        try:
            old = self._data()
        except KeyError_:  # a damaged file replaced through the PIN
            old = {"keys": []}
        added = {k.get("key_id"): k.get("added_at") for k in old.get("keys", []) if isinstance(k, dict)}
        seq = int(old.get("keylist_seq", 0)) if keylist_seq is None else keylist_seq
        b64 = {key_id(p): base64.b64encode(raw_public(p)).decode() for p, _, _ in keys}
        # only data keys verify installed versions (an app key must never pass for data)
        data_b64 = {key_id(p): b64[key_id(p)] for p, _, roles in keys if DATA in roles}
        # keys a signed key list takes away stay able to verify the versions they signed
        retired = {k.get("key_id"): k.get("public_key") for k in old.get("keys", [])
                   if isinstance(k, dict) and isinstance(k.get("key_id"), str) and isinstance(k.get("public_key"), str)
                   and k["key_id"] not in data_b64 and DATA in _safe_roles(k)} if keylist_seq is not None else {}
        with writing(self.home):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.path, {
                "keylist_seq": seq, "changed_at": now, "changed_by": how,
                "keys": [{"key_id": key_id(p), "public_key": b64[key_id(p)], "label": lbl,
                          "added_at": added.get(key_id(p)) or now,
                          **({} if roles == DEFAULT_ROLES else {"roles": list(roles)})} for p, lbl, roles in keys]})
            # the record beside the high-water mark: a keys.json replaced by hand no longer matches it
            highwater.record_keys(self.home, [_record_id(key_id(p), roles) for p, _, roles in keys], seq, how,
                                  public_keys=data_b64, retired=retired)

    def trust_first(self, pub: Ed25519PublicKey, label: str = "", roles: tuple[str, ...] = DEFAULT_ROLES) -> str:
        """Trust ``pub`` (with ``roles``) when no key is trusted yet (first set-up). Returns its key id.

        Raises:
            KeyError_: a key is already trusted (changes go through signed key rotation
                or the technician PIN).
        """
        if self.keys(role=None):
            raise KeyError_(
                "a key is already trusted; change keys with a signed key list (kiosk trust --rotate KEYLIST) "
                "or with the technician PIN (--pin-stdin)",
                "已有受信任的密钥；更换密钥须使用已信任密钥签名的密钥清单或技术人员密码",
            )
        if highwater.is_set_up(self.home):
            raise KeyError_(
                "this kiosk was set up before (mirror state, versions, high-water or PIN files exist) but has no "
                "trusted key file; trusting a key now needs the technician PIN (--pin-stdin) or a signed key list",
                "本终端已配置过，但受信任密钥文件缺失；须使用技术人员密码或已签名的密钥清单")
        self._write([(pub, label, roles)], how="first set-up")
        return key_id(pub)

    def add(self, pub: Ed25519PublicKey, label: str = "", roles: tuple[str, ...] = DEFAULT_ROLES,
            how: str = "technician PIN") -> str:
        """Add a key with ``roles`` (caller has checked the technician PIN; a damaged keys.json
        is replaced); a key trusted already gets ``roles`` added. Returns its key id."""
        try:
            have = self.keys(role=None)
        except KeyError_:
            have = []
        old = next((k for k in have if k.key_id == key_id(pub)), None)
        roles = tuple(sorted(set(roles) | set(old.roles if old else ())))
        current = [(k.public_key, k.label, k.roles) for k in have if k.key_id != key_id(pub)]
        if old is None:  # a new key: recorded first, shown until a signed key list confirms it
            with writing(self.home):
                highwater.record_event(self.home, "key_added", key_id(pub))
        self._write(current + [(pub, label or (old.label if old else ""), roles)], how=how)
        return key_id(pub)

    def remove(self, kid: str) -> None:
        """Remove a key by id (caller has checked the technician PIN); the last key stays."""
        keys = self.keys(role=None)
        rest = [(k.public_key, k.label, k.roles) for k in keys if k.key_id != kid]
        if len(rest) == len(keys):
            raise KeyError_(f"key {kid} is not trusted", f"密钥 {kid} 不在受信任列表中")
        if not rest:
            raise KeyError_("the last trusted key cannot be removed", "不能删除最后一个受信任的密钥")
        with writing(self.home):
            highwater.record_event(self.home, "key_removed", kid)
        self.replace_all(rest, how="technician PIN")

    def rotate(self, keylist: Path) -> dict:
        """Apply a signed key list: replaces the trusted set. Returns the key list.

        Raises:
            KeyError_: unreadable, not signed by a currently trusted key, ``seq`` not above
                the last applied, malformed, or empty. Nothing changes then.
        """
        jpath, spath = _keylist_files(keylist)
        try:
            data, sig = jpath.read_bytes(), spath.read_bytes()
        except OSError as exc:
            raise KeyError_(f"cannot read key list {keylist}: {exc.strerror}", "无法读取密钥清单") from None
        trusted = self.keys(role=DATA)  # key lists are signed by data keys, as before roles
        if not trusted:
            raise KeyError_("no key is trusted yet; trust the first key with kiosk trust PUBFILE", "终端尚未配置受信任的密钥")
        if len(sig) != 64 or not any(verify(k.public_key, sig, data) for k in trusted):
            raise KeyError_("key list signature does not verify with any trusted key", "密钥清单签名无效或签名密钥不受信任")
        doc, seq, new = parse_keylist(data)
        if seq <= self.keylist_seq():
            raise KeyError_(f"key list seq {seq} is not newer than {self.keylist_seq()} (replayed or old)",
                            "密钥清单不是最新的，拒绝")
        if not new:
            raise KeyError_("a key list must hold at least one key", "密钥清单不能为空")
        self._write(new, keylist_seq=seq, how=f"key list {seq}")
        with writing(self.home):  # the county's signature confirms what was changed with the PIN before
            highwater.confirm_events(self.home, seq)
        return doc

    def replace_all(self, keys: list[tuple], how: str = "") -> None:
        """Replace the trusted set: ``(public key, label[, roles])`` (callers must have
        authorised the change)."""
        if not keys:
            raise KeyError_("a key list must hold at least one key", "密钥清单不能为空")
        self._write(keys, how=how)


def _safe_roles(entry: dict) -> tuple[str, ...]:
    try:
        return _entry_roles(entry)
    except ValueError:
        return ()


def _decode_key(kid: str, b64: str) -> TrustedKey | None:
    try:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except (ValueError, TypeError):
        return None
    return TrustedKey(kid, pub) if key_id(pub) == kid else None


def verification_keys(home: Path) -> list[TrustedKey]:
    """The keys an *installed* version's signature is checked against (kiosk/cache/install.py
    ``verify_version``): the trusted keys as recorded beside the high-water mark by the
    kiosk's own code (first set-up, technician PIN, signed key list), plus the keys a signed
    key list retired since (their versions stay verifiable after a rotation).

    Not ``trust/keys.json`` alone: a key added there by hand (reported by
    :func:`keys_problem`) must not make data signed with it pass. A kiosk whose record holds
    no public keys yet (set up before the record did) uses the keys of keys.json that the
    record names.
    """
    rec = highwater.read(home)["keys"]
    if rec and isinstance(rec.get("public_keys"), dict):
        pairs = {**(rec.get("retired") or {}), **rec["public_keys"]}
        return [k for k in (_decode_key(kid, b) for kid, b in pairs.items()
                            if isinstance(kid, str) and isinstance(b, str)) if k]
    try:
        have = TrustStore(home).keys()
    except KeyError_:
        return []
    return [k for k in have if k.key_id in (rec.get("ids") or [])] if rec else have


def keys_problem(home: Path) -> tuple[str, str] | None:
    """``(English, Chinese)`` when ``trust/keys.json`` is damaged, missing on a kiosk that
    was set up, or differs from the key record kept beside the high-water mark (changed
    outside a signed rotation or the technician PIN); None when it matches."""
    store = TrustStore(home)
    try:
        ids = sorted(_record_id(k.key_id, k.roles) for k in store.keys(role=None))
    except KeyError_:
        return (f"{store.path} is damaged", "受信任密钥文件已损坏，请联系技术人员")
    hw = highwater.read(home)
    rec = hw["keys"]
    if not ids and (rec or highwater.is_set_up(home)):
        return (f"{store.path} is missing or empty on a kiosk that was set up", "受信任密钥文件缺失，请联系技术人员")
    if hw["keys_disagree"] or (rec is not None and sorted(rec.get("ids") or []) != ids):
        return ("trusted keys changed outside a signed rotation or the technician PIN "
                f"(recorded {', '.join(sorted(rec.get('ids') or [])) or 'none'}; now {', '.join(ids) or 'none'})",
                "受信任密钥未经签名轮换或技术人员密码被更改，请联系技术人员")
    return None
