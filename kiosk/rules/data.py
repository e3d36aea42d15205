"""A validated source export as the rules read it (:class:`kiosk.rules.base.VillageData`).

Titles are what the bundle's lists and search show (private names masked), so a flag's title
never holds more than the record's public screen.
"""
from __future__ import annotations

import datetime as dt

from kiosk.formatting import mask_name
from kiosk.rules.base import VillageData


def finance_title(r: dict) -> str:
    return f"{r['date']} {r['summary']}"


def service_title(date: str, power_name: str, shown_applicant: str) -> str:
    return f"{date} {power_name} {shown_applicant}"


def from_source(src) -> VillageData:
    """:class:`VillageData` of a :class:`kiosk.records.Source` (ids as they stand: qualify
    them first for a several-village bundle)."""
    rec = src.records
    v = VillageData(code=src.village["code"], as_of=dt.date.fromisoformat(src.village["data_as_of"]),
                    land_contract_end=src.village.get("land_contract_end"))
    v.finance = [{**{k: r[k] for k in ("id", "date", "direction", "amount", "approval_level", "reverses",
                                        "payment_method", "project_id", "project_payment", "asset_id")},
                  "title": finance_title(r)} for r in rec["finance"]]
    v.projects = [{**{k: r[k] for k in ("id", "name", "category", "location", "budget", "contract_amount",
                                         "procurement_method", "contractor")},
                   "stages": [{"ord": s["ord"], "stage": s["stage"], "date": s["date"]} for s in r["stages"]],
                   "title": r["name"]} for r in rec["projects"]]
    v.assets = [{**{k: r[k] for k in ("id", "name", "kind", "category", "status", "reserve_price", "deal_price",
                                       "bidders", "term_start", "term_end", "annual_rent", "rent_first_due",
                                       "rent_every_months")},
                 "title": r["name"]} for r in rec["assets"]]
    v.services = [{"id": r["id"], "power_name": r["power_name"], "decided_on": r["decided_on"],
                   "notice_from": r["notice_from"], "notice_to": r["notice_to"],
                   "title": service_title(r["decided_on"], r["power_name"], mask_name(r["applicant"]))}
                  for r in rec["services"]]
    return v
