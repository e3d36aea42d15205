"""Shipped reference tables (``kiosk/data/*.csv``) read with importlib.resources."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


def _rows(name: str) -> list[dict[str, str]]:
    text = resources.files("kiosk.data").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@dataclass(frozen=True)
class Village:
    """One row of ``loudi-4313-villages.csv`` (NBS 统计用区划代码 2023)."""

    code: str
    official_name: str
    township_code: str
    township_name: str
    county_code: str
    county_name: str

    @property
    def name(self) -> str:
        """Display name: the statistical name without a trailing 委会 (石坝村委会 → 石坝村)."""
        n = self.official_name
        for tail in ("居民委员会", "居委会"):
            if n.endswith("社区" + tail):
                return n[: -len(tail)]
        if n.endswith("委会"):
            return n[:-2]
        return n

    @property
    def group_word(self) -> str:
        """村民小组 for a village, 居民小组 for a community."""
        return "居民小组" if "社区" in self.name else "村民小组"


@lru_cache(maxsize=None)
def villages() -> dict[str, Village]:
    """Every village-level unit of Loudi (4313) by 12-digit code."""
    return {
        r["village_code"]: Village(r["village_code"], r["village_name"], r["township_code"],
                                   r["township_name"], r["county_code"], r["county_name"])
        for r in _rows("loudi-4313-villages.csv")
    }


@lru_cache(maxsize=None)
def chart() -> dict[str, str]:
    """First-level accounts of the 2023 chart (财会〔2023〕14号): code → name."""
    return {r["code"]: r["name"] for r in _rows("village-collective-2023.csv")}


@lru_cache(maxsize=None)
def power_items() -> list[dict[str, str]]:
    """The 28-item sample power list: rows with class, no, name, sourced."""
    return _rows("power-list-sample.csv")


@lru_cache(maxsize=None)
def nations() -> dict[str, str]:
    """GB 3304 民族 codes → names."""
    return {r["code"]: r["name"] for r in _rows("nation-gb3304.csv")}
