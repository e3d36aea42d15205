"""The 256-byte UTF-16LE text block of a 2nd-generation resident ID card → :class:`IdCard`.

Layout (GA/T 490; offsets in bytes, UTF-16LE, padded with spaces)::

    0 name(30)  30 sex(2)  32 nation(4)  36 birth(16)  52 address(70)  122 ID number(36)
    158 issuer(30)  188 valid from(16)  204 valid to(16, YYYYMMDD or 长期)  220 reserved(36)

The character at offset 248 flags the card type: a space for a resident card; ``I``/``Y``
foreign permanent resident cards (2017/2023 layout); ``J`` residence permits for Hong Kong,
Macau and Taiwan residents. Those use other layouts and are refused, never mis-read.

Sex codes: GB/T 2261.1; nation codes: GB 3304 (``kiosk/data/*.csv``).
"""
from __future__ import annotations

import csv
import datetime as _dt
import io
import re
from dataclasses import asdict, dataclass
from functools import lru_cache
from importlib import resources

from kiosk import idnumber
from kiosk.devices.idcard.errors import CardDataError, CardTypeRefused

#: the fields ``kiosk read-card`` and 技术员维护 › 读卡测试 show, in order, with their
#: Chinese names (values from :meth:`IdCard.masked_dict`, plus ``validity``)
FIELDS_ZH = (("name", "姓名"), ("sex", "性别"), ("nation", "民族"), ("birth", "出生"),
             ("address", "住址"), ("id_number", "公民身份号码"), ("issuer", "签发机关"),
             ("validity", "有效期限"))

TEXT_LEN = 256
TYPE_OFFSET = 248
LONG_TERM = "长期"

#: Card-type flag → (English, Chinese) name of the card. Space (and NUL, which some
#: readers leave in the reserved area) mean a resident card.
OTHER_CARD_TYPES = {
    "I": ("foreign permanent resident card (2017)", "外国人永久居留身份证"),
    "Y": ("foreign permanent resident card (2023)", "外国人永久居留身份证"),
    "J": ("residence permit for Hong Kong, Macau and Taiwan residents", "港澳台居民居住证"),
}

_FIELDS = (  # name, offset, length in bytes
    ("name", 0, 30), ("sex", 30, 2), ("nation", 32, 4), ("birth", 36, 16),
    ("address", 52, 70), ("id_number", 122, 36), ("issuer", 158, 30),
    ("valid_from", 188, 16), ("valid_to", 204, 16),
)


@lru_cache(maxsize=None)
def _code_table(filename: str) -> dict[str, str]:
    text = resources.files("kiosk").joinpath("data", filename).read_text(encoding="utf-8")
    return {row["code"]: row["name"] for row in csv.DictReader(io.StringIO(text))}


def sex_name(code: str) -> str:
    """GB/T 2261.1 code → name (``"1"`` → ``"男"``); KeyError if unknown."""
    return _code_table("sex-gbt2261.csv")[code]


def nation_name(code: str) -> str:
    """GB 3304 code → name (``"01"`` → ``"汉族"``); KeyError if unknown."""
    return _code_table("nation-gb3304.csv")[code]


@dataclass(frozen=True)
class IdCard:
    """A parsed resident ID card. Holds a full ID number: never log it, never show it whole.

    Dates are :class:`datetime.date`; ``valid_to`` is None for 长期 (long-term) validity.
    """

    name: str
    sex_code: str
    sex: str
    nation_code: str
    nation: str
    birth: _dt.date
    address: str
    id_number: str
    issuer: str
    valid_from: _dt.date
    valid_to: _dt.date | None
    card_type: str = "resident"

    @property
    def long_term(self) -> bool:
        return self.valid_to is None

    @property
    def validity_text(self) -> str:
        """``2016.05.01-2036.05.01`` or ``2016.05.01-长期``, as printed on the card."""
        end = LONG_TERM if self.valid_to is None else f"{self.valid_to:%Y.%m.%d}"
        return f"{self.valid_from:%Y.%m.%d}-{end}"

    def __repr__(self) -> str:  # keep the full number out of logs and tracebacks
        from kiosk.formatting import mask_id_number, mask_name

        return f"IdCard(name={mask_name(self.name)!r}, id_number={mask_id_number(self.id_number)!r})"

    def to_dict(self) -> dict:
        """Plain JSON-ready dict (ISO 8601 dates, ``valid_to`` ``"长期"`` when long-term).

        Full values: mask before showing (see :func:`masked_dict`).
        """
        d = asdict(self)
        for k in ("birth", "valid_from"):
            d[k] = d[k].isoformat()
        d["valid_to"] = LONG_TERM if self.valid_to is None else self.valid_to.isoformat()
        return d

    def masked_dict(self) -> dict:
        """Like :meth:`to_dict`, with the ID number cut to its first four digits (province
        and city: ``4313**************``), the birth date to its year (``1950``) and the
        address to the township (乡/镇/街道). Not the last four characters nor the full birth
        date: with the county code (from the address) those two give the whole number."""
        d = self.to_dict()
        d["id_number"] = self.id_number[:4] + "*" * (len(self.id_number) - 4)
        d["birth"] = f"{self.birth.year}"
        d["address"] = township_address(self.address)
        return d


_COUNTY_END = re.compile(r"(?:自治县|自治旗|县|市|区|旗)")
_TOWNSHIP_END = re.compile(r"(?:民族乡|乡|镇|街道|苏木|地区办事处)")


