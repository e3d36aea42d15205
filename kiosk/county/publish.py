"""County side: lay a built bundle out for a static web server or a USB stick (docs/updates.md).

Published layout (the same tree a kiosk's HTTP sync and a technician's stick read)::

    DEST/index.json                         # listing, informational only (unsigned)
    DEST/<scope>/latest/manifest.json       # a copy of the newest version's signed manifest
    DEST/<scope>/latest/manifest.sig
    DEST/<scope>/v000007/…                  # one folder per version: the bundle as built
"""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

from kiosk.cache.bundle import INDEX, LATEST, MANIFEST, SIGNATURE, BundleError, Manifest, version_dir
from kiosk.cache.fsutil import atomic_write_bytes, atomic_write_json, read_json


def publish(bundle_dir: Path, dest_root: Path) -> Path:
    """Copy a built bundle into the published layout under ``dest_root`` (a web root, an
    object-store sync folder or a USB stick) and point ``<scope>/latest`` at it.

    Order: the version folder first (copied to a temporary name, then renamed), then
    ``latest/manifest.sig`` and ``latest/manifest.json``, then ``index.json``. A kiosk that
    fetches in between sees a signature mismatch and simply retries at its next sync.

    Returns the version folder. Raises BundleError if ``bundle_dir`` is not a bundle or that
    version is already published with different content.
    """
    bundle_dir, dest_root = Path(bundle_dir), Path(dest_root)
    try:
        mbytes = (bundle_dir / MANIFEST).read_bytes()
        sig = (bundle_dir / SIGNATURE).read_bytes()
    except FileNotFoundError:
        raise BundleError(f"{bundle_dir}: not a bundle folder", f"找不到数据包 {bundle_dir}") from None
    m = Manifest.parse(mbytes)
    sdir = dest_root / m.scope
    vdir = sdir / version_dir(m.seq)
    if vdir.exists():
        if (vdir / MANIFEST).read_bytes() != mbytes:
            raise BundleError(f"{vdir} already holds a different bundle with seq {m.seq}",
                              f"第{m.seq}版 已发布且内容不同，拒绝覆盖")
    else:
        tmp = sdir / f".{vdir.name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.copytree(bundle_dir, tmp)
        os.replace(tmp, vdir)
    latest = sdir / LATEST
    latest.mkdir(parents=True, exist_ok=True)
    cur = latest / MANIFEST
    cur_seq = Manifest.parse(cur.read_bytes()).seq if cur.exists() else 0
    if m.seq >= cur_seq:
        old_mtime = cur.stat().st_mtime if cur.exists() else 0
        atomic_write_bytes(latest / SIGNATURE, sig)
        atomic_write_bytes(cur, mbytes)
        # Static servers derive ETags from mtime (whole seconds) and size; two manifests of
        # equal length published within one second would get the same ETag and kiosks would
        # answer 304 for the new one. Keep mtime strictly rising.
        t = max(time.time(), int(old_mtime) + 1)
        os.utime(cur, (t, t))
    idx_path = dest_root / INDEX
    idx = read_json(idx_path, {}) or {}
    scopes = idx.setdefault("scopes", {})
    ent = scopes.setdefault(m.scope, {})
    ent["latest_seq"] = max(m.seq, int(ent.get("latest_seq", 0)))
    ent["versions"] = sorted(set(ent.get("versions", [])) | {version_dir(m.seq)})
    if m.village_name:
        ent["name"] = m.village_name
    idx["format_version"] = 1
    atomic_write_json(idx_path, idx)
    return vdir
