"""Bundle format v1: build (county side) and verify (kiosk side). See docs/bundle-format.md.

A bundle is a folder::

    manifest.json        # UTF-8 JSON; the signature covers its exact bytes
    manifest.sig         # 64-byte raw Ed25519 signature of manifest.json
    data/village.sqlite  # the ready-to-query database (kiosk/cache/schema.sql)

The fingerprint is the first 8 lowercase hex digits of SHA-256(manifest.json bytes).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import stat
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable

from kiosk import accounts, config
from kiosk.cache import keys as keymod
from kiosk.cache.clock import parse_utc
from kiosk.cache.fsutil import fsync_dir, fsync_file
from kiosk.cache.idhash import IdHashParams, id_hash_many
from kiosk.errors import Exit, KioskError
from kiosk.formatting import mask_name, to_fen, village_display_name
from kiosk.records import KINDS, Source, load_source

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DB_PATH = "data/village.sqlite"
MAX_MANIFEST_BYTES = 1 << 20
HASH_CHUNK = 1 << 20


class BundleError(KioskError):
    """A bundle is refused or cannot be built. One line in English and Chinese."""

    exit_code = Exit.BUNDLE
    default_zh = "数据包无效，未导入"


def sha256_file(path: Path, progress: Callable[[int], None] | None = None) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(HASH_CHUNK):
            h.update(chunk)
            if progress:
                progress(len(chunk))
    return h.hexdigest()


def fingerprint(manifest_bytes: bytes) -> str:
    """First 8 lowercase hex digits of SHA-256 over the exact manifest bytes."""
    return hashlib.sha256(manifest_bytes).hexdigest()[:8]


def scope_level(code: str) -> str:
    """``village`` (12 digits), ``township`` (9) or ``county`` (6)."""
    return {12: "village", 9: "township", 6: "county"}.get(len(code), "unknown")


# ---------------------------------------------------------------- build (county side)

def _d(v: Decimal | None) -> str | None:
    return None if v is None else f"{v:.2f}"


def _create_db(path: Path) -> sqlite3.Connection:
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA page_size=4096")
    con.executescript(resources.files("kiosk.cache").joinpath("schema.sql").read_text(encoding="utf-8"))
    return con


def _insert(con: sqlite3.Connection, table: str, rows: Iterable[dict[str, Any]]) -> None:
    rows = list(rows)
    if not rows:
        return
    cols = list(rows[0])
    con.executemany(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                    [tuple(r[c] for c in cols) for r in rows])


def write_database(src: Source | Iterable[Source], db_path: Path, params: IdHashParams, built_at: str,
                   progress: Callable[[str], None] | None = None, scope: str | None = None) -> dict[str, int]:
    """Write the bundle database. Returns record counts per kind (summed over villages).

    ``src`` is one village's validated Source or an iterable of them (a township or county
    bundle; may be a generator, so only one village is in memory at a time). Each village's
    records are written contiguously, so its ``search`` rowids form one range (``search_span``).
    ``scope`` is the manifest scope (default: the single village's code); ``data_as_of`` is
    the oldest of the villages' dates (never claim fresher data than the stalest village).

    Raises:
        BundleError: a village appears twice.
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
    for s in sources:
        vcode = s.village["code"]
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
        for k, n in _write_village(con, s, params, say if len(seen) == 1 else (lambda m: None)).items():
            counts[k] += n
    if not seen:
        raise BundleError("the source holds no village", "数据源中没有村")
    meta = {"format_version": str(FORMAT_VERSION), "scope": scope or seen[0], "data_as_of": min(as_of),
            "built_at": built_at, "power_list_sample": "1" if sample else "0"}
    meta.update(params.as_meta())
    _insert(con, "meta", ({"key": k, "value": v} for k, v in sorted(meta.items())))
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


def _write_village(con: sqlite3.Connection, src: Source, params: IdHashParams,
                   say: Callable[[str], None]) -> dict[str, int]:
    """Insert one village's rows (records, search rows, grid terms, search span)."""
    from kiosk.pinyin import name_initials  # build side only (pypinyin)
    from kiosk.search import FacetCounter, index_body

    vcode = src.village["code"]
    recs = src.records
    say("hashing ID numbers")
    hashes = id_hash_many({r["holder_id_number"] for r in recs["payments"]}
                          | {r["applicant_id_number"] for r in recs["services"]}, params)
    v, div = src.village, src.division
    profile = {k: v[k] for k in ("cadres", "supervision_committee", "discipline_office", "complaints") if k in v}
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
    return {k: len(recs[k]) for k in KINDS}


def village_sources(src_dir: Path) -> dict[str, Path] | None:
    """For a township/county source (one sub-folder per village, each a village export):
    ``{village code: folder}`` in code order; None for a single-village source (``village.json``
    at the top).

    Raises:
        SourceError: neither layout, or a sub-folder's village.json is unreadable.
    """
    from kiosk.records import SourceError

    if (src_dir / "village.json").exists() or not src_dir.is_dir():
        return None
    found: dict[str, Path] = {}
    for d in sorted(p for p in src_dir.iterdir() if p.is_dir() and (p / "village.json").exists()):
        try:
            code = json.loads((d / "village.json").read_bytes().decode("utf-8"))["code"]
        except (ValueError, KeyError, TypeError):
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
          progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Validate ``src_dir`` and write a signed bundle folder ``out``. Returns the manifest.

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
    if villages is None:
        source = load_source(src_dir, cfg, progress)
        scope, sources, covered = source.village["code"], source, None
    else:
        scope, covered = multi_scope(villages)
        sources = (load_source(d, cfg) for d in villages.values())
    tmp = out.with_name(f".{out.name}.building{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "data").mkdir(parents=True)
    try:
        issued = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
        counts = write_database(sources, tmp / DB_PATH, IdHashParams.new(id_hash_n), issued.isoformat(), progress, scope)
        db = tmp / DB_PATH
        with sqlite3.connect(db) as con:
            data_as_of = con.execute("SELECT value FROM meta WHERE key = 'data_as_of'").fetchone()[0]
        con.close()
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
            "files": [{"path": DB_PATH, "size": db.stat().st_size, "sha256": sha256_file(db)}],
        }
        mbytes = (json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode("utf-8")
        (tmp / MANIFEST).write_bytes(mbytes)
        (tmp / SIGNATURE).write_bytes(priv.sign(mbytes))
        for p in (db, tmp / MANIFEST, tmp / SIGNATURE):
            fsync_file(p)
        fsync_dir(tmp / "data")
        fsync_dir(tmp)
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


# ---------------------------------------------------------------- verify (kiosk side)

@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signature, layout and file hashes were checked."""

    path: Path
    manifest: dict[str, Any]
    manifest_bytes: bytes
    key_id: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.manifest_bytes)

    @property
    def manifest_sha256(self) -> str:
        return hashlib.sha256(self.manifest_bytes).hexdigest()


def _safe_relpath(name: Any) -> str:
    """Refuse names that could escape the bundle folder."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        raise BundleError(f"bad file name in manifest: {name!r}", "数据包文件名非法")
    p = PurePosixPath(name)
    if p.is_absolute() or any(part in ("..", ".", "") for part in name.split("/")):
        raise BundleError(f"file name escapes the bundle folder: {name!r}", "数据包文件名越出数据包目录")
    if name in (MANIFEST, SIGNATURE):
        raise BundleError(f"manifest lists a reserved name: {name!r}", "数据包清单列出了保留文件名")
    return str(p)


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


def read_signed_manifest(root: Path, trusted: list[keymod.TrustedKey]) -> tuple[dict, bytes, str]:
    """Read ``manifest.json``, check its signature against ``trusted``, parse and check its fields.

    Returns ``(manifest, exact_bytes, key_id)``.
    """
    root = Path(root)
    try:
        mst = os.lstat(root / MANIFEST)
        if not stat.S_ISREG(mst.st_mode):
            raise BundleError("manifest.json is not a regular file", "数据包清单不是普通文件")
        if mst.st_size > MAX_MANIFEST_BYTES:
            raise BundleError("manifest.json is too large", "数据包清单过大")
        mbytes = (root / MANIFEST).read_bytes()
        sig = (root / SIGNATURE).read_bytes()
    except FileNotFoundError as exc:
        raise BundleError(f"not a bundle: {Path(exc.filename).name} missing in {root}", "不是有效的数据包：缺少清单或签名") from None
    if not trusted:
        raise BundleError("no trusted key is configured (kiosk trust PUBFILE)", "终端尚未配置受信任的密钥")
    if len(sig) != 64:
        raise BundleError("signature must be 64 bytes (Ed25519)", "数据包签名无效")
    # Try every trusted key instead of believing the unsigned key_id field.
    signer = next((k for k in trusted if keymod.verify(k.public_key, sig, mbytes)), None)
    if signer is None:
        raise BundleError("signature does not verify with any trusted key (changed manifest or unknown key)",
                          "签名验证失败：清单被改动或签名密钥不受信任")
    try:
        m = json.loads(mbytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise BundleError("manifest.json is not valid UTF-8 JSON", "数据包清单格式错误") from None
    if not isinstance(m, dict):
        raise BundleError("manifest.json must be a JSON object", "数据包清单格式错误")
    if m.get("format_version") != FORMAT_VERSION:
        raise BundleError(f"unknown format_version {m.get('format_version')!r}; this kiosk reads version {FORMAT_VERSION} — update the kiosk software",
                          "数据包格式版本未知，请升级终端软件")
    for fld, typ in (("scope", str), ("seq", int), ("issued_at", str), ("data_as_of", str), ("files", list), ("counts", dict)):
        if not isinstance(m.get(fld), typ) or isinstance(m.get(fld), bool):
            raise BundleError(f"manifest field {fld} missing or mistyped", "数据包清单字段缺失")
    try:
        parse_utc(m["issued_at"])
        dt.date.fromisoformat(m["data_as_of"])
    except ValueError:
        raise BundleError("manifest issued_at/data_as_of is not an ISO 8601 time/date", "数据包清单时间格式错误") from None
    prev = m.get("previous")
    if prev is not None and not (isinstance(prev, str) and len(prev) == 64 and all(c in "0123456789abcdef" for c in prev)):
        raise BundleError("manifest field previous must be null or 64 lowercase hex digits", "数据包清单字段 previous 格式错误")
    if m["seq"] < 1:
        raise BundleError("manifest seq must be ≥ 1", "数据包版本号无效")
    return m, mbytes, signer.key_id


def verify(root: Path, trusted: list[keymod.TrustedKey], hash_progress: Callable[[int], None] | None = None) -> VerifiedBundle:
    """Verify a bundle folder: layout, signature, format version, every file's size and SHA-256.

    Raises:
        BundleError: any defect; the message names it in one line.
    """
    root = Path(root)
    if not root.is_dir():
        raise BundleError(f"{root}: not a bundle folder", f"找不到数据包文件夹 {root}")
    present = list_files(root)
    m, mbytes, kid = read_signed_manifest(root, trusted)
    listed = check_layout(m, present)
    for rel, f in sorted(listed.items()):
        size = (root / rel).stat().st_size
        if size != f["size"]:
            raise BundleError(f"{rel}: size {size} differs from manifest {f['size']} (truncated or changed)",
                              f"文件 {rel} 大小不符（不完整或被改动）")
        if sha256_file(root / rel, hash_progress) != f["sha256"].lower():
            raise BundleError(f"{rel}: SHA-256 differs from manifest (file changed)", f"文件 {rel} 校验值不符（被改动）")
    return VerifiedBundle(root, m, mbytes, kid)


def check_layout(m: dict[str, Any], present: set[str]) -> dict[str, dict]:
    """Check the manifest's file list against the files ``present`` (relative paths).

    Returns ``{path: entry}``. Raises BundleError for bad names, missing or extra files.
    """
    listed: dict[str, dict] = {}
    for f in m["files"]:
        if not isinstance(f, dict):
            raise BundleError("manifest files entry is not an object", "数据包清单格式错误")
        rel = _safe_relpath(f.get("path"))
        if rel in listed:
            raise BundleError(f"file listed twice: {rel}", "数据包清单重复列出文件")
        if not isinstance(f.get("size"), int) or not isinstance(f.get("sha256"), str):
            raise BundleError(f"file entry for {rel} lacks size or sha256", "数据包清单缺少文件大小或校验值")
        listed[rel] = f
    if DB_PATH not in listed:
        raise BundleError(f"manifest does not list {DB_PATH}", "数据包缺少数据库")
    expected = set(listed) | {MANIFEST, SIGNATURE}
    if missing := sorted(expected - present):
        raise BundleError(f"file missing from bundle: {missing[0]}", f"数据包缺少文件 {missing[0]}")
    if extra := sorted(present - expected):
        raise BundleError(f"unexpected file in bundle: {extra[0]}", f"数据包含有多余文件 {extra[0]}")
    return listed
