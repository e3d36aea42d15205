"""Kiosk side of the bundle format: is a manifest signed by a trusted key, and do a folder's
files match it? (docs/bundle-format.md, "What a kiosk accepts", steps 1–3, 8 and 9.)

:func:`verify_manifest` works on bytes alone (no file system, no network), like
python-tuf's trusted-metadata rules: the HTTP sync checks a downloaded manifest with it
before fetching any data, and the stick discovery and the install run the very same rules.
:func:`check_files` is the one check of a folder against a :class:`Manifest`.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable, Sequence

from kiosk.cache import keys as keymod
from kiosk.cache.bundle import (MANIFEST, MAX_MANIFEST_BYTES, SIGNATURE, SIGNATURE_BYTES, BundleError, Manifest,
                                sha256_file)


def verify_manifest(manifest_bytes: bytes, signature: bytes, trusted: Sequence[keymod.TrustedKey]) -> Manifest:
    """Check the signature over the exact ``manifest_bytes`` against every trusted key, then
    parse them (:meth:`Manifest.parse`). No file or network access.

    Raises:
        BundleError: manifest too large, no trusted key, a signature that is not 64 bytes
            or that no trusted key verifies, or a malformed manifest (one line each).
    """
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        raise BundleError("manifest.json is too large", "数据包清单过大")
    if not trusted:
        raise BundleError("no trusted key is configured (kiosk trust PUBFILE)", "终端尚未配置受信任的密钥")
    if len(signature) != SIGNATURE_BYTES:
        raise BundleError("signature must be 64 bytes (Ed25519)", "数据包签名无效")
    # Try every trusted key instead of believing the unsigned key_id field.
    if not any(keymod.verify(k.public_key, signature, manifest_bytes) for k in trusted):
        raise BundleError("signature does not verify with any trusted key (changed manifest or unknown key)",
                          "签名验证失败：清单被改动或签名密钥不受信任")
    return Manifest.parse(manifest_bytes)


def read_manifest(root: Path) -> tuple[bytes, bytes]:
    """``(manifest bytes, signature bytes)`` of the bundle folder ``root``, read no further
    than the format allows.

    Raises:
        BundleError: either file is missing, not a regular file, or too large.
    """
    root = Path(root)
    try:
        out = []
        for name, limit, zh in ((MANIFEST, MAX_MANIFEST_BYTES, "数据包清单"), (SIGNATURE, SIGNATURE_BYTES, "数据包签名")):
            st = os.lstat(root / name)
            if not stat.S_ISREG(st.st_mode):
                raise BundleError(f"{name} is not a regular file", f"{zh}不是普通文件")
            if name == MANIFEST and st.st_size > limit:
                raise BundleError("manifest.json is too large", "数据包清单过大")
            with open(root / name, "rb") as f:
                out.append(f.read(limit + 1))  # a longer signature is refused as not 64 bytes
    except FileNotFoundError as exc:
        raise BundleError(f"not a bundle: {Path(exc.filename).name} missing in {root}",
                          "不是有效的数据包：缺少清单或签名") from None
    return out[0], out[1]


def list_files(root: Path) -> set[str]:
    """Relative POSIX paths of the regular files under ``root``.

    Raises:
        BundleError: a symbolic link or special file is present (links could point outside).
    """
    found: set[str] = set()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            full = Path(dirpath) / name
            st = os.lstat(full)
            rel = full.relative_to(root).as_posix()
            if stat.S_ISLNK(st.st_mode):
                raise BundleError(f"bundle contains a link: {rel}", f"数据包含有链接文件 {rel}，拒绝")
            if stat.S_ISREG(st.st_mode):
                found.add(rel)
            elif not stat.S_ISDIR(st.st_mode):
                raise BundleError(f"bundle contains a special file: {rel}", f"数据包含有特殊文件 {rel}，拒绝")
    return found


def check_layout(m: Manifest, present: set[str]) -> None:
    """The files ``present`` (relative paths, :func:`list_files`) are exactly the listed ones
    plus the manifest and its signature.

    Raises:
        BundleError: a listed file is missing, or an unlisted one is present.
    """
    expected = {f.path for f in m.files} | {MANIFEST, SIGNATURE}
    if missing := sorted(expected - present):
        raise BundleError(f"file missing from bundle: {missing[0]}", f"数据包缺少文件 {missing[0]}")
    if extra := sorted(present - expected):
        raise BundleError(f"unexpected file in bundle: {extra[0]}", f"数据包含有多余文件 {extra[0]}")


def check_files(root: Path, m: Manifest, present: set[str] | None = None, hashes: bool = True,
                progress: Callable[[int], None] | None = None) -> None:
    """Check the folder ``root`` against ``m``: layout (:func:`check_layout`), then each
    listed file's size and, with ``hashes``, its SHA-256 (:func:`kiosk.cache.bundle.sha256_file`;
    ``progress(n)`` per chunk hashed). ``present`` saves listing the folder again.

    Raises:
        BundleError: the first defect found; sizes are compared before hashing, so a short
            copy says "truncated".
        OSError: a file cannot be read (e.g. the stick was pulled).
    """
    root = Path(root)
    check_layout(m, list_files(root) if present is None else present)
    for f in sorted(m.files, key=lambda e: e.path):
        size = (root / f.path).stat().st_size
        if size != f.size:
            raise BundleError(f"{f.path}: size {size} differs from manifest {f.size} (truncated or changed)",
                              f"文件 {f.path} 大小不符（不完整或被改动）")
        if hashes and sha256_file(root / f.path, progress) != f.sha256:
            raise BundleError(f"{f.path}: SHA-256 differs from manifest",
                              f"文件 {f.path} 校验值不符（被改动）")


def verify_bundle(root: Path, trusted: Sequence[keymod.TrustedKey],
                  progress: Callable[[int], None] | None = None) -> Manifest:
    """Verify a bundle folder: no links or special files, signature, manifest, layout and
    every file's size and SHA-256. Returns the manifest.

    Raises:
        BundleError: any defect; the message names it in one line.
    """
    root = Path(root)
    if not root.is_dir():
        raise BundleError(f"{root}: not a bundle folder", f"找不到数据包文件夹 {root}")
    present = list_files(root)
    m = verify_manifest(*read_manifest(root), trusted)
    check_files(root, m, present, progress=progress)
    return m
