"""The phone viewer (county side): static files that show a village's public records on a phone
and verify them in the browser, laid out beside the published bundles (docs/viewer.md).

:func:`publish_web` writes, under a web root::

    WEB/viewer/                      the app: app.js, worker.js, app.css, sql-wasm.wasm (+ .gz), LICENSES.txt
    WEB/viewer/keys.json             the county keys the viewer verifies signatures with
    WEB/index.html                   the list of villages published here
    WEB/<village>/index.html         ROOT/<village>/ opens the village's records
    WEB/<scope>/latest/manifest.*    the newest version's signed manifest
    WEB/<scope>/v000007/             manifest.json, manifest.sig and the public files (web/*) only

The kiosks' database (``data/village.sqlite``, with payments and applicant keys) is never
written here. The JavaScript is built from ``kiosk/viewer/src`` and pinned npm packages by
``make viewer`` into ``kiosk/viewer/dist`` (not committed).
"""
from __future__ import annotations

import base64
import gzip
import html
import json
import os
import shutil
import time
from importlib import resources
from pathlib import Path

from kiosk.cache import keys as keymod
from kiosk.cache.bundle import LATEST, MANIFEST, SIGNATURE, BundleError, version_dir
from kiosk.cache.fsutil import atomic_write_bytes, read_json
from kiosk.cache.verify import verify_bundle
from kiosk.county import public
from kiosk.errors import Exit, KioskError

ASSETS = ("app.js", "worker.js", "app.css", "sql-wasm.wasm", "LICENSES.txt")
#: served pre-compressed where the server allows (nginx ``gzip_static on``)
GZIPPED = ("app.js", "worker.js", "app.css", "sql-wasm.wasm")
VIEWER_DIR = "viewer"
KEYS_FILE = "keys.json"
VILLAGES_FILE = "villages.json"


class ViewerError(KioskError):
    """The viewer cannot be published (not built, no county key, a bundle it cannot show)."""

    exit_code = Exit.FAILED
    default_zh = "手机查看页面无法发布"


def dist_dir() -> Path:
    return Path(str(resources.files("kiosk.viewer").joinpath("dist")))


def built() -> bool:
    d = dist_dir()
    return all((d / a).is_file() for a in ASSETS)


def _keys(web_root: Path, pubkeys: list[Path]) -> list[dict]:
    """The published key list: keys already in ``viewer/keys.json`` plus ``pubkeys``."""
    have = (read_json(web_root / VIEWER_DIR / KEYS_FILE, {}) or {}).get("keys", [])
    by_id = {k["key_id"]: k for k in have if isinstance(k, dict) and "key_id" in k}
    for p in pubkeys:
        pub = keymod.load_public(Path(p))
        kid = keymod.key_id(pub)
        raw = keymod.raw_public(pub)
        by_id[kid] = {"key_id": kid, "public_key": base64.b64encode(raw).decode(), "label": Path(p).name}
    return [by_id[k] for k in sorted(by_id)]


def _trusted(keys: list[dict]) -> list[keymod.TrustedKey]:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    out = []
    for k in keys:
        pub = Ed25519PublicKey.from_public_bytes(base64.b64decode(k["public_key"]))
        out.append(keymod.TrustedKey(keymod.key_id(pub), pub))
    return out


def village_page(village: str, scope: str, name: str) -> bytes:
    """``ROOT/<village>/index.html``: loads the app with the village and the scope whose
    bundles cover it (the scope is only a pointer: the app checks the signed manifest covers
    the village)."""
    cfg = json.dumps({"root": "../", "scope": scope, "village": village}, ensure_ascii=False)
    title = html.escape(f"{name} · 村务公开")
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="format-detection" content="telephone=no">
<link rel="icon" href="data:,">
<title>{title}</title>
<link rel="stylesheet" href="../{VIEWER_DIR}/app.css">
</head>
<body>
<div id="app"><p class="loading" id="loading">正在下载并核验数据…</p></div>
<noscript><p>请在微信或手机浏览器中打开本页（需要开启 JavaScript）。</p></noscript>
<script>window.CUNWU = {cfg}; if (window.Worker) window.CUNWU.worker = new Worker("../{VIEWER_DIR}/worker.js");</script>
<script src="../{VIEWER_DIR}/app.js"></script>
</body>
</html>
""".encode("utf-8")


def index_page(villages: dict[str, dict]) -> bytes:
    items = "\n".join(f'<li><a href="{html.escape(code)}/">{html.escape(v.get("name", code))}</a> '
                      f'<small>{html.escape(code)}</small></li>' for code, v in sorted(villages.items()))
    return f"""<!doctype html>
