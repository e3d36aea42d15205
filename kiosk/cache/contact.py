"""Whom to call when the kiosk cannot serve: the village office's phone from the installed
data, for the 暂停服务 screen.

It must work when nothing else does — ``config.json`` malformed, ``state.json`` damaged, the
shown version unreadable — so it reads no configuration and never raises: it tries the
version shown, then the last known good one, then any installed version folder, and gives
up with None.
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from kiosk.cache.fsutil import read_json

#: SQLite VM steps allowed for the two small queries (a hostile database must not hang the pause screen)
MAX_STEPS = 200_000


@dataclass(frozen=True)
class OfficeContact:
    """A phone number to show on 暂停服务.

    Attributes:
        place: where the phone rings: ``洪泉村村委会`` or, for a bundle of several villages,
            the township's discipline office ``白马镇纪委``.
        phone: as written in the export (``0738-0371137``).
        person: the official answering (full name: an official in office), or "".
        role: the official's role (``村党组织书记、村委会主任``), or "".
    """

    place: str
    phone: str
    person: str = ""
    role: str = ""

    @property
    def line_zh(self) -> str:
        """``如需帮助，请联系洪泉村村委会：0738-0371137（陈树清，村党组织书记、村委会主任）``"""
        who = "，".join(x for x in (self.person, self.role) if x)
        return f"如需帮助，请联系{self.place}：{self.phone}" + (f"（{who}）" if who else "")


def _candidates(home: Path) -> list[Path]:
    mdir = Path(home) / "mirror" / "versions"
    try:
        state = read_json(Path(home) / "mirror" / "state.json", {}) or {}
    except (ValueError, OSError):
        state = {}
    names = [state.get(k) for k in ("current", "last_known_good")] if isinstance(state, dict) else []
    out = [mdir / n for n in names if isinstance(n, str) and "/" not in n and n not in ("", ".", "..")]
    try:
        out += sorted((p for p in mdir.iterdir() if p not in out), reverse=True)  # newest seq first
    except OSError:
        pass
    return out


def _from_db(db: Path) -> OfficeContact | None:
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    try:
        steps = [0]

        def budget() -> int:
            steps[0] += 1
            return 1 if steps[0] * 1000 > MAX_STEPS else 0

        con.set_progress_handler(budget, 1000)
        rows = con.execute("SELECT name, profile_json FROM villages ORDER BY code LIMIT 2").fetchall()
    finally:
        con.close()
    if not rows:
        return None
    name, profile = rows[0]
    p = json.loads(profile) if isinstance(profile, str) else {}
    if not isinstance(p, dict):
        return None
    if len(rows) == 1:
        for c in p.get("cadres") or []:
            if isinstance(c, dict) and isinstance(c.get("phone"), str) and c["phone"].strip():
                return OfficeContact(f"{name}村委会" if str(name).endswith("村") else str(name), c["phone"].strip(),
                                     str(c.get("name") or ""), str(c.get("role") or ""))
    office = p.get("discipline_office")
    if isinstance(office, dict) and isinstance(office.get("phone"), str) and office["phone"].strip():
        return OfficeContact(str(office.get("name") or "乡镇纪委"), office["phone"].strip())
    return None


def office_contact(home: Path) -> OfficeContact | None:
    """The village office's phone (or, for a township/county bundle, the discipline
    office's) from the installed data; None when no installed version can be read.
    Never raises."""
    for vdir in _candidates(home):
        try:
            found = _from_db(vdir / "data" / "village.sqlite")
        except (sqlite3.Error, OSError, ValueError, TypeError, RecursionError):
            continue
        if found:
            return found
    return None
