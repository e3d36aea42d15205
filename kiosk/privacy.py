"""Personal data in public text: find resident ID numbers, mobile numbers and private
persons' full names in the free text of a source export before it is published.

Why: free text (a finance 摘要, a service result, a step's note) is copied into the bundle
as written. An ID number typed into a service result, or a payee's full name and phone in a
finance summary, would be shown on every kiosk and printed on receipts, and masking
applies only to the fields that name a person (docs/data-model.md). The builder refuses
such text (kiosk/records.py) with one line per finding, never echoing the number itself.

What counts (text is NFKC-normalised first, so full-width digits ``４３１３…`` count too):

* an **ID number**: 17 digits then a digit or X, not inside a longer run of digits and
  letters, with a real birth date and a valid GB 11643 check character
  (:func:`kiosk.idnumber.is_valid`);
* a **mobile number**: 11 digits ``1[3-9]…`` (GB/T 38634 numbering plan, the 13x–19x
  segments), optionally ``+86``/``86`` before and a space or ``-`` after the 3rd and 7th
  digit, not inside a longer run of digits;
* a **private person's full name**: any name (two characters or more) that the same export
  gives as an applicant, payee, household head or private counterparty, unless the export
  also names an official that way (a cadre who also received a subsidy: the name is then
  published anyway, in office).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable

from kiosk import idnumber

_ID = re.compile(r"(?<![0-9A-Za-z])(\d{17}[0-9Xx])(?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<![0-9])(?:\+?86[ -]?)?(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})(?![0-9])")


@dataclass(frozen=True)
class Finding:
    """One piece of personal data found. ``shown`` is safe to print (masked)."""

    kind: str    # id_number | mobile | name
    shown: str

    @property
    def reason(self) -> str:
        what = {"id_number": "an ID number", "mobile": "a mobile number",
                "name": "the full name of a private person from this export"}[self.kind]
        return f"holds {what} ({self.shown}); public text must not"

    @property
    def reason_zh(self) -> str:
        what = {"id_number": "身份证号码", "mobile": "手机号码", "name": "本数据中私人的全名"}[self.kind]
        return f"含有{what}（{self.shown}），公开文字中不得出现"


def normalise(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def find(text: str, private_names: frozenset[str] = frozenset(), officials: frozenset[str] = frozenset()) -> list[Finding]:
    """Personal data in ``text`` (see module doc), each finding once, in order of kind.
    ``officials``' names are taken out before names are looked for (a private 陈军 is not
    found inside the official 陈军龙)."""
    from kiosk.formatting import mask_name

    t = normalise(text)
    for name in sorted(officials, key=lambda n: (-len(n), n)):
        if private_names and len(name) >= 2 and name in t:
            t = t.replace(name, "\u3000")
    out: list[Finding] = []
    for m in _ID.finditer(t):
        if idnumber.is_valid(m.group(1)):
            out.append(Finding("id_number", m.group(1)[:4] + "*" * 14))
    for m in _MOBILE.finditer(t):
        out.append(Finding("mobile", f"{m.group(1)}****{m.group(3)}"))
    for name in sorted(private_names, key=lambda n: (-len(n), n)):
        if name in t:
            out.append(Finding("name", mask_name(name)))
            t = t.replace(name, "*")  # 张三丰 found: do not report 张三 inside it again
    return out


def private_names(persons: Iterable[str], officials: Iterable[str]) -> frozenset[str]:
    """The names to look for: private persons' names of two characters or more, minus the
    names officials also bear (see module doc)."""
    off = {normalise(n).strip() for n in officials if isinstance(n, str)}
    return frozenset(n for n in (normalise(p).strip() for p in persons if isinstance(p, str))
                     if len(n) >= 2 and n not in off)
