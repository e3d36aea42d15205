"""Resident ID numbers (公民身份号码), GB 11643-1999.

Why our own code: python-stdnum's ``cn.ric`` also demands that the county code existed in
the birth year, which rejects real elderly villagers whose numbers were issued under a later
county code (431382 for someone born in 1950) and even the standard's own example
``440524188001010014``. We check only what the standard defines: 18 characters, a valid birth
date, and the ISO 7064 MOD 11-2 check character.
"""
from __future__ import annotations

import datetime as _dt

_WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2
_CHECK = "10X98765432"


class IdNumberError(ValueError):
    """The string is not a valid 18-character resident ID number (message says why)."""


def check_char(first17: str) -> str:
    """ISO 7064 MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdNumberError("need exactly 17 digits")
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS)) % 11]


def birth_date(idn: str) -> _dt.date:
    """Birth date encoded in digits 7–14.

    Raises:
        IdNumberError: not a real calendar date.
    """
    s = idn[6:14]
    try:
        return _dt.date(int(s[:4]), int(s[4:6]), int(s[6:8]))
    except ValueError as exc:
        raise IdNumberError(f"birth date {s} is not a calendar date") from exc


def validate(idn: str, today: _dt.date | None = None) -> str:
    """Return the normalised number (upper-case X) if valid.

    Checks: 18 characters, 17 digits then a digit or X, a birth date that exists and is not in
    the future nor before 1850, and the check character.

    Raises:
        IdNumberError: with a one-line reason.
    """
    if not isinstance(idn, str):
        raise IdNumberError("ID number must be text")
    s = idn.strip().upper()
    if len(s) != 18:
        raise IdNumberError(f"ID number must have 18 characters, got {len(s)}")
    if not s.isascii() or not s[:17].isdigit() or not (s[17].isdigit() or s[17] == "X"):
        raise IdNumberError("ID number must be 17 digits then a digit or X")
    born = birth_date(s)
    if born.year < 1850 or born > (today or _dt.date.today()):
        raise IdNumberError(f"birth date {born.isoformat()} is out of range")
    if check_char(s[:17]) != s[17]:
        raise IdNumberError("check character does not match (GB 11643)")
    return s


def is_valid(idn: str) -> bool:
    """True when :func:`validate` accepts ``idn``."""
    try:
        validate(idn)
    except IdNumberError:
        return False
    return True


def make(region: str, born: _dt.date, sequence: int) -> str:
    """Synthesise a valid number (for demo data and tests only; never a real person's).

    ``region`` is 6 digits, ``sequence`` 0–999 (odd = male, even = female by the standard).
    """
    if len(region) != 6 or not region.isdigit() or not 0 <= sequence <= 999:
        raise IdNumberError("region must be 6 digits and sequence 0..999")
    first17 = f"{region}{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
