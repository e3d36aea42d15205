"""The app package: a signed folder of wheels that updates the kiosk's own software.

Format (version 1)::

    PACKAGE/
      app-manifest.json   UTF-8 JSON (below)
      app-manifest.sig    64 bytes: raw Ed25519 signature of app-manifest.json's exact bytes
      wheels/*.whl        the app's wheel (cunwu_kiosk-<version>-…) and every dependency
      keylist/            optional: the newest signed key list (keylist.json, keylist.sig)

    {"type": "cunwu-kiosk-app", "format": 1, "name": "cunwu-kiosk", "version": "0.2.0",
     "arch": "aarch64", "python": "3.11", "issued_at": "…Z", "signer_key_id": "…16 hex…",
     "files": [{"path": "wheels/…whl", "size": 123, "sha256": "…64 hex…"}, …]}

It is signed with an **app-signing key** (role ``app`` in the trusted key lists,
kiosk.cache.keys), never with the data key. ``arch`` is the machine the binary wheels are
for (``x86_64``, ``aarch64``; ``any`` when every wheel is pure Python); ``python`` the
CPython the wheels need (``3.11``; ``3`` when pure). ``files`` lists every file of the
folder except the manifest and its signature, and nothing else may be there: pip picks
the highest version it finds, so one extra wheel could replace a dependency.

County side: :func:`build` (``kiosk app build``). Kiosk side: :func:`read` checks the
signature and the fields without hashing; :func:`verify_files` hashes.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from packaging.version import InvalidVersion, Version

from kiosk.cache import keys as K
from kiosk.cache.fsutil import fsync_dir, fsync_file
from kiosk.errors import Exit, KioskError

TYPE = "cunwu-kiosk-app"
FORMAT = 1
NAME = "cunwu-kiosk"
MANIFEST = "app-manifest.json"
SIG = "app-manifest.sig"
WHEELS = "wheels"
KEYLIST = "keylist"
#: the wheel that carries the app itself
APP_WHEEL = re.compile(r"^cunwu_kiosk-([^-]+)-.*\.whl$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
#: where packages sit on a stick (anywhere in the first levels is found too)
STICK_FOLDER = "cunwu-kiosk-app"


class AppPackageError(KioskError):
    """An app package is refused or cannot be built or installed; nothing was changed."""

    exit_code = Exit.APP_UPDATE
    default_zh = "软件更新包无效，未安装，原软件不变"


@dataclass(frozen=True)
class AppPackage:
    """A package whose signature and manifest were checked (files not hashed yet)."""

    path: Path
    manifest: dict
    manifest_bytes: bytes
    signer_key_id: str

    @property
    def version(self) -> str:
        return self.manifest["version"]

    @property
    def arch(self) -> str:
        return self.manifest["arch"]

    @property
    def python(self) -> str:
        return self.manifest["python"]

    @property
    def digest(self) -> str:
        """SHA-256 of the signed manifest (names the installed venv)."""
        return hashlib.sha256(self.manifest_bytes).hexdigest()


def wheel_tags(filename: str) -> tuple[str, str, str]:
    """``(python, abi, platform)`` tags of a wheel file name (PEP 427)."""
    parts = filename[:-4].split("-")
    if not filename.endswith(".whl") or len(parts) not in (5, 6):
        raise AppPackageError(f"{filename}: not a wheel file name")
    return parts[-3], parts[-2], parts[-1]


def wheel_arch(filename: str) -> str:
    """The machine a wheel is for: ``any``, ``x86_64``, ``aarch64``, or its platform tag."""
    plat = wheel_tags(filename)[2]
    if plat == "any":
        return "any"
    for arch in ("x86_64", "aarch64"):
        if all(p.endswith("_" + arch) for p in plat.split(".")):
            return arch
    return plat


def wheel_python(filename: str) -> str:
    """``3.11`` for a ``cp311`` wheel, ``3`` for a pure one."""
    py, abi, _ = wheel_tags(filename)
    m = re.match(r"^cp3(\d+)$", py.split(".")[0])
    return f"3.{m.group(1)}" if m else "3"


def _sha256(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def build(wheels_dir: Path, key: Path, out: Path, keylist: Path | None = None) -> dict:
    """Make a signed package from a folder of wheels (deploy/make-wheelhouse.sh's
    ``OUT/<arch>/wheels``) with the app-signing key ``key``. County side.

    Raises:
        AppPackageError: no app wheel or several; wheels for two machines or two Pythons;
            ``out`` not empty.
        KeyError_: the key file is unusable.
    """
    wheels = sorted(p for p in Path(wheels_dir).iterdir() if p.suffix == ".whl")
    apps = [p for p in wheels if APP_WHEEL.match(p.name)]
    if len(apps) != 1:
        raise AppPackageError(f"{wheels_dir}: needs exactly one cunwu_kiosk wheel, found {len(apps)}",
                              "软件更新包须含且仅含一个本软件的安装包")
    version = APP_WHEEL.match(apps[0].name).group(1)
    archs = {wheel_arch(p.name) for p in wheels} - {"any"}
    pythons = {wheel_python(p.name) for p in wheels} - {"3"}
    if len(archs) > 1 or len(pythons) > 1:
        raise AppPackageError(f"{wheels_dir}: wheels for several machines or Pythons ({', '.join(sorted(archs | pythons))})",
                              "软件更新包混有不同机型的安装包")
    priv = K.load_private(key)
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AppPackageError(f"{out} exists and is not empty", f"输出文件夹 {out} 已存在且非空")
    (out / WHEELS).mkdir(parents=True)
    for p in wheels:
        shutil.copy2(p, out / WHEELS / p.name)
    if keylist:
        jpath, spath = K._keylist_files(Path(keylist))
        (out / KEYLIST).mkdir()
        shutil.copy2(jpath, out / KEYLIST / K.KEYLIST)
        shutil.copy2(spath, out / KEYLIST / K.KEYLIST_SIG)
    files = []
    for p in sorted(q for q in out.rglob("*") if q.is_file()):
        files.append({"path": p.relative_to(out).as_posix(), "size": p.stat().st_size, "sha256": _sha256(p)})
        fsync_file(p)
    doc = {"type": TYPE, "format": FORMAT, "name": NAME, "version": version,
           "arch": archs.pop() if archs else "any", "python": pythons.pop() if pythons else "3",
           "issued_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
           "signer_key_id": K.key_id(priv.public_key()), "files": files}
    data = (json.dumps(doc, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
    (out / MANIFEST).write_bytes(data)
    (out / SIG).write_bytes(priv.sign(data))
    for d in (out / WHEELS, out):
        fsync_dir(d)
    return doc


def read(path: Path, trusted: list[K.TrustedKey]) -> AppPackage:
    """Check ``path``'s signature (against app-signing keys ``trusted``) and manifest.

    Raises:
        AppPackageError: unreadable, signature by no trusted app key, or a malformed or
            unknown manifest (the Chinese line says which, for the technician).
    """
    path = Path(path)
    try:
        data, sig = (path / MANIFEST).read_bytes(), (path / SIG).read_bytes()
    except OSError as exc:
        raise AppPackageError(f"{path}: cannot read the package ({exc.strerror})", "无法读取软件更新包") from None
    signer = next((k for k in trusted if len(sig) == 64 and K.verify(k.public_key, sig, data)), None)
    if signer is None:
        raise AppPackageError(f"{path}: the signature does not verify with any trusted app-signing key",
                              "软件更新包的签名无效或签名密钥不受信任，未安装，原软件不变")
    try:
        doc = json.loads(data.decode("utf-8"))
        assert isinstance(doc, dict) and doc.get("type") == TYPE and doc.get("name") == NAME
    except (AssertionError, UnicodeDecodeError, ValueError):
        raise AppPackageError(f"{path}: not a kiosk app package", "软件更新包格式错误") from None
    if doc.get("format") != FORMAT:
        raise AppPackageError(f"{path}: unknown package format {doc.get('format')!r}", "软件更新包格式未知，请先升级终端软件")
    try:
        Version(str(doc.get("version")))
        for f in ("arch", "python", "issued_at"):
            assert isinstance(doc.get(f), str) and doc[f]
        assert isinstance(doc.get("files"), list) and doc["files"]
        for e in doc["files"]:
            p = e["path"]
            assert isinstance(p, str) and _safe_rel(p)
            assert isinstance(e["size"], int) and e["size"] >= 0 and _HEX64.match(e["sha256"])
        assert any(APP_WHEEL.match(Path(e["path"]).name) and Path(e["path"]).parent.as_posix() == WHEELS
                   and APP_WHEEL.match(Path(e["path"]).name).group(1) == doc["version"] for e in doc["files"])
    except (AssertionError, InvalidVersion, KeyError, TypeError):
        raise AppPackageError(f"{path}: malformed manifest", "软件更新包格式错误") from None
    return AppPackage(path, doc, data, signer.key_id)


def _safe_rel(p: str) -> bool:
    parts = p.split("/")
    return (not p.startswith("/") and "\\" not in p and all(x not in ("", ".", "..") for x in parts)
            and parts[0] in (WHEELS, KEYLIST) and len(parts) == 2)


def listed(pkg: AppPackage) -> list[str]:
    return [e["path"] for e in pkg.manifest["files"]]


def verify_files(pkg: AppPackage, progress: Callable[[int], None] | None = None) -> None:
    """Every listed file has its size and SHA-256, and no other file is in the folder.

    Raises:
        AppPackageError: a file missing, changed, truncated, extra, or not a plain file.
    """
    want = {e["path"]: e for e in pkg.manifest["files"]}
    have = set()
    for dirpath, dirnames, filenames in os.walk(pkg.path):
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = Path(dirpath, name).relative_to(pkg.path).as_posix()
            if rel not in (MANIFEST, SIG):
                have.add(rel)
    if extra := sorted(have - set(want)):
        raise AppPackageError(f"{pkg.path}: files not in the manifest: {', '.join(extra[:3])}",
                              "软件更新包中有未签名的文件，未安装，原软件不变")
    for rel, e in want.items():
        p = pkg.path / rel
        if p.is_symlink() or not p.is_file():
            raise AppPackageError(f"{pkg.path}: {rel} is missing or not a plain file",
                                  "软件更新包不完整，未安装，原软件不变")
        if p.stat().st_size != e["size"]:
            raise AppPackageError(f"{pkg.path}: {rel} has {p.stat().st_size} bytes, the manifest says {e['size']}",
                                  "软件更新包已损坏或被改动，未安装，原软件不变")
        if _sha256(p, progress) != e["sha256"]:
            raise AppPackageError(f"{pkg.path}: {rel} does not match its SHA-256",
                                  "软件更新包已损坏或被改动，未安装，原软件不变")


def find(root: Path, depth: int = 4) -> list[Path]:
    """Folders holding an app manifest, up to ``depth`` levels below ``root`` (a stick)."""
    out = []
    root = Path(root)

    def walk(d: Path, level: int) -> None:
        if (d / MANIFEST).is_file():
            out.append(d)
            return
        if level >= depth:
            return
        try:
            subs = sorted(p for p in d.iterdir() if p.is_dir() and not p.is_symlink())
        except OSError:
            return
        for p in subs:
            walk(p, level + 1)

    walk(root, 0)
    return out
