"""City-scale source: every village-level unit of a county, at the volumes the county reported.

``kiosk demo-data`` writes one village with its own natural volumes (about 1,500 finance
lines over three years, 900 service results, 6,800 payments); the county reported, for
431382 涟源市 (506 village-level units): 4,520 projects, 2,948 assets, 1,100,000 service
results, about 500 finance lines per unit per year and 1,000,000 payments. This module
writes each village's demo export, then sets the record counts to the county's totals
spread evenly over the villages: projects/assets/payments are thinned (every k-th record),
services repeated with new ids (same applicants: the distinct-person count, which the
scrypt ID hash cost follows, stays that of the demo population).

Output: ``OUT/<village code>/`` per village, the several-village source layout accepted by
``kiosk bundle build``; a ``.bench-city`` marker (JSON: county, seed, totals) lets a later run
reuse it.
"""
from __future__ import annotations

import json
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from kiosk import demo_data
from kiosk.demo.refdata import villages

#: Volumes reported by the county (issue 5); finance is the demo's natural ~500 lines/unit/year.
CITY_TOTALS = {"projects": 4520, "assets": 2948, "services": 1_100_000, "payments": 1_000_000}
CITY_COUNTY = "431382"
MARKER = ".bench-city"


def county_villages(county: str = CITY_COUNTY) -> list[str]:
    """12-digit codes of the county's village-level units, in code order."""
    return sorted(c for c in villages() if c.startswith(county))


def _share(total: int, n: int, i: int) -> int:
    """Village ``i``'s share of ``total`` over ``n`` villages (the shares sum to ``total``)."""
    return total // n + (1 if i < total % n else 0)


def _thin(rows: list[dict], k: int) -> list[dict]:
    if k >= len(rows):
        return rows
    step = len(rows) / k
    return [rows[int(j * step)] for j in range(k)]


def _repeat(rows: list[dict], k: int) -> list[dict]:
    out = list(rows[:k])
    rnd = 1
    while len(out) < k:
        out += [{**r, "id": f"{r['id']}-r{rnd}"} for r in rows[: k - len(out)]]
        rnd += 1
    return out


def write_village(code: str, out: Path, seed: int, quotas: dict[str, int]) -> dict[str, int]:
    """One village's export scaled to ``quotas`` (records per kind) into ``out``."""
    data = demo_data.generate(code, seed)
    data["projects.jsonl"] = _thin(data["projects.jsonl"], quotas["projects"])
    data["assets.jsonl"] = _thin(data["assets.jsonl"], quotas["assets"])
    data["payments.jsonl"] = _thin(data["payments.jsonl"], quotas["payments"])
    data["services.jsonl"] = _repeat(data["services.jsonl"], quotas["services"])
    # thinning drops projects and assets that finance lines (and a 说明) may name: unlink them
    kept = {k: {r["id"] for r in data[f"{k}.jsonl"]} for k in ("finance", "projects", "assets", "services")}
    for r in data["finance.jsonl"]:
        if r.get("project_id") and r["project_id"] not in kept["projects"]:
            r.update(project_id=None, project_payment=None)
        if r.get("asset_id") and r["asset_id"] not in kept["assets"]:
            r["asset_id"] = None
    data["explanations.jsonl"] = [e for e in data["explanations.jsonl"]
                                  if e["kind"] == "village" or e["id"] in kept[e["kind"]]]
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    for name, blob in demo_data.render(data).items():
        (tmp / name).write_bytes(blob)
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return {k.split(".")[0]: len(v) for k, v in data.items() if k.endswith(".jsonl")}


def _job(args) -> dict[str, int]:
    return write_village(*args)


def write_city(out: Path, seed: int = 1, county: str = CITY_COUNTY, totals: dict | None = None,
               limit: int | None = None, workers: int | None = None, progress=None) -> dict:
    """Write (or reuse, when the marker matches) the county source; returns the marker dict
    with record counts per kind. ``limit`` keeps only the first villages (smaller runs)."""
    out = Path(out)
    totals = dict(totals or CITY_TOTALS)
    codes = county_villages(county)[:limit] if limit else county_villages(county)
    want = {"county": county, "seed": seed, "villages": len(codes), "totals": totals}
    marker = out / MARKER
    if marker.exists():
        have = json.loads(marker.read_text(encoding="utf-8"))
        if {k: have.get(k) for k in want} == want:
            return have
    out.mkdir(parents=True, exist_ok=True)
    n = len(codes)
    jobs = [(c, out / c, seed, {k: _share(v, n, i) for k, v in totals.items()}) for i, c in enumerate(codes)]
    counts: dict[str, int] = {}
    with ProcessPoolExecutor(max_workers=workers or os.cpu_count() or 1) as ex:
        for i, c in enumerate(ex.map(_job, jobs, chunksize=4), 1):
            for k, v in c.items():
                counts[k] = counts.get(k, 0) + v
            if progress and i % 50 == 0:
                progress(f"{i}/{n} villages generated")
    want["counts"] = counts
    marker.write_text(json.dumps(want, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
    return want
