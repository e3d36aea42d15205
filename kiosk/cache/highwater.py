"""The high-water mark and the trusted-key record, kept apart from ``state.json``.

Why: ``state.json`` alone is one file; deleting it or lowering its ``highest_seq`` used to
make the kiosk accept an older bundle as if it were new. The mark is therefore kept in
several independent places and the *maximum* of all of them counts:

* ``mirror/state.json`` ``highest_seq`` (kiosk/cache/install.py);
* ``mirror/highwater.json`` and ``trust/highwater.json`` (this module; the same content,
  each replaced atomically, never lowered);
* the seq in every folder name under ``mirror/versions/`` and ``mirror/quarantine/``
  (``v000007-1a2b3c4d``).

File content::

    {"highest_seq": 7, "highest_manifest_sha256": "…64 hex…", "newest_issued_at": "…Z",
     "scope": "431382111249",
     "keys": {"ids": ["…16 hex…"], "keylist_seq": 0, "changed_by": "first set-up", "changed_at": "…"}}

``keys`` records the trusted key ids each time the trust store is changed through the
kiosk's own code (first set-up, technician PIN, signed key list); a ``trust/keys.json``
that no longer matches it was replaced by hand.

``pins`` notes which PINs were ever set (``{"technician": {"set_at": "…Z"}}``), so that a
PIN set again after ``trust/pins.json`` was deleted is recognised as a reset. ``events``
lists the changes made with the technician PIN instead of the county's signature — a PIN
reset, a key added or removed, the scope changed — each ``{"event", "at", "detail",
"confirmed"}``; ``confirmed`` stays null until a county-signed key list is applied after it
(:mod:`kiosk.cache.trustlog` shows them). Copies are merged: an event or PIN note in either
copy counts.

All of this only detects and reports: root on the kiosk can rewrite every copy consistently
(docs/bundle-format.md §12).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from kiosk.cache.fsutil import atomic_write_json, read_json

NAME = "highwater.json"


def paths(home: Path) -> list[Path]:
    home = Path(home)
    return [home / "mirror" / NAME, home / "trust" / NAME]


def _load(p: Path) -> dict[str, Any] | None:
    try:
        d = read_json(p, None)
    except (ValueError, OSError):
        return {"_unreadable": True}
    return d if isinstance(d, dict) else ({"_unreadable": True} if d is not None else None)


def _int(v: Any) -> int:
    return v if isinstance(v, int) and not isinstance(v, bool) and v > 0 else 0


def read(home: Path) -> dict[str, Any]:
    """The merged record: the highest ``highest_seq`` (with its manifest SHA-256) of all
    copies, the newest ``newest_issued_at``, a ``scope`` and ``keys`` record.

    Extra keys: ``exists`` (some copy is there), ``unreadable`` (list of damaged copies),
    ``keys_disagree`` (the copies hold different key records).
    """
    out: dict[str, Any] = {"highest_seq": 0, "highest_manifest_sha256": None, "newest_issued_at": None,
                           "scope": None, "keys": None, "pins": {}, "events": [], "retired": {}, "versions": {},
                           "exists": False, "unreadable": [], "keys_disagree": False}
    key_records = []
    events: dict[tuple, dict] = {}
    for p in paths(home):
        d = _load(p)
        if d is None:
            continue
        out["exists"] = True
        if d.get("_unreadable"):
            out["unreadable"].append(str(p))
            continue
        seq = _int(d.get("highest_seq"))
        if seq > out["highest_seq"]:
            out["highest_seq"], out["highest_manifest_sha256"] = seq, d.get("highest_manifest_sha256")
        t = d.get("newest_issued_at")
        if isinstance(t, str) and (out["newest_issued_at"] is None or t > out["newest_issued_at"]):
            out["newest_issued_at"] = t  # same fixed ISO 8601 UTC format throughout: text order is time order
        out["scope"] = out["scope"] or d.get("scope")
        if isinstance(d.get("keys"), dict):
            key_records.append(d["keys"])
        if isinstance(d.get("versions"), dict):
            for name, sha in d["versions"].items():
                if isinstance(sha, str):
                    out["versions"].setdefault(name, sha)
        if isinstance(d.get("retired"), dict):
            for sc, mark in d["retired"].items():
                if isinstance(mark, dict) and _int(mark.get("highest_seq")) >= _int((out["retired"].get(sc) or {})
                                                                                    .get("highest_seq")):
                    out["retired"][sc] = mark
        if isinstance(d.get("pins"), dict):
            for name, rec in d["pins"].items():
                out["pins"].setdefault(name, rec if isinstance(rec, dict) else {})
        for e in d.get("events") if isinstance(d.get("events"), list) else ():
            if isinstance(e, dict) and isinstance(e.get("event"), str) and isinstance(e.get("at"), str):
                k = (e["event"], e["at"], str(e.get("detail", "")))
                if k not in events or (e.get("confirmed") and not events[k].get("confirmed")):
                    events[k] = e
    out["events"] = sorted(events.values(), key=lambda e: e["at"])
    if key_records:
        out["keys"] = key_records[0]
        out["keys_disagree"] = any(sorted(k.get("ids") or []) != sorted(key_records[0].get("ids") or [])
                                   for k in key_records)
    return out


def _write(home: Path, update: dict[str, Any]) -> None:
    """Merge ``update`` into every copy (creating ``trust/``; ``mirror/`` only once it exists)."""
    for p in paths(home):
        if p.parent.name == "mirror" and not p.parent.is_dir():
            continue
        d = _load(p) or {}
        if d.get("_unreadable"):
            d = {}
        d.update(update)
        p.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_json(p, d)


def raise_to(home: Path, seq: int, manifest_sha256: str | None, newest_issued_at: str | None,
             scope: str | None, versions: dict[str, str] | None = None) -> None:
    """Record an installed version; never lowers the mark (the highest of old and new counts).
    ``versions``: the manifest SHA-256 of each kept version folder (see :func:`record_versions`),
    written in the same go."""
    cur = read(home)
    upd: dict[str, Any] = {}
    if versions is not None:
        upd["versions"] = dict(versions)
    if seq > cur["highest_seq"] or (seq == cur["highest_seq"] and not cur["highest_manifest_sha256"]):
        upd.update(highest_seq=seq, highest_manifest_sha256=manifest_sha256)
    else:
        upd.update(highest_seq=cur["highest_seq"], highest_manifest_sha256=cur["highest_manifest_sha256"])
    times = [t for t in (cur["newest_issued_at"], newest_issued_at) if t]
    upd["newest_issued_at"] = max(times) if times else None
    upd["scope"] = cur["scope"] or scope
    if cur["keys"] is not None:
        upd["keys"] = cur["keys"]
    for k in ("pins", "events", "retired", "versions"):  # carried into a copy that was missing or damaged
        if cur[k] and k not in upd:
            upd[k] = cur[k]
    if upd == {k: cur.get(k) for k in upd} and not cur["unreadable"] and all(p.exists() for p in paths(home)
                                                                               if p.parent.is_dir()):
        return  # nothing new: no write (a read-only check must not need a writable disk)
    _write(home, upd)


def replace_mark(home: Path, seq: int, manifest_sha256: str | None, newest_issued_at: str | None, scope: str,
                 retired: dict[str, Any]) -> None:
    """Set the mark for a new scope (the only way it may go down: a scope change made with
    the technician PIN, kiosk/cache/install.py ``change_scope``); ``retired`` keeps each
    earlier scope's mark."""
    _write(home, {"highest_seq": seq, "highest_manifest_sha256": manifest_sha256, "newest_issued_at": newest_issued_at,
                  "scope": scope, "retired": retired})


