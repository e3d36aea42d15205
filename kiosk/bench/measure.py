"""``kiosk bench``: build (or reuse) demo data at a scale, bundle it, install it, measure.

Each measured program runs as its own child process, so its peak RSS is its own
(``os.wait4``). Figures (keys of the JSON object):

* ``rows``: records per kind; ``bundle_mb``: database size; ``build_s``: ``kiosk bundle build``
  wall time (county side) with the scrypt cost ``id_hash_n`` the run used; ``distinct_ids``.
* ``import_s`` and ``import_phases``: the kiosk's install (copy, fsync, verify = SHA-256,
  check_db = SQLite quick_check ...), ``rss_mb_import``.
* ``copy_hash_s``: the same database copied with ``cp``, flushed with ``sync`` (the install
  fsyncs too) and hashed with ``sha256sum`` on the same disk: the physical reference.
* ``query_p99_ms``: ``list_page`` (first and next page of each section), ``detail`` (one
  record of each kind), ``search_2char``/``search_3char`` (substrings of shown text),
  ``flags_page`` (a page of the 监督提示 list, all rules or one, first or next, with the
  counts per rule), each over random villages; ``query_p50_ms`` the medians.
* ``flags_s``: the supervision flags' share of the build, measured apart (a focused
  measurement, as the CLI build has no phase timer): rule input, evaluation and inserting
  flags and coverage for every village of the source, summed; ``flags_share`` = flags_s /
  (build_s − flags_s), what the flags add to the build.
* ``ui_start_s`` / ``bare_kivy_start_s``: spawn to first frame of the kiosk (with the
  installed mirror) and of a hello-world Kivy app; ``ui_settled_s``: spawn until the kiosk
  has built every screen and prepared its sections (``KioskApp.settled``); ``nav_p99_ms``:
  tap to the first frame after the screen's data arrived over a walk through every screen,
  paced like a person (kiosk/bench/uichild.py); ``rss_mb_ui``, ``rss_mb_bare_kivy``.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from kiosk import search as S
from kiosk.cache.bundle import MANIFEST, Manifest

DEMO_VILLAGE = "431382111249"
TARGETS = ("import_s ≤ 2×copy_hash_s; query_p99_ms ≤ 50 (flags_page ≤ 20); nav_p99_ms ≤ 100; text_switch_ms ≤ 200; ui_start_s ≤ 1.5×bare; "
           "rss_mb_ui ≤ bare+100; flags_share ≤ 0.10")


def _say(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def _child(args: list[str], env: dict | None = None) -> tuple[float, float, str]:
    """Run a child; returns (spawn time.time(), peak RSS MB, stdout). Raises on failure."""
    t = time.time()
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    out, err = p.communicate()
    # communicate() reaped it; ru_maxrss of a single child comes from wait4 before reaping,
    # so children print their own RUSAGE_SELF peak in their BENCH line instead.
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, args[:4]))} failed ({p.returncode}): {err.strip()[-600:]}")
    return t, 0.0, out


def _bench_line(out: str) -> dict:
    for line in out.splitlines():
        if line.startswith("BENCH "):
            return json.loads(line[6:])
    raise RuntimeError("child printed no BENCH line")


def _p(values: list[float], q: float) -> float:
    v = sorted(values)
    return round(v[min(len(v) - 1, int(q * len(v)))], 2) if v else float("nan")


def prepare_source(scale: str, work: Path, seed: int, limit: int | None) -> Path:
    if scale == "village":
        from kiosk import demo_data

        src = work / "village-src"
        demo_data.write(DEMO_VILLAGE, src, seed)
        return src
    from kiosk.bench import citydata

    src = work / ("city-src" if not limit else f"city{limit}-src")
    t = time.perf_counter()
    m = citydata.write_city(src, seed, limit=limit, progress=_say)
    _say(f"source ready ({time.perf_counter() - t:.0f} s): {m.get('counts')}")
    return src


def build_bundle(src: Path, work: Path, scale: str, id_hash_n: int, rebuild: bool) -> dict:
    """Build with the CLI in a child (or reuse a previous build of the same source and cost)."""
    key = work / "bench-test-key"
    if not (key / "signing.key").exists():
        subprocess.run([sys.executable, "-m", "kiosk", "keygen", "--out", str(key)], check=True, capture_output=True)
    out = work / f"bundle-{src.name}-n{id_hash_n}"
    record = out.with_name(out.name + ".build.json")
    if out.exists() and record.exists() and not rebuild:
        _say(f"reusing {out}")
        return json.loads(record.read_text())
    shutil.rmtree(out, ignore_errors=True)
    _say(f"building {out} (id-hash-n {id_hash_n})")
    t0 = time.perf_counter()
    cmd = [sys.executable, "-c", "import resource, sys; from kiosk.cli import main; rc = main(sys.argv[1:]);"
           " print('BENCH {\"maxrss_kb\": %d}' % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss); sys.exit(rc)",
           "bundle", "build", str(src), "--key", str(key / "signing.key"), "--seq", "1", "--out", str(out),
           "--id-hash-n", str(id_hash_n)]
    _, _, stdout = _child(cmd)
    build_s = time.perf_counter() - t0
    db = out / "data" / "village.sqlite"
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    distinct = con.execute("SELECT count(*) FROM (SELECT holder_key FROM payments UNION SELECT applicant_key FROM services)").fetchone()[0]
    con.close()
    m = Manifest.parse((out / MANIFEST).read_bytes())
    rec = {"bundle": str(out), "key": str(key), "build_s": round(build_s, 1), "id_hash_n": id_hash_n,
           "rows": dict(m.counts), "scope": m.scope, "bundle_mb": round(db.stat().st_size / 2 ** 20, 1),
           "distinct_ids": distinct, "rss_mb_build": round(_bench_line(stdout)["maxrss_kb"] / 1024, 1)}
    record.write_text(json.dumps(rec, ensure_ascii=False, indent=1))
    return rec


def copy_hash(db: Path, work: Path) -> float:
    dst = work / "copy-reference.sqlite"
    dst.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(["cp", str(db), str(dst)], check=True)
    subprocess.run(["sync", str(dst)], check=True)
    subprocess.run(["sha256sum", str(dst)], check=True, capture_output=True)
    t = time.perf_counter() - t0
    dst.unlink()
    return round(t, 3)


def import_bundle(bundle: Path, key: Path, home: Path) -> dict:
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir(parents=True)
    env = {**os.environ, "KIOSK_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "kiosk", "trust", str(key / "signing.pub")], check=True,
                   capture_output=True, env=env)
    _, _, out = _child([sys.executable, "-m", "kiosk.bench.importchild", str(bundle), str(home)], env)
    return _bench_line(out)


def queries(home: Path, samples: int = 200, seed: int = 5) -> tuple[dict, dict]:
    """p99 and p50 in ms of the kiosk's queries over random villages of the installed mirror."""
    from kiosk.cache.mirror import open_current

    rnd = random.Random(seed)
    base = open_current(home)
    codes = [v["code"] for v in base.villages]
    t: dict[str, list[float]] = {"list_page": [], "detail": [], "search_2char": [], "search_3char": [],
                                 "flags_page": []}

    def timed(key, fn):
        t0 = time.perf_counter()
        fn()
        t[key].append((time.perf_counter() - t0) * 1000)

    con = base.con
    for i in range(samples):
        code = rnd.choice(codes)
        m = base.with_village(code)
        years = m.finance_years()
        y = rnd.choice(years) if years else 2025
        pages = [lambda: m.finance_page(y), lambda: m.services_page(), lambda: m.projects_page(),
                 lambda: m.assets_page()]
        timed("list_page", rnd.choice(pages))
        p = m.services_page()
        if p.next:
            timed("list_page", lambda: m.services_page(after=p.next))
        counts = m.flag_counts()
        rule = rnd.choice(sorted(counts)) if counts and rnd.random() < 0.5 else None
        timed("flags_page", lambda: (m.flag_counts(), m.flags_page(rule=rule)))
        fp = m.flags_page(rule=rule, limit=5)
        if fp.next:
            timed("flags_page", lambda: m.flags_page(rule=rule, after=fp.next))
        spans = S.village_spans(con, code)
        kind = rnd.choice(sorted(spans))
        lo, hi = spans[kind]
        row = con.execute("SELECT kind, record_id, body FROM search WHERE rowid = ?", (rnd.randint(lo, hi),)).fetchone()
        rid = row[1] if isinstance(row, tuple) else row["record_id"]
        get = {"finance": m.finance_get, "projects": m.project_get, "assets": m.asset_get,
               "services": m.service_get, "powers": m.power_get}[kind]
        timed("detail", lambda: get(rid))
        body = row[2] if isinstance(row, tuple) else row["body"]
        fields = [f.replace(" ", "").replace("*", "") for f in body.split(S.FIELD_SEP)]
        for n, key in ((2, "search_2char"), (3, "search_3char")):
            f = rnd.choice([f for f in fields if len(f) >= n] or ["村委"])
            j = rnd.randrange(0, len(f) - n + 1)
            timed(key, lambda: m.search(f[j:j + n]))
    base.close()
    return ({k: _p(v, 0.99) for k, v in t.items()}, {k: _p(v, 0.5) for k, v in t.items()})


