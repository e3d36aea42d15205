"""Demo source data (``kiosk demo-data``): a county platform's export for one real village,
with invented people, in the source format of docs/data-model.md.

Public API:
    generate(village_code, seed=1, as_of=DATA_AS_OF) -> dict[file name, records]
    write(village_code, out_dir, seed=1, force=False, as_of=DATA_AS_OF) -> dict[kind, count]
    demo_persons(village_code, seed=1, as_of=DATA_AS_OF) -> list[DemoPerson]
    parse_as_of(text, today) -> date

Everything is drawn from ``random.Random`` streams seeded by (village, seed, part); nothing
reads the clock, so the same arguments give identical bytes.

The data-as-of date: the books run up to it and every planted case is placed relative to it
(the disclosure-overdue village ends its books two months before it). The default,
:data:`DATA_AS_OF`, is fixed so that tests and documentation see the same data. ``make
demo`` asks for ``month-end`` instead: the last day of the month before today's date by the
machine's clock (:func:`parse_as_of`), so a fresh demo is at most 31 days old and the footer
never starts amber (35 days). The as-of date used is written into the ``.demo-data`` marker;
the same village, seed and as-of date always give the same bytes. Source files: ``village.json``,
``finance.jsonl``, ``projects.jsonl``, ``assets.jsonl``, ``services.jsonl``, ``powers.jsonl``,
``payments.jsonl``, ``rules.json`` (the county's rule table: the defaults, labelled as a demo)
and ``explanations.jsonl`` (the county's 说明 on a flagged record) (UTF-8,
``ensure_ascii=False``, sorted keys, ``\\n`` line ends), plus the marker file ``.demo-data``
(JSON: village, seed) by which a later run recognises its own output.

Supervision rules: the data is clean except a few planted cases of each rule, each marked
``demo_planted`` in the source (kiosk/demo/plants.py).

Overwriting: ``write`` replaces ``out_dir`` only when it is missing, empty, or holds the
``.demo-data`` marker; any other non-empty folder is refused unless ``force=True``. Output is
built in a temporary folder next to ``out_dir`` and renamed into place, so a failure leaves
nothing half-written.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import tempfile
from pathlib import Path

from kiosk.demo import people, plants, powers as powers_mod, records
from kiosk.demo.people import DemoPerson
from kiosk.demo.refdata import Village, villages
from kiosk.errors import Exit, KioskError

__all__ = ["DATA_AS_OF", "DemoDataError", "DemoPerson", "demo_persons", "generate", "parse_as_of", "write",
           "FILES"]

#: Default data-as-of date of the demo books (fixed, not today's date: output must be
#: reproducible; ``make demo`` passes ``month-end``, see :func:`parse_as_of`).
DATA_AS_OF = dt.date(2026, 10, 31)
#: Earliest as-of date accepted: the books start on 2024-01-01 and the planted cases need
#: more than a year of them (2025-03-31 still works, 2024-12-31 does not).
EARLIEST_AS_OF = dt.date(2025, 6, 30)
DEFAULT_VILLAGE = "431382111249"  # 涟源市白马镇洪泉村
MARKER = ".demo-data"
FILES = ("village.json", "finance.jsonl", "projects.jsonl", "assets.jsonl", "services.jsonl",
         "powers.jsonl", "payments.jsonl", "rules.json", "explanations.jsonl")
#: End of the second-round land contract period (二轮土地承包期届满) of every demo village.
LAND_CONTRACT_END = dt.date(2028, 12, 31)


class DemoDataError(KioskError):
    """Demo data cannot be generated or written (unknown village, occupied folder)."""

    default_zh = "演示数据生成失败"


class AsOfError(DemoDataError):
    """``--as-of`` is not a date the demo can end its books on (a command-line mistake)."""

    exit_code = Exit.USAGE


def parse_as_of(text: str, today: dt.date) -> dt.date:
    """The ``--as-of`` value: an ISO date (``2026-11-30``), or ``month-end`` for the last day
    of the month before ``today`` (the machine's clock; at most 31 days before it).

    Raises:
        DemoDataError: not a date, after ``today``, or before :data:`EARLIEST_AS_OF`.
    """
    text = text.strip()
    if text == "month-end":
        return today.replace(day=1) - dt.timedelta(days=1)
    try:
        d = dt.date.fromisoformat(text)
    except ValueError:
        raise AsOfError(f"--as-of: not an ISO date or month-end: {text!r}",
                            f"数据截止日期有误：{text}（应为 2026-11-30 这样的日期或 month-end）") from None
    if d > today:
        raise AsOfError(f"--as-of {d} is after today ({today})", f"数据截止日期 {d} 晚于今天")
    if d < EARLIEST_AS_OF:
        raise AsOfError(f"--as-of {d} is before {EARLIEST_AS_OF}: the demo books start in 2024",
                            f"数据截止日期 {d} 早于 {EARLIEST_AS_OF}")
    return d


def _village(code: str) -> Village:
    v = villages().get(code)
    if v is None:
        raise DemoDataError(f"unknown village code {code!r}: not in the Loudi (4313) division table",
                            f"村级区划代码 {code} 不在娄底市区划表中")
    return v


def _rng(village: Village, seed: int, part: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.Random, independent of PYTHONHASHSEED
    return random.Random(f"{village.code}/{seed}/{part}")


def _world(village_code: str, seed: int, as_of: dt.date):
    v = _village(village_code)
    households, featured = people.population(v, _rng(v, seed, "people"))
    n_groups = max(h.group_no for h in households)
    off = people.officials(v, _rng(v, seed, "officials"), n_groups)
    pw = powers_mod.powers(v.name)
    svc_powers = {p["no"]: p for p in pw if p["class"] == "便民服务"}
    pays, svcs = records.payments_and_services(_rng(v, seed, "payments"), households, featured,
                                               svc_powers, as_of)
    return v, households, featured, off, pw, pays, svcs


def _profile(v: Village, off: people.Officials, seed: int, as_of: dt.date) -> dict:
    rng = _rng(v, seed, "profile")
    cadre_roles = ((off.secretary, "村党组织书记、村委会主任"), (off.deputy, "村党组织副书记、村委会副主任"),
                   (off.accountant, "村委会委员（报账员）"), (off.women, "村委会委员（妇联主席）"),
                   (off.member, "村委会委员"))
    received = rng.randint(6, 20)
    return {
        "code": v.code, "official_name": v.official_name,
        "township": {"code": v.township_code, "name": v.township_name},
        "county": {"code": v.county_code, "name": v.county_name},
        "data_as_of": as_of.isoformat(),
        "land_contract_end": LAND_CONTRACT_END.isoformat(),
        "demo_planted": ["disclosure_overdue"],
        "cadres": [{"role": r, "name": n, "phone": off.phones[n]} for n, r in cadre_roles],
        "supervision_committee": [{"role": "主任", "name": off.supervisor_chief, "phone": off.phones[off.supervisor_chief]}]
        + [{"role": "委员", "name": n, "phone": off.phones[n]} for n in off.supervisors],
        "discipline_office": {"name": f"{v.township_name}纪委", "phone": f"0738-0{rng.randrange(10**6):06d}"},
        "complaints": {
            "platform_url": f"https://jiandu.example.org/{v.county_code}",  # reserved domain: demo only
            "wechat_official_account": f"{v.county_name}清风（演示）",
            "village_group": {"name": f"{v.name}村务监督微信群", "admin": off.supervisor_chief,
                              # a group's own QR code lasts 7 days: this one has expired by the time
                              # the demo runs, so screens show the group's name and administrator
                              "qr_url": f"https://weixin.example.org/g/{v.code}",
                              "qr_expires_on": (as_of + dt.timedelta(days=7)).isoformat()},
            "received": received, "handled": received - rng.randint(0, 2),
            "wechat_official_account_url": f"https://weixin.example.org/r/{v.county_code}",
            "viewer_url": f"https://jiandu.example.org/cunwu/{v.code}/",
            "hotline": "12388",
            "county_discipline_office": {"name": f"{v.county_name}纪委监委", "phone": f"0738-0{rng.randrange(10**6):06d}"},
        },
    }


def generate(village_code: str = DEFAULT_VILLAGE, seed: int = 1, as_of: dt.date = DATA_AS_OF) -> dict:
    """All source records: ``{"village.json": dict, "finance.jsonl": [dict], ...}`` (keys = FILES).

    Raises:
        DemoDataError: the village code is not in ``kiosk/data/loudi-4313-villages.csv``.
    """
    from kiosk.rules import defaults

    v, households, featured, off, pw, pays, svcs = _world(village_code, seed, as_of)
    heads = [h.head for h in households]
    assets = records.assets(v, _rng(v, seed, "assets"), heads, as_of, LAND_CONTRACT_END)
    projects = records.projects(v, _rng(v, seed, "projects"), off, as_of)
    prng = _rng(v, seed, "plants")
    plan = plants.before_finance(v, prng, off, as_of, assets, projects, LAND_CONTRACT_END)
    finance = records.finance(v, _rng(v, seed, "finance"), off, as_of, assets, projects, books_end=plan.books_end,
                              unpaid_rent=frozenset(plan.unpaid_rent), extra=tuple(plan.extra))
    explanations = plants.after_finance(prng, finance, svcs, v, {p["id"]: p["name"] for p in pw})
    rules = defaults().as_json()
    rules["county"] = f"{v.county_name}（演示规则）"
    return {
        "village.json": _profile(v, off, seed, as_of),
        "finance.jsonl": finance, "projects.jsonl": projects, "assets.jsonl": assets,
        "services.jsonl": svcs,
        "powers.jsonl": [{k: val for k, val in p.items() if not k.startswith("_")} for p in pw],
        "payments.jsonl": pays,
        "rules.json": rules,
        "explanations.jsonl": explanations,
    }


def demo_persons(village_code: str = DEFAULT_VILLAGE, seed: int = 1, as_of: dt.date = DATA_AS_OF) -> list[DemoPerson]:
    """The invented persons who appear as payees (``payments.holder``) or applicants
    (``services.applicant``) in the demo data of the same village and seed, for the simulated
    ID-card reader. The first five each have several payments and services; among them are an
    ID number ending in X, a compound surname (欧阳), names with 䶮 (U+4DAE, Ext-A) and 𠈌
    (U+2020C, Ext-B), and a long name with a middle dot. Order: those five, then by household.

    Raises:
        DemoDataError: unknown village code.
    """
    _, households, featured, _, _, pays, svcs = _world(village_code, seed, as_of)
    seen = {r["holder_id_number"] for r in pays} | {r["applicant_id_number"] for r in svcs}
    rest = [p for h in households for p in h.members if p.id_number in seen and p not in featured]
    return list(featured) + rest


def _dump(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def render(data: dict) -> dict[str, bytes]:
    """File name → exact bytes (village.json indented; JSON Lines one compact object a line)."""
    out = {}
    for name in FILES:
        recs = data[name]
        if name.endswith(".json"):
            text = json.dumps(recs, ensure_ascii=False, sort_keys=True, indent=2, separators=(",", ": ")) + "\n"
        else:
            text = "".join(_dump(r) + "\n" for r in recs)
        out[name] = text.encode("utf-8")
    return out


def write(village_code: str, out_dir: str | os.PathLike, seed: int = 1, force: bool = False,
          as_of: dt.date = DATA_AS_OF) -> dict[str, int]:
    """Generate and write the source export to ``out_dir`` atomically; return record counts
    per kind (``{"finance": 1650, ...}``).

    Raises:
        DemoDataError: unknown village; ``out_dir`` is a non-empty folder not written by
            demo-data (without ``force``) or not a folder.
    """
    out = Path(out_dir)
    v = _village(village_code)
    if out.exists() and not out.is_dir():
        raise DemoDataError(f"{out} exists and is not a folder", f"{out} 已存在且不是文件夹")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).exists() and not force:
        raise DemoDataError(f"{out} is not empty and was not written by demo-data (use --force)",
                            f"{out} 不是空文件夹，未覆盖")
    data = generate(v.code, seed, as_of)
    files = render(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    old = None
    try:
        for name, blob in files.items():
            (tmp / name).write_bytes(blob)
        (tmp / MARKER).write_text(_dump({"as_of": as_of.isoformat(), "seed": seed, "village": v.code}) + "\n",
                                  encoding="utf-8")
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
        os.rename(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return {name.split(".")[0]: (1 if name.endswith(".json") else len(data[name])) for name in FILES}
