"""County side: validate a source export and build the signed bundle (docs/bundle-format.md).

Shares only the format (:mod:`kiosk.cache.bundle`) with the kiosk side; nothing on a kiosk
imports this module. ``kiosk bundle build`` calls :func:`build`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Iterable

from kiosk import accounts
from kiosk.cache import flagstore, keys as keymod, schemas
from kiosk.cache.buildguard import BuildGuard
from kiosk.cache.bundle import DB_PATH, FORMAT_VERSION, MANIFEST, SIGNATURE, BundleError, Manifest, sha256_file
from kiosk.cache.fsutil import fsync_dir, fsync_file
from kiosk.cache.idhash import IdHashParams, id_hash_many
from kiosk.county import public
from kiosk.formatting import mask_name, to_fen, village_display_name
from kiosk.records import KINDS, Source, SourceError, load_rules, load_source
from kiosk.rules import RuleSet, data as rule_data, defaults as default_rules

def _d(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:.2f}"


def _create_db(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA page_size=4096")
    con.executescript(schemas.schema_sql())
    return con


def _insert(con: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    cols = list(rows[0])
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [tuple(r[c] for c in cols) for r in rows])


def write_database(src: Source | Iterable[Source], db_path: Path, params: IdHashParams, built_at: str,
                   progress: Callable[[str], None] | None = None, scope: str | None = None,
                   rules: RuleSet | None = None) -> dict[str, int]:
    """Write the bundle database. Returns record counts per kind (summed over villages).

    ``src`` is one village's validated Source or an iterable of them (a township or county
    bundle; may be a generator, so only one village is in memory at a time). Each village's
    records are written contiguously, so its ``search`` rowids form one range (``search_span``).
    ``scope`` is the manifest scope (default: the single village's code); ``data_as_of`` is
    the oldest of the villages' dates (never claim fresher data than the stalest village).

    Supervision flags (schema revision 2, kiosk/cache/flagstore.py) are computed per village
    with ``rules`` (a several-village source's top-level ``rules.json``), else the first
    village's own ``rules.json``, else the defaults; every village's own table must agree.

    Raises:
        BundleError: a village appears twice.
        SourceError: villages' rules.json differ; a 说明 names a record no rule flags.
    """
    say = progress or (lambda s: None)
    sources = [src] if isinstance(src, Source) else src
    con = _create_db(db_path)
    con.execute("BEGIN")
    counts = dict.fromkeys(KINDS, 0)
    account_names: dict[str, str] = {}
    seen: list[str] = []
    as_of: list[str] = []
    sample = False
    rs = rules
    for s in sources:
        vcode = s.village["code"]
        if rs is None:
            rs = s.rules or default_rules()
        elif s.rules is not None and rules is None and s.rules.as_json() != rs.as_json():
            raise SourceError(f"{vcode}/rules.json: differs from the first village's; a bundle has one rule table "
                              "(put one rules.json at the top of the source)",
                              f"数据源中村 {vcode} 的 rules.json 与其他村不同，一个数据包只能有一套规则")
        if vcode in seen:
            raise BundleError(f"village {vcode} appears twice in the source", f"数据源中村 {vcode} 重复")
        if len(seen) and len(seen) % 50 == 0:
            say(f"{len(seen)} villages written")
        seen.append(vcode)
        as_of.append(s.data_as_of)
        sample = sample or any(p["sample"] for p in s.records["powers"])
        for r in s.records["finance"]:
            account_names.setdefault(r["account_code"], r["account_name"])
        if scope and scope != vcode:
            _qualify_ids(s)
        for k, n in _write_village(con, s, params, say if len(seen) == 1 else (lambda m: None), rs).items():
            counts[k] += n
    if not seen:
        raise BundleError("the source holds no village", "数据源中没有村")
    meta = {"format_version": str(FORMAT_VERSION), "scope": scope or seen[0], "data_as_of": min(as_of),
            "built_at": built_at, "power_list_sample": "1" if sample else "0",
            "schema_revision": str(schemas.CURRENT), "rules_source": rs.source, "rules_county": rs.county}
    meta.update(params.as_meta())
    _insert(con, "meta", ({"key": k, "value": v} for k, v in sorted(meta.items())))
    flagstore.write_rules(con, rs)
    _insert(con, "accounts", accounts.account_rows(set(account_names), account_names))
    con.execute("COMMIT")
    say("search index")
    con.execute("INSERT INTO search(search) VALUES ('optimize')")
    con.execute("ANALYZE")
    con.execute("VACUUM")
    con.close()
    return counts


def _qualify_ids(src: Source) -> None:
    """Prefix record ids (and references to them) with ``<village code>/`` in place: each
    village's export numbers its own records (F0001, the county's power list P-BM-04), and
    ids are unique within a township or county bundle."""
    q = src.village["code"] + "/"
    for kind in KINDS:
        for r in src.records[kind]:
            r["id"] = q + r["id"]
    for r in src.records["finance"]:
        if r["reverses"]:
            r["reverses"] = q + r["reverses"]
    for r in src.records["services"]:
        r["power_id"] = q + r["power_id"]
    for r in src.records["finance"]:
        for f in ("project_id", "asset_id"):
            if r.get(f):
                r[f] = q + r[f]
    for e in src.explanations:
        if e["kind"] != "village":
            e["id"] = q + e["id"]


def _write_village(con: sqlite3.Connection, src: Source, params: IdHashParams,
                   say: Callable[[str], None], rules: RuleSet | None = None) -> dict[str, int]:
    """Insert one village's rows (records, search rows, grid terms, search span, and the
    supervision flags of revision 2)."""
    from kiosk.pinyin import name_initials  # build side only (pypinyin)
    from kiosk.search import FacetCounter, index_body

    vcode = src.village["code"]
    recs = src.records
    say("hashing ID numbers")
    hashes = id_hash_many({r["holder_id_number"] for r in recs["payments"]}
                          | {r["applicant_id_number"] for r in recs["services"]}, params)
    v, div = src.village, src.division
    profile = {k: v[k] for k in ("cadres", "supervision_committee", "discipline_office", "complaints",
                                 "land_contract_end") if k in v}
    _insert(con, "villages", [{
        "code": vcode, "name": village_display_name(div["village_name"]), "official_name": div["village_name"],
        "township_code": div["township_code"], "township_name": div["township_name"],
        "county_code": div["county_code"], "county_name": div["county_name"],
        "profile_json": json.dumps(profile, ensure_ascii=False, sort_keys=True)}])
    # Search rows hold exactly what public screens show (names already masked); ``initials``
    # only of shown person names (kiosk/pinyin.py), ``year`` for the year buttons.
    search: list[dict] = []
    terms = FacetCounter()

    def index(kind: str, rid: str, title: str, fields: tuple, year: str | None,
              names: tuple = (), categories: tuple = ()) -> None:
        search.append({"kind": kind, "record_id": rid, "village_code": vcode, "title": title,
                       "body": index_body(*fields), "year": year or "",
                       "initials": " ".join(i for n in names for i in name_initials(n))})
        terms.add(fields, year, names, categories)

    say("finance")
    fin = sorted(recs["finance"], key=lambda r: (r["date"], r["voucher_no"], r["id"]))
    _insert(con, "finance", ({
        "id": r["id"], "village_code": vcode, "date": r["date"], "voucher_no": r["voucher_no"],
        "summary": r["summary"], "account_code": r["account_code"], "account_name": r["account_name"],
        "direction": r["direction"], "amount": _d(r["amount"]), "amount_fen": to_fen(r["amount"]),
        "handler": r["handler"], "reviewer": r["reviewer"], "approver": r["approver"],
        "approval_level": r["approval_level"], "attachments": r["attachments"], "reverses_id": r["reverses"],
    } for r in fin))
    for r in fin:
        index("finance", r["id"], f"{r['date']} {r['summary']}", (r["summary"], r["account_name"], r["voucher_no"]), r["date"][:4])

    say("projects")
    projs = sorted(recs["projects"], key=lambda r: (r["stages"][0]["date"], r["id"]))
    _insert(con, "projects", ({
        "id": r["id"], "village_code": vcode, "name": r["name"], "category": r["category"], "location": r["location"],
        "budget": _d(r["budget"]), "review_amount": _d(r["review_amount"]),
        "fund_sources_json": json.dumps([{"source": s["source"], "amount": _d(s["amount"])} for s in r["fund_sources"]], ensure_ascii=False),
        "procurement_method": r["procurement_method"], "contractor": r["contractor"],
        "contract_amount": _d(r["contract_amount"]), "settlement_amount": _d(r["settlement_amount"]),
        "supervisors_json": json.dumps(r["supervisors"], ensure_ascii=False),
        "stage": r["stages"][-1]["stage"], "started_on": r["stages"][0]["date"],
    } for r in projs))
    _insert(con, "project_stages", ({"project_id": r["id"], **s} for r in projs for s in r["stages"]))
    for r in projs:
        index("projects", r["id"], r["name"], (r["name"], r["category"], r["contractor"]),
              r["stages"][0]["date"][:4], categories=(r["category"],))

    say("assets")
    assets = sorted(recs["assets"], key=lambda r: (r["kind"], r["category"], r["id"]))

    def counterparty(r: dict) -> str | None:
        cp = r["counterparty"]
        return mask_name(cp) if cp and r["counterparty_type"] == "person" else cp

    _insert(con, "assets", ({
        "id": r["id"], "village_code": vcode, "name": r["name"], "kind": r["kind"], "category": r["category"],
        "area": _d(r["area"]), "area_unit": r["area_unit"], "status": r["status"], "counterparty": counterparty(r),
        "disposal_method": r["disposal_method"], "reserve_price": _d(r["reserve_price"]),
        "reserve_review": r["reserve_review"], "deal_price": _d(r["deal_price"]), "term_start": r["term_start"],
        "term_end": r["term_end"], "annual_rent": _d(r["annual_rent"]), "deposit": _d(r["deposit"]),
    } for r in assets))
    for r in assets:
        cp = counterparty(r)
        index("assets", r["id"], r["name"], (r["name"], r["category"], cp), (r["term_start"] or "")[:4] or None,
              names=(cp,) if r["counterparty_type"] == "person" else (), categories=(r["category"],))

    say("services")
    servs = sorted(recs["services"], key=lambda r: (r["decided_on"], r["id"]))
    _insert(con, "services", ({
        "id": r["id"], "village_code": vcode, "power_id": r["power_id"], "power_name": r["power_name"],
        "applicant": mask_name(r["applicant"]), "group_name": r["group"], "result": r["result"],
        "decided_on": r["decided_on"], "notice_from": r["notice_from"], "notice_to": r["notice_to"],
        "steps_json": json.dumps(r["steps"], ensure_ascii=False), "applicant_key": hashes[r["applicant_id_number"]],
    } for r in servs))
    for r in servs:
        shown = mask_name(r["applicant"])
        index("services", r["id"], f"{r['decided_on']} {r['power_name']} {shown}", (r["power_name"], shown, r["result"]),
              r["decided_on"][:4], names=(shown,))

    say("powers")
    order = {c: i for i, c in enumerate(("重大决策", "日常管理", "便民服务"))}
    powers = sorted(recs["powers"], key=lambda r: (order[r["class"]], r["no"], r["id"]))
    _insert(con, "powers", ({
        "id": r["id"], "village_code": vcode, "class": r["class"], "no": r["no"], "name": r["name"],
        "basis": r["basis"], "executor": r["executor"], "supervisor": r["supervisor"],
        "materials": r["materials"], "time_limit": r["time_limit"], "sample": int(r["sample"]),
    } for r in powers))
    _insert(con, "power_steps", ({"power_id": r["id"], **s} for r in powers for s in r["steps"]))
    _insert(con, "power_edges", ({"power_id": r["id"], **e} for r in powers for e in r["edges"]))
    for r in powers:
        index("powers", r["id"], r["name"], (r["name"], r["basis"]), None, categories=(r["class"],))

    say("payments")
    pays = sorted(recs["payments"], key=lambda r: (r["paid_on"], r["id"]))
    _insert(con, "payments", ({
        "id": r["id"], "village_code": vcode, "holder_key": hashes[r["holder_id_number"]],
        "holder": mask_name(r["holder"]), "household_head": mask_name(r["household_head"]), "item": r["item"],
        "period": r["period"], "paid_on": r["paid_on"], "amount": _d(r["amount"]), "amount_fen": to_fen(r["amount"]),
        "basis": r["basis"],
    } for r in pays))

    last = con.execute("SELECT rowid FROM search ORDER BY rowid DESC LIMIT 1").fetchone()  # FTS5 seeks, no scan
    first = (last[0] if last else 0) + 1
    _insert(con, "search", ({"rowid": first + i, **row} for i, row in enumerate(search)))
    spans: dict[str, list[int]] = {}
    for i, row in enumerate(search):
        spans.setdefault(row["kind"], [first + i, first + i])[1] = first + i
    _insert(con, "search_span", [{"village_code": vcode, "kind": k, "first_rowid": a, "last_rowid": b}
                                 for k, (a, b) in spans.items()])
    _insert(con, "search_terms", terms.rows(vcode))

    say("supervision flags")
    flagstore.write_inputs(con, recs["finance"], recs["assets"])
    try:
        flagstore.write_village(con, rule_data.from_source(src), rules or default_rules(), src.explanations)
    except flagstore.ExplanationError as exc:
        e, reason = exc.args
        raise SourceError(f"explanations.jsonl:{e['_line']}: rule: {reason}",
                          f"数据源 explanations.jsonl 第{e['_line']}行：该记录没有被这条规则提示，无需说明") from None
    return {k: len(recs[k]) for k in KINDS}


def village_sources(src_dir: Path) -> dict[str, Path] | None:
    """For a township/county source (one sub-folder per village, each a village export):
    ``{village code: folder}`` in code order; None for a single-village source (``village.json``
    at the top).

    Raises:
        SourceError: neither layout, or a sub-folder's village.json is unreadable.
    """
    if (src_dir / "village.json").exists() or not src_dir.is_dir():
        return None
    found: dict[str, Path] = {}
    for d in sorted(p for p in src_dir.iterdir() if p.is_dir() and (p / "village.json").exists()):
        try:
            code = json.loads((d / "village.json").read_bytes().decode("utf-8"))["code"]
        except (ValueError, KeyError, TypeError, RecursionError):
            raise SourceError(f"{d.name}/village.json: code: missing or invalid JSON",
                              f"数据源 {d.name}/village.json 格式有误") from None
        if code in found:
            raise SourceError(f"{d.name}/village.json: code: village {code} appears twice",
                              f"数据源中村 {code} 重复")
        found[str(code)] = d
    if not found:
        raise SourceError(f"{src_dir}: village.json missing (nor any village sub-folder)", "数据源缺少 village.json")
    return dict(sorted(found.items()))


def multi_scope(villages: dict[str, Path]) -> tuple[str, list[str]]:
    """Scope of a several-village source: the 9-digit township when all villages share it,
    else the 6-digit county. Returns ``(scope, village codes)``.

    Raises:
        BundleError: the villages lie in different counties.
    """
    codes = sorted(villages)
    for width in (9, 6):
        if len({c[:width] for c in codes}) == 1 and len(codes[0]) == 12:
            return codes[0][:width], codes
    raise BundleError("the source's villages lie in different counties; a bundle covers one village, township or county",
                      "数据源中的村不属于同一个县，无法生成数据包")


def build(src_dir: Path, key_path: Path, seq: int, out: Path, previous: Path | None = None,
          id_hash_n: int = 2 ** 14, cfg: dict | None = None,
          progress: Callable[[str], None] | None = None) -> Manifest:
    """Validate ``src_dir`` and write a signed bundle folder ``out``. Returns the manifest
    as a kiosk parses it (so a build never writes a manifest kiosks would refuse).

    ``previous`` is the prior bundle's ``manifest.json`` (its SHA-256 goes into ``previous``).
    Nothing is left at ``out`` on failure (built in a temporary sibling, renamed at the end).

    Raises:
        SourceError: the source is malformed. BundleError: ``out`` exists, bad seq.
        KeyError_: the signing key is unusable.
    """
    if seq < 1:
        raise BundleError(f"sequence number must be ≥ 1, got {seq}", "版本号必须大于等于 1")
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BundleError(f"{out} exists and is not empty", f"输出文件夹 {out} 已存在且非空")
    priv = keymod.load_private(key_path)
    prev_hash = None
    if previous is not None:
        try:
            prev_hash = hashlib.sha256(Path(previous).read_bytes()).hexdigest()
        except OSError as exc:
            raise BundleError(f"cannot read previous manifest {previous}: {exc.strerror}", "无法读取上一版清单") from None
    villages = village_sources(Path(src_dir))
    top_rules = None
    if villages is None:
        source = load_source(src_dir, cfg, progress)
        scope, sources, covered = source.village["code"], source, None
    else:
        scope, covered = multi_scope(villages)
        top_rules = load_rules(Path(src_dir))
        sources = (load_source(d, cfg) for d in villages.values())
    tmp = out.with_name(f".{out.name}.building{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    guard = BuildGuard(tmp)  # removes tmp and the hashing workers even if this process is SIGKILLed
    try:
        issued = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        counts = write_database(sources, tmp / DB_PATH, IdHashParams.new(id_hash_n), issued.isoformat(), progress, scope,
                                top_rules)
        db = tmp / DB_PATH
        with sqlite3.connect(db) as con:
            data_as_of = con.execute("SELECT value FROM meta WHERE key = 'data_as_of'").fetchone()[0]
        con.close()
        # the public copy for phones (docs/bundle-format.md section 13): listed files, so
        # kiosks of every version copy and verify them like the database
        public_files = public.write(tmp, db, covered or [scope])
        manifest = {
            "format_version": FORMAT_VERSION,
            "scope": scope,
            "seq": seq,
            "issued_at": issued.isoformat().replace("+00:00", "Z"),
            "data_as_of": data_as_of,
            "previous": prev_hash,
            "key_id": keymod.key_id(priv.public_key()),
            **({"villages": covered} if covered else
               {"village": {"code": scope, "name": village_display_name(source.division["village_name"])}}),
            "counts": counts,
            "files": [{"path": rel, "size": (tmp / rel).stat().st_size, "sha256": sha256_file(tmp / rel)}
                      for rel in (DB_PATH, *public_files)],
        }
        mbytes = (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
        parsed = Manifest.parse(mbytes)
        (tmp / MANIFEST).write_bytes(mbytes)
        (tmp / SIGNATURE).write_bytes(priv.sign(mbytes))
        for p in (db, *(tmp / rel for rel in public_files), tmp / MANIFEST, tmp / SIGNATURE):
            fsync_file(p)
        fsync_dir(tmp / "data")
        fsync_dir(tmp / public.PUBLIC_DIR)
        fsync_dir(tmp)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        guard.done()
    return parsed