def flags_time(src: Path) -> float:
    """Seconds the build spends on supervision flags for ``src`` (every village): rule input,
    evaluation, inserting flags and coverage (into an in-memory database with the schema)."""
    from importlib import resources

    from kiosk.cache import flagstore
    from kiosk.county import build as B
    from kiosk.records import load_rules, load_source
    from kiosk.rules import data as rule_data, defaults

    villages = B.village_sources(src)
    multi = villages is not None
    folders = list(villages.values()) if multi else [src]
    rs = (load_rules(src) if multi else None)
    con = sqlite3.connect(":memory:")
    con.executescript(resources.files("kiosk.cache").joinpath("schema.sql").read_text(encoding="utf-8"))
    total = 0.0
    for i, d in enumerate(folders, 1):
        s = load_source(d)
        rs = rs or s.rules or defaults()
        if multi:
            B._qualify_ids(s)
        t0 = time.perf_counter()
        flagstore.write_inputs(con, s.records["finance"], s.records["assets"])
        flagstore.write_village(con, rule_data.from_source(s), rs, s.explanations)
        total += time.perf_counter() - t0
        if i % 50 == 0:
            _say(f"flags timed for {i} villages")
    con.close()
    return round(total, 2)


def ui(home: Path, runs: int = 3) -> dict:
    """Start-up to first frame (median of ``runs``), navigation, peak RSS: kiosk vs bare Kivy."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    res: dict = {}
    for kind in ("bare", "app"):
        starts, settled, rss, nav, switch = [], [], [], {}, {}
        for _ in range(runs):
            args = [sys.executable, "-m", "kiosk.bench.uichild", kind] + ([str(home)] if kind == "app" else [])
            t, _, out = _child(args, {**env, "KIOSK_HOME": str(home)})
            b = _bench_line(out)
            starts.append(b["first_frame"] - t)
            if "settled" in b:
                settled.append(b["settled"] - t)
            rss.append(b["maxrss_kb"] / 1024)
            for k, v in b.get("nav_ms", {}).items():
                nav.setdefault(k, []).extend(v)
            for k, v in b.get("switch_ms", {}).items():
                switch.setdefault(k, []).extend(v)
        name = "bare_kivy" if kind == "bare" else "ui"
        res[f"{name}_start_s" if kind == "bare" else "ui_start_s"] = round(sorted(starts)[len(starts) // 2], 3)
        res[f"rss_mb_{name}"] = round(max(rss), 1)
        if kind == "app":
            res["ui_settled_s"] = round(sorted(settled)[len(settled) // 2], 3)
            allv = [x for v in nav.values() for x in v]
            res["nav_p99_ms"] = _p(allv, 0.99)
            res["nav_p99_ms_by_screen"] = {k: _p(v, 0.99) for k, v in sorted(nav.items())}
            res.update(switch_figures(switch))
    return res


def switch_figures(switch: dict) -> dict:
    """``text_switch_ms`` (p95 and max of a switch to 特大字 and back, target ≤ 200) and
    ``contrast_switch_ms`` (高对比 on and off) from the children's ``switch_ms``."""
    if not switch.get("larger"):
        return {}
    sizes = switch["larger"] + switch["standard"]
    colours = switch["contrast_on"] + switch["contrast_off"]
    return {"text_switch_ms": {"p95": _p(sizes, 0.95), "max": round(max(sizes), 1),
                               "to_larger_p95": _p(switch["larger"], 0.95)},
            "contrast_switch_ms": {"p95": _p(colours, 0.95), "max": round(max(colours), 1)}}