def township_address(address: str) -> str:
    """Cut an address after its township: ``湖南省涟源市桥头河镇石坝村3组`` → ``湖南省涟源市桥头河镇``.

    The township (乡/镇/街道) is the first such word after the first county-level name;
    without one the address is cut after the county and ``…`` appended, so nothing below
    the township (village, group, house number) is ever shown.
    """
    address = address.strip()
    county = _COUNTY_END.search(address, 2)
    start = county.end() if county else 0
    town = _TOWNSHIP_END.search(address, start + 1 if county else 2)
    if town:
        return address[: town.end()]
    if county:
        return address[: county.end()] + ("…" if county.end() < len(address) else "")
    return address[:6] + ("…" if len(address) > 6 else "")


def card_type_flag(text: bytes) -> str:
    """The card-type character at text offset 248 (``" "`` for a resident card)."""
    if len(text) < TYPE_OFFSET + 2:
        raise CardDataError(f"card text is {len(text)} bytes, need {TEXT_LEN}")
    try:
        return text[TYPE_OFFSET:TYPE_OFFSET + 2].decode("utf-16-le")
    except UnicodeDecodeError as exc:
        raise CardDataError("card-type flag is not a character") from exc


def check_card_type(text: bytes) -> None:
    """Raise :class:`CardTypeRefused` unless ``text`` is a resident card's text."""
    flag = card_type_flag(text)
    if flag in (" ", "\x00"):
        return
    en, zh = OTHER_CARD_TYPES.get(flag, (f"unknown card type {flag!r}", "其他类型的证件"))
    err = CardTypeRefused(flag, zh)
    err.message = f"refused card type {flag!r} ({en}): only resident ID cards are read"
    err.args = (err.message,)
    raise err


def _date(s: str, what: str) -> _dt.date:
    if len(s) != 8 or not (s.isascii() and s.isdigit()):
        raise CardDataError(f"{what} {s!r} is not YYYYMMDD")
    try:
        return _dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    except ValueError as exc:
        raise CardDataError(f"{what} {s} is not a calendar date") from exc


def parse_text(text: bytes, today: _dt.date | None = None) -> IdCard:
    """Parse the 256-byte text block of a resident card.

    Checks the card type first (other layouts are refused), then every field: sex and nation
    codes, dates, the ID number's check character (GB 11643) and that its birth date equals
    the birth field.

    Raises:
        CardTypeRefused: not a resident card.
        CardDataError: wrong size, undecodable text, or an invalid field.
    """
    text = bytes(text)
    if len(text) != TEXT_LEN:
        raise CardDataError(f"card text is {len(text)} bytes, expected {TEXT_LEN}")
    check_card_type(text)
    raw = {}
    for field, off, n in _FIELDS:
        try:
            raw[field] = text[off:off + n].decode("utf-16-le").strip(" \x00\u3000")
        except UnicodeDecodeError as exc:
            raise CardDataError(f"card field {field} is not UTF-16LE text") from exc
    if not raw["name"]:
        raise CardDataError("card has no name")
    try:
        sex = sex_name(raw["sex"])
    except KeyError:
        raise CardDataError(f"sex code {raw['sex']!r} is not GB/T 2261.1") from None
    if len(raw["nation"]) != 2 or not (raw["nation"].isascii() and raw["nation"].isdigit()):
        raise CardDataError(f"nation code {raw['nation']!r} is not 2 digits (GB 3304)")
    try:
        nation = nation_name(raw["nation"])
    except KeyError:
        raise CardDataError(f"nation code {raw['nation']} is not in GB 3304") from None
    birth = _date(raw["birth"], "birth date")
    if not raw["id_number"].isascii():  # str.isdigit() also accepts ² and other digits
        raise CardDataError("ID number on the card has non-ASCII characters")
    try:
        idn = idnumber.validate(raw["id_number"], today=today)
    except idnumber.IdNumberError as exc:
        raise CardDataError(f"ID number on the card is invalid: {exc}") from None
    if idnumber.birth_date(idn) != birth:
        raise CardDataError("birth date on the card does not match the ID number")
    valid_from = _date(raw["valid_from"], "valid-from date")
    valid_to = None if raw["valid_to"] == LONG_TERM else _date(raw["valid_to"], "valid-to date")
    if valid_to is not None and valid_to < valid_from:
        raise CardDataError("validity ends before it starts")
    return IdCard(
        name=raw["name"], sex_code=raw["sex"], sex=sex, nation_code=raw["nation"], nation=nation,
        birth=birth, address=raw["address"], id_number=idn, issuer=raw["issuer"],
        valid_from=valid_from, valid_to=valid_to,
    )


def _field(value: str, n: int, what: str) -> bytes:
    b = value.encode("utf-16-le")
    if len(b) > n:
        raise CardDataError(f"{what} {value!r} does not fit {n // 2} characters")
    return b + " ".encode("utf-16-le") * ((n - len(b)) // 2)


def build_text(card: IdCard, type_flag: str = " ") -> bytes:
    """The 256-byte text block for ``card`` (simulator and tests; inverse of :func:`parse_text`).

    Raises:
        CardDataError: a field is too long for its slot.
    """
    values = {
        "name": card.name, "sex": card.sex_code, "nation": card.nation_code,
        "birth": f"{card.birth:%Y%m%d}", "address": card.address, "id_number": card.id_number,
        "issuer": card.issuer, "valid_from": f"{card.valid_from:%Y%m%d}",
        "valid_to": LONG_TERM if card.valid_to is None else f"{card.valid_to:%Y%m%d}",
    }
    out = b"".join(_field(values[f], n, f) for f, _off, n in _FIELDS)
    reserved = bytearray(_field("", 36, "reserved"))
    reserved[TYPE_OFFSET - 220:TYPE_OFFSET - 218] = type_flag.encode("utf-16-le")
    return out + bytes(reserved)
