"""The receipt to print, as data: built by the UI, laid out by :mod:`.composer`.

    r = (Receipt("2024年3月 财务收支明细", village="石坝村")
         .row("凭证号", "记-0012")
         .table(["摘要", "收入", "支出"], rows, totals=["合计", "1,200.00", "30.05"])
         .amount("本月结余", Decimal("1169.95"))
         .qr("https://example.invalid/r/12")
         .footer(seq=12, fingerprint="3f9a1c07", data_as_of="2024-03-31"))

Amounts are ``Decimal`` 元 (floats are refused by :func:`kiosk.formatting.money`); dates ISO 8601.
"""
from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from decimal import Decimal


@dataclasses.dataclass(frozen=True)
class Row:
    key: str
    value: str


@dataclasses.dataclass(frozen=True)
class Text:
    text: str
    align: str = "left"
    bold: bool = False


@dataclasses.dataclass(frozen=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    totals: tuple[str, ...] | None = None
    aligns: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True)
class Amount:
    label: str
    amount: Decimal


@dataclasses.dataclass(frozen=True)
class QR:
    payload: str
    caption: str = ""


@dataclasses.dataclass(frozen=True)
class Rule:
    char: str = "-"


@dataclasses.dataclass(frozen=True)
class Footer:
    """Where the printed data comes from: the signed mirror's bundle ``seq``, its ``fingerprint``
    (8 lowercase hex digits, :func:`kiosk.cache.bundle.fingerprint`), the data's ``data_as_of``
    date (ISO 8601) and the print time (local, set at compose time when ``None``).

    Printed as the kiosk screen shows it: ``数据更新至 2024-03-31 · 第12版 · 指纹 3f9a1c07``
    (over two lines on narrow paper), then ``打印时间``."""

    seq: int
    fingerprint: str
    data_as_of: str
    printed_at: _dt.datetime | None = None


@dataclasses.dataclass
class Receipt:
    """A receipt: a title, the village, blocks in order, and a footer.

    Builder methods return ``self`` so calls chain.
    """

    title: str
    village: str = ""
    blocks: list = dataclasses.field(default_factory=list)
    footer_info: Footer | None = None

    def row(self, key: str, value: str) -> "Receipt":
        """A key–value line: key at the left, value at the right."""
        self.blocks.append(Row(str(key), str(value)))
        return self

    def text(self, text: str, align: str = "left", bold: bool = False) -> "Receipt":
        """A paragraph, wrapped at the paper width."""
        self.blocks.append(Text(str(text), align, bold))
        return self

    def table(self, header: list[str], rows: list[list[str]], totals: list[str] | None = None,
              aligns: list[str] | None = None) -> "Receipt":
        """A table; cells are strings (format money with :func:`kiosk.formatting.money` first).

        ``aligns`` per column (``left``/``right``/``center``); default: first column left,
        others right (amount columns).
        """
        n = len(header)
        if any(len(r) != n for r in rows) or (totals is not None and len(totals) != n):
            raise ValueError("every table row must have as many cells as the header")
        self.blocks.append(Table(tuple(header), tuple(tuple(str(c) for c in r) for r in rows),
                                 tuple(totals) if totals is not None else None,
                                 tuple(aligns) if aligns else None))
        return self

    def amount(self, label: str, amount: Decimal | str) -> "Receipt":
        """An amount in figures and in Chinese capitals (壹仟贰佰元整)."""
        from kiosk.formatting import to_decimal

        self.blocks.append(Amount(label, to_decimal(amount)))
        return self

    def qr(self, payload: str, caption: str = "") -> "Receipt":
        """A QR code (centred), with an optional caption under it."""
        if not payload:
            raise ValueError("empty QR payload")
        self.blocks.append(QR(payload, caption))
        return self

    def rule(self, char: str = "-") -> "Receipt":
        """A full-width separator line."""
        self.blocks.append(Rule(char))
        return self

    def footer(self, seq: int, fingerprint: str, data_as_of: str,
               printed_at: _dt.datetime | None = None) -> "Receipt":
        """The data-version footer (see :class:`Footer`).

        Raises:
            ValueError: ``fingerprint`` is not 8 lowercase hex digits, ``data_as_of`` is not an
                ISO 8601 date, or ``seq`` is below 1 (a footer must match the screen's).
        """
        if not re.fullmatch(r"[0-9a-f]{8}", fingerprint or ""):
            raise ValueError(f"fingerprint must be 8 lowercase hex digits, got {fingerprint!r}")
        _dt.date.fromisoformat(data_as_of)
        if int(seq) < 1:
            raise ValueError(f"bundle seq must be 1 or more, got {seq!r}")
        self.footer_info = Footer(int(seq), fingerprint, data_as_of, printed_at)
        return self