def display(home: Path, runs: int = 3) -> dict:
    """``kiosk bench --display``: the switch figures alone, on the data installed in ``home``."""
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    switch: dict = {}
    for _ in range(runs):
        _say("display switches")
        _, _, out = _child([sys.executable, "-m", "kiosk.bench.uichild", "display", str(home)], {**env, "KIOSK_HOME": str(home)})
        b = _bench_line(out)
        if "error" in b:
            raise SystemExit(b["error"])
        for k, v in b["switch_ms"].items():
            switch.setdefault(k, []).extend(v)
    return {"screens": sorted(set(switch.get("by_screen", []))), **switch_figures(switch)}


def display_table(r: dict) -> str:
    t, c = r["text_switch_ms"], r["contrast_switch_ms"]
    return "\n".join([f"screens            {', '.join(r['screens'])}",
                      f"text_switch_ms     p95 {t['p95']}  max {t['max']}  (特大字 and back; target ≤ 200)",
                      f"contrast_switch_ms p95 {c['p95']}  max {c['max']}  (高对比 on and off)"])


def run(scale: str, work: Path, id_hash_n: int = 1024, seed: int = 1, limit: int | None = None,
        rebuild: bool = False, with_ui: bool = True) -> dict:
    work = Path(work)
    work.mkdir(parents=True, exist_ok=True)
    src = prepare_source(scale, work, seed, limit)
    b = build_bundle(src, work, scale, id_hash_n, rebuild)
    db = Path(b["bundle"]) / "data" / "village.sqlite"
    _say("copy+hash reference")
    ch = copy_hash(db, work)
    _say("import")
    home = work / f"home-{src.name}"
    imp = import_bundle(Path(b["bundle"]), Path(b["key"]), home)
    _say("queries")
    q99, q50 = queries(home)
    _say("supervision flags (focused)")
    flags_s = flags_time(src)
    out = {"scale": scale, "scope": b["scope"], "rows": b["rows"], "bundle_mb": b["bundle_mb"],
           "build_s": b["build_s"], "id_hash_n": b["id_hash_n"], "distinct_ids": b["distinct_ids"],
           "rss_mb_build": b["rss_mb_build"], "import_s": imp["import_s"], "import_phases": imp["phases"],
           "copy_hash_s": ch, "rss_mb_import": round(imp["maxrss_kb"] / 1024, 1),
           "query_p99_ms": q99, "query_p50_ms": q50, "cores": os.cpu_count(), "flags_s": flags_s,
           "flags_share": round(flags_s / max(b["build_s"] - flags_s, 1e-9), 4)}
    if with_ui:
        _say("ui")
        out.update(ui(home))
    return out


