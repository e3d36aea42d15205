"""Phone viewer figures (``make bench-viewer``; prints JSON, asserts nothing):

- ``viewer_bytes``: the viewer's own files (uncompressed; and as sent with gzip_static);
- per scale, for a record of each kind opened from a receipt's URL with a cold cache over a
  throttled 1.6 Mbit/s, 150 ms link (Chromium's throttling, the worker included):
  ``data_bytes`` (manifest, signature, descriptor, tree blocks and database chunks as nginx sent
  them), ``all_bytes`` (with the viewer's files) and ``seconds`` until the record is shown.

Scales: ``village`` is the demo village's bundle. ``city`` is the public database of 431382
涟源市's 506 village-level units, made by copying the demo village's public records to every
unit (ids prefixed with the unit's code), hashed and described like a built one and signed with
the same throw-away key: the county-scale bundle's kiosk side (scrypt over a million people)
takes far longer to build and is not what phones read.

Targets (issue 15): viewer ≤ 1.5 MB; data ≤ 300 KB per record at both scales; ≤ 4 s.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from nginx_server import Nginx  # noqa: E402
from viewer_browser import Throttle, browser, fresh, open_page  # noqa: E402

from kiosk import viewer  # noqa: E402
from kiosk.cache import bundle as B  # noqa: E402
from kiosk.cache import keys as keymod  # noqa: E402
from kiosk.county import public  # noqa: E402
from kiosk.cli import main as cli  # noqa: E402

VILLAGE = "431382111249"
KINDS = {"finance": "finance", "project": "projects", "asset": "assets", "service": "services", "power": "powers"}


def run(*args) -> None:
    if cli([str(a) for a in args]) != 0:
        raise SystemExit(f"kiosk {' '.join(map(str, args))} failed")


def demo_bundle(work: Path) -> tuple[Path, Path]:
    run("demo-data", "--village", VILLAGE, "--out", work / "src")
    run("keygen", "--out", work / "bench-test-key")
    run("bundle", "build", work / "src", "--key", work / "bench-test-key/signing.key", "--seq", 1,
        "--out", work / "village", "--id-hash-n", 1024, "--quiet")
    return work / "village", work / "bench-test-key"


def city_bundle(village: Path, key: Path, work: Path) -> Path:
    """The village bundle with its public database replaced by the 506-unit one (module doc)."""
    from kiosk.bench.citydata import county_villages

    out = work / "city"
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(village, out)
    db = out / public.DATABASE
    db.unlink()
    src = village / public.DATABASE
    con = sqlite3.connect(db, isolation_level=None)
    con.execute(f"PRAGMA page_size={public.CHUNK}")
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("ATTACH ? AS v", (f"file:{src}?mode=ro",))
    objs = con.execute("SELECT type, name, sql FROM v.sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%'").fetchall()
    for t, _, sql in objs:
        if t == "table":
            con.execute(sql)
    con.execute("BEGIN")
    con.execute("INSERT INTO meta SELECT * FROM v.meta")
    con.execute("INSERT INTO accounts SELECT * FROM v.accounts")
    codes = county_villages()
    rec_tables = ("finance", "projects", "assets", "services", "powers")
    for i, code in enumerate(codes):
        q = code + "/"
        con.execute("INSERT INTO villages SELECT ?, name, official_name, township_code, township_name, county_code,"
                    " county_name, profile_json FROM v.villages", (code,))
        for t in rec_tables:
            cols = [r[1] for r in con.execute(f"PRAGMA v.table_info({t})")]
            n = con.execute(f"SELECT count(*) FROM v.{t}").fetchone()[0]
            sel = ", ".join(f"seq + {i * n}" if c == "seq" else "?" if c == "village_code" else f"? || {c}" if c in ("id", "power_id") else c
                            for c in cols)
            args = [code if c == "village_code" else q for c in cols if c in ("village_code", "id", "power_id")]
            con.execute(f"INSERT INTO {t} ({', '.join(cols)}) SELECT {sel} FROM v.{t}", args)
        con.execute("INSERT INTO project_stages SELECT ? || project_id, ord, stage, date, note FROM v.project_stages", (q,))
        con.execute("INSERT INTO power_steps SELECT ? || power_id, step_id, ord, label, kind FROM v.power_steps", (q,))
        con.execute("INSERT INTO power_edges SELECT ? || power_id, src, dst, label FROM v.power_edges", (q,))
    con.execute("COMMIT")
    con.execute("DETACH v")
    for t, _, sql in objs:
        if t == "index":
            con.execute(sql)
    con.execute("ANALYZE")
    con.close()
    public.describe(out, codes)
    m = json.loads((out / B.MANIFEST).read_bytes())
    m["scope"], m["seq"] = "431382", 1
    m.pop("village", None)
    m["villages"] = codes
    for f in m["files"]:
        if f["path"] in public.FILES:
            f["size"] = (out / f["path"]).stat().st_size
            f["sha256"] = B.sha256_file(out / f["path"])
    mb = (json.dumps(m, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()
    (out / B.MANIFEST).write_bytes(mb)
    (out / B.SIGNATURE).write_bytes(keymod.load_private(key / "signing.key").sign(mb))
    (work / ".city-done").touch()  # a later --work run reuses it
    return out


def web_only(bundle: Path, web: Path, key: Path) -> None:
    """Publish without re-verifying the kiosk database (the city bundle's is the village's)."""
    # publish_web verifies every listed file: the city bundle lists the village's kiosk database
    # with its true hash, so verification passes.
    viewer.publish_web(bundle, web, [key / "signing.pub"])


def sample_ids(bundle: Path, village: str) -> dict[str, str]:
    con = sqlite3.connect(f"file:{bundle / public.DATABASE}?mode=ro", uri=True)
    try:
        out = {}
        for kind, table in KINDS.items():
            n = con.execute(f"SELECT count(*) FROM {table} WHERE village_code = ?", (village,)).fetchone()[0]
            out[kind] = con.execute(f"SELECT id FROM {table} WHERE village_code = ? ORDER BY seq LIMIT 1 OFFSET ?",
                                    (village, n // 2)).fetchone()[0]
        return out
    finally:
        con.close()


def measure(d, nginx: Nginx, scope: str, village: str, ids: dict[str, str]) -> dict:
    rows = {}
    for kind, rid in ids.items():
        fresh(d)
        slow = Throttle(d)
        url = f"{nginx.url}/{village}/#/r/{kind}/{rid.replace('/', '%2F')}?v=1"
        nginx.clear_log()
        t = time.monotonic()
        state = open_page(d, url, timeout=120)
        took = time.monotonic() - t
        slow.close()
        log = nginx.log()
        data = sum(ln.bytes_sent for ln in log if f"/{scope}/" in ln.path)
        rows[kind] = {"state": state.split(":")[0], "seconds": round(took, 2), "data_bytes": data,
                      "all_bytes": sum(ln.bytes_sent for ln in log), "requests": len(log)}
    return {"records": rows, "data_bytes_max": max(r["data_bytes"] for r in rows.values()),
            "seconds_median": statistics.median(r["seconds"] for r in rows.values()),
            "seconds_max": max(r["seconds"] for r in rows.values())}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=["village", "city", "both"], default="both")
    ap.add_argument("--work", help="working folder (default: a temporary one)")
    args = ap.parse_args()
    if not viewer.built():
        raise SystemExit("the phone viewer is not built: make viewer")
    work = Path(args.work or tempfile.mkdtemp(prefix="bench-viewer-"))
    work.mkdir(parents=True, exist_ok=True)
    dist = viewer.dist_dir()
    import gzip

    figures = {"viewer_bytes": viewer.viewer_bytes(),
               "viewer_bytes_gzip": sum(len(gzip.compress((dist / a).read_bytes(), 9)) if a in viewer.GZIPPED
                                        else (dist / a).stat().st_size for a in viewer.ASSETS)}
    village, key = (work / "village", work / "bench-test-key") if (work / "village").exists() else demo_bundle(work)
    scales = {"village": (village, VILLAGE, VILLAGE)}
    if args.scale in ("city", "both"):
        city = work / "city" if (work / ".city-done").exists() else city_bundle(village, key, work)
        scales["city"] = (city, "431382", "431382111249")
    if args.scale == "city":
        scales.pop("village")
    d = browser()
    try:
        for name, (b, scope, vcode) in scales.items():
            with Nginx(work / f"nginx-{name}") as n:
                if not (n.root / "viewer").exists():
                    web_only(b, n.root, key)
                figures[name] = {"public_db_bytes": (b / public.DATABASE).stat().st_size,
                                 **measure(d, n, scope, vcode, sample_ids(b, vcode))}
    finally:
        d.quit()
    print(json.dumps(figures, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