<html lang="zh-CN">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>村务公开 · 手机查看</title><link rel="stylesheet" href="{VIEWER_DIR}/app.css"></head>
<body><header class="top"><h1>村务公开 · 手机查看</h1></header>
<main><ul class="villages">
{items}
</ul></main></body></html>
""".encode("utf-8")


def write_app(web_root: Path, keys: list[dict]) -> None:
    """Copy the built app into ``WEB/viewer/`` (with gzip copies) and write the key list."""
    if not built():
        raise ViewerError("the phone viewer is not built (run: make viewer)",
                          "手机查看页面尚未构建（请运行 make viewer）")
    vdir = web_root / VIEWER_DIR
    vdir.mkdir(parents=True, exist_ok=True)
    src = dist_dir()
    for a in ASSETS:
        data = (src / a).read_bytes()
        atomic_write_bytes(vdir / a, data)
        if a in GZIPPED:
            atomic_write_bytes(vdir / (a + ".gz"), gzip.compress(data, 9, mtime=0))
    atomic_write_bytes(vdir / KEYS_FILE, (json.dumps({"keys": keys}, ensure_ascii=False, indent=1) + "\n").encode())


def publish_web(bundle_dir: Path, web_root: Path, pubkeys: list[Path] = ()) -> Path:
    """Lay out what phones need from ``bundle_dir`` under ``web_root`` (see module doc).

    ``pubkeys``: county public key files to publish (added to those already published). The
    bundle must verify with one of them, so a viewer never ships a key that cannot check its data.

    Returns the web version folder. Raises ViewerError (not built, no key, the bundle has no
    public files) or BundleError (the bundle does not verify, or that version is already
    published with different content).
    """
    bundle_dir, web_root = Path(bundle_dir), Path(web_root)
    keys = _keys(web_root, list(pubkeys))
    if not keys:
        raise ViewerError("no county key for the phone viewer: give --pubkey COUNTY.pub",
                          "缺少县平台公钥，无法发布手机查看页面")
    m = verify_bundle(bundle_dir, _trusted(keys))
    listed = {f.path for f in m.files}
    if not set(public.FILES) <= listed:
        raise ViewerError(f"{bundle_dir}: the bundle has no public files for phones (built by an older version)",
                          "该数据包不含手机查看所需的公开数据，请用新版软件重新生成")
    write_app(web_root, keys)
    scope, seq = m.scope, m.seq
    sdir = web_root / scope
    vdir = sdir / version_dir(seq)
    files = [MANIFEST, SIGNATURE, *public.FILES]
    if vdir.exists():
        if (vdir / MANIFEST).read_bytes() != m.raw:
            raise BundleError(f"{vdir} already holds a different bundle with seq {seq}",
                                f"第{seq}版 已发布且内容不同，拒绝覆盖")
    else:
        tmp = sdir / f".{vdir.name}.tmp{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        for rel in files:
            (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(bundle_dir / rel, tmp / rel)
        os.replace(tmp, vdir)
    latest = sdir / LATEST
    latest.mkdir(parents=True, exist_ok=True)
    cur = latest / MANIFEST
    cur_seq = json.loads(cur.read_bytes())["seq"] if cur.exists() else 0
    if seq >= cur_seq:
        old_mtime = cur.stat().st_mtime if cur.exists() else 0
        atomic_write_bytes(latest / SIGNATURE, (bundle_dir / SIGNATURE).read_bytes())
        atomic_write_bytes(cur, m.raw)
        t = max(time.time(), int(old_mtime) + 1)  # rising mtime: static servers' ETags (docs/updates.md)
        os.utime(cur, (t, t))
    # one page per village covered, pointing at this scope
    names = _village_names(bundle_dir)
    vfile = web_root / VIEWER_DIR / VILLAGES_FILE
    known = read_json(vfile, {}) or {}
    for code, name in names.items():
        (web_root / code).mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(web_root / code / "index.html", village_page(code, scope, name))
        known[code] = {"name": name, "scope": scope}
    atomic_write_bytes(vfile, (json.dumps(known, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode())
    atomic_write_bytes(web_root / "index.html", index_page(known))
    return vdir


def _village_names(bundle_dir: Path) -> dict[str, str]:
    import sqlite3

    con = sqlite3.connect(f"file:{bundle_dir / public.DATABASE}?mode=ro", uri=True)
    try:
        return {c: f"{t}{n}" for c, n, t in con.execute("SELECT code, name, township_name FROM villages ORDER BY code")}
    finally:
        con.close()


def viewer_bytes() -> int:
    """Total size of the app's own files (uncompressed), for the benchmark."""
    return sum((dist_dir() / a).stat().st_size for a in ASSETS)