def record_keys(home: Path, key_ids: list[str], keylist_seq: int, how: str,
                public_keys: dict[str, str] | None = None, retired: dict[str, str] | None = None) -> None:
    """Record the trusted key ids after a change made through the kiosk's own code, with
    their public keys (base64 of the 32 raw bytes) and the keys a signed key list retired
    (``retired``: installed versions they signed stay verifiable; kiosk/cache/keys.py
    ``verification_keys``). Retired keys of earlier records are kept."""
    old = read(home)["keys"] or {}
    kept = {k: v for k, v in (old.get("retired") or {}).items() if isinstance(k, str) and isinstance(v, str)}
    kept.update(retired or {})
    rec: dict[str, Any] = {"ids": sorted(key_ids), "keylist_seq": keylist_seq, "changed_by": how,
                           "changed_at": _now()}
    if public_keys is not None:
        rec["public_keys"] = dict(sorted(public_keys.items()))
    if kept:
        rec["retired"] = {k: v for k, v in sorted(kept.items()) if k not in key_ids}
    _write(home, {"keys": rec})


def record_versions(home: Path, manifests: dict[str, str]) -> None:
    """Record the manifest SHA-256 of each kept version folder (``{name: sha}``), beside the
    mark: the integrity check compares installed manifests with it, not only with
    state.json. No write when unchanged."""
    cur = read(home)
    if cur.get("versions") == manifests and all(p.exists() for p in paths(home) if p.parent.is_dir()):
        return
    _write(home, {"versions": dict(manifests)})


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


#: events kept once confirmed (unconfirmed ones are never dropped)
CONFIRMED_KEEP = 50


def record_pin(home: Path, name: str, set_at: str | None, reset: bool) -> None:
    """Note that ``name``'s PIN is set; with ``reset`` also record a ``pin_reset`` event
    (a PIN set without the old one although one existed)."""
    cur = read(home)
    upd: dict[str, Any] = {"pins": {**cur["pins"], name: {"set_at": set_at or _now()}}}
    if reset:
        upd["events"] = cur["events"] + [{"event": "pin_reset", "at": _now(), "detail": name, "confirmed": None}]
    _write(home, upd)


def record_event(home: Path, event: str, detail: str) -> None:
    """Record a change made with the technician PIN (``key_added``, ``key_removed``,
    ``scope_changed``, …) as unconfirmed."""
    cur = read(home)
    _write(home, {"events": cur["events"] + [{"event": event, "at": _now(), "detail": detail, "confirmed": None}]})


def confirm_events(home: Path, keylist_seq: int) -> None:
    """A county-signed key list was applied: every unconfirmed event is confirmed by it."""
    cur = read(home)
    if not any(not e.get("confirmed") for e in cur["events"]):
        return
    when = _now()
    events = [e if e.get("confirmed") else {**e, "confirmed": {"keylist_seq": keylist_seq, "at": when}}
              for e in cur["events"]]
    _write(home, {"events": events[-CONFIRMED_KEEP:]})


def is_set_up(home: Path) -> bool:
    """True once this kiosk holds any mirror state, version, quarantine, high-water or PIN
    file: such a kiosk is never treated as fresh (no "first trust", no "first install")."""
    home = Path(home)
    m = home / "mirror"
    if any(p.exists() for p in paths(home)) or (m / "state.json").exists() or (home / "trust/pins.json").exists():
        return True
    return any(d.is_dir() and any(d.iterdir()) for d in (m / "versions", m / "quarantine"))
