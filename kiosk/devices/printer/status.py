"""Real-time printer status from ``DLE EOT n`` (Epson ESC/POS manual, "DLE EOT"; bit table in
docs/printer.md, "Real-time status"). Our own code: python-escpos's ``query_status`` reads only
n=1 and n=4 and treats a missing reply as an exception of its own.

No reply means *unknown*, never *fine*: cheap printers often do not answer.
"""
from __future__ import annotations

import dataclasses

from . import commands as cmd
from .errors import CoverOpen, PaperOut, PrinterError, PrinterOffline, StatusReplyError

#: Bits that must read 0xx1xx10 in every valid reply.
_FIXED_MASK, _FIXED_VALUE = 0x93, 0x12


def decode_reply(n: int, data: bytes) -> dict[str, bool]:
    """Flags in the reply ``data`` (one byte) to ``DLE EOT n``.

    Returns (by n): 1 → ``offline``; 2 → ``cover_open``, ``paper_stop``, ``error``;
    3 → ``cutter_error``, ``unrecoverable_error``, ``auto_recoverable_error``;
    4 → ``paper_near_end``, ``paper_end``.

    Raises:
        StatusReplyError: ``n`` is not 1..4, ``data`` is not exactly one byte, or the byte does
            not have the fixed bit pattern ``0xx1xx10``.
    """
    if not isinstance(n, int) or n not in (1, 2, 3, 4):
        raise StatusReplyError(f"DLE EOT n must be 1..4, not {n!r}", "打印机状态查询参数错误")
    if not isinstance(data, (bytes, bytearray)) or len(data) != 1:
        raise StatusReplyError(f"status reply must be one byte, got {data!r}")
    b = data[0]
    if b & _FIXED_MASK != _FIXED_VALUE:
        raise StatusReplyError(f"not a status byte for DLE EOT {n}: 0x{b:02x}")
    if n == 1:
        return {"offline": bool(b & 0x08)}
    if n == 2:
        return {"cover_open": bool(b & 0x04), "paper_stop": bool(b & 0x20), "error": bool(b & 0x40)}
    if n == 3:
        return {"cutter_error": bool(b & 0x08), "unrecoverable_error": bool(b & 0x20),
                "auto_recoverable_error": bool(b & 0x40)}
    return {"paper_near_end": bool(b & 0x0C), "paper_end": bool(b & 0x60)}


@dataclasses.dataclass(frozen=True)
class PrinterStatus:
    """What the printer said. A field is ``None`` when the printer did not answer that query.

    ``known`` is False when no query got a valid reply: the state is unknown, not fine.
    """

    offline: bool | None = None
    cover_open: bool | None = None
    paper_near_end: bool | None = None
    paper_end: bool | None = None
    cutter_error: bool | None = None
    error: bool | None = None

    @property
    def known(self) -> bool:
        return any(v is not None for v in dataclasses.asdict(self).values())

    @property
    def ok(self) -> bool:
        """Every query answered and nothing wrong (paper near end is only a warning)."""
        d = dataclasses.asdict(self)
        return all(v is not None for v in d.values()) and not any(
            v for k, v in d.items() if k != "paper_near_end")

    def label(self) -> str:
        """Short English state: ``ok``, ``unknown``, or the problems joined by ``, ``."""
        if not self.known:
            return "unknown (no status reply)"
        probs = [k.replace("_", " ") for k, v in dataclasses.asdict(self).items() if v]
        if probs:
            return ", ".join(probs)
        return "ok" if self.ok else "ok (partly unknown)"

    def label_zh(self) -> str:
        """Short Chinese state for staff."""
        if not self.known:
            return "状态未知（打印机未应答）"
        names = {"offline": "离线", "cover_open": "纸仓盖打开", "paper_near_end": "纸将用完",
                 "paper_end": "缺纸", "cutter_error": "切刀故障", "error": "故障"}
        probs = [names[k] for k, v in dataclasses.asdict(self).items() if v]
        return "、".join(probs) if probs else "正常"

    def raise_for_problems(self) -> None:
        """Raise the error for a state that stops printing (unknown does not raise).

        Raises:
            PaperOut, CoverOpen, PrinterOffline.
        """
        if self.paper_end:
            raise PaperOut("printer is out of paper")
        if self.cover_open:
            raise CoverOpen("printer cover is open")
        if self.cutter_error:
            raise PrinterOffline("printer cutter error", "打印机切刀故障，请检查后重试")
        if self.offline or self.error:
            raise PrinterOffline("printer is offline or in error")


def query_status(transport, timeout: float = 1.0) -> PrinterStatus:
    """Ask ``DLE EOT`` 1, 2, 3, 4 over ``transport`` and merge the replies.

    Stale bytes are drained first. A query with no reply (or an invalid one) leaves its fields
    ``None``; after one silent query the rest are skipped (a silent printer stays silent).

    Raises:
        PrinterDisconnected, PrinterTimeout: from the transport.
    """
    transport.drain()
    flags: dict[str, bool] = {}
    for n in (1, 2, 3, 4):
        transport.write(cmd.status_request(n))
        reply = transport.read(1, timeout)
        if not reply:
            break
        try:
            flags.update(decode_reply(n, reply[:1]))
        except StatusReplyError:
            continue
    error = None
    if any(k in flags for k in ("error", "unrecoverable_error", "auto_recoverable_error")):
        error = bool(flags.get("error") or flags.get("unrecoverable_error")
                     or flags.get("auto_recoverable_error"))
    paper_end = None
    if "paper_end" in flags or "paper_stop" in flags:
        paper_end = bool(flags.get("paper_end") or flags.get("paper_stop"))
    return PrinterStatus(
        offline=flags.get("offline"), cover_open=flags.get("cover_open"),
        paper_near_end=flags.get("paper_near_end"), paper_end=paper_end,
        cutter_error=flags.get("cutter_error"), error=error,
    )


__all__ = ["PrinterStatus", "decode_reply", "query_status", "PrinterError"]