def table(r: dict) -> str:
    """Human-readable figures with the targets."""
    lines = [f"scale {r['scale']} (scope {r['scope']}), {r['cores']} cores",
             "rows          " + ", ".join(f"{k} {v:,}" for k, v in r["rows"].items()),
             f"bundle_mb     {r['bundle_mb']}",
             f"build_s       {r['build_s']}  (id-hash-n {r['id_hash_n']}, {r['distinct_ids']:,} distinct ID numbers, rss {r['rss_mb_build']} MB)",
             f"import_s      {r['import_s']}  " + " ".join(f"{k}={v}" for k, v in r["import_phases"].items()),
             f"copy_hash_s   {r['copy_hash_s']}  (import/copy+hash = {r['import_s'] / max(r['copy_hash_s'], 1e-9):.2f}, target ≤ 2)",
             "query_p99_ms  " + " ".join(f"{k}={v}" for k, v in r["query_p99_ms"].items())
             + "  (target ≤ 50; flags_page ≤ 20)",
             f"flags_s       {r['flags_s']}  (adds {100 * r['flags_share']:.1f} % to the rest of build_s, target ≤ 10 %)",
             f"rss_mb_import {r['rss_mb_import']}"]
    if "ui_start_s" in r:
        lines += [f"ui_start_s    {r['ui_start_s']}  bare_kivy_start_s {r['bare_kivy_start_s']}  (ratio {r['ui_start_s'] / r['bare_kivy_start_s']:.2f}, target ≤ 1.5)",
                  f"ui_settled_s  {r['ui_settled_s']}  (screens built, sections prepared; the walk starts here)",
                  f"nav_p99_ms    {r['nav_p99_ms']}  (target ≤ 100)",
                  *([f"text_switch_ms p95 {r['text_switch_ms']['p95']} max {r['text_switch_ms']['max']}  "
                     f"(特大字 and back, the screen on display redrawn; target ≤ 200)"] if "text_switch_ms" in r else []),
                  f"rss_mb_ui     {r['rss_mb_ui']}  rss_mb_bare_kivy {r['rss_mb_bare_kivy']}  (target ≤ bare + 100)"]
    return "\n".join(lines)
