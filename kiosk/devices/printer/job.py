"""Send a composed receipt to a printer, check its status before and after, and turn every
failure into a result the screen can show and the staff can retry."""
from __future__ import annotations

import dataclasses
import datetime as _dt
import logging

from .composer import Composed, compose
from .discovery import open_default
from .errors import PrinterError
from .profiles import Profile, get_profile
from .receipt import Receipt
from .status import PrinterStatus, query_status
from .transports import Transport

log = logging.getLogger(__name__)


@dataclasses.dataclass
class PrintResult:
    """What happened to one print job.

    Attributes:
        ok: the whole receipt was handed to the printer and it reported no problem afterwards.
        status: the printer's state after the job (or before, if it stopped there);
            ``status.known`` is False when the printer does not answer status queries.
        error: the failure (``None`` when ok); its ``message_zh`` is for the screen.
        bytes_sent: bytes written before the end or the failure.
        job: the composed bytes; pass the result to :func:`retry` to print the same receipt again.
    """

    ok: bool
    job: Composed
    status: PrinterStatus = dataclasses.field(default_factory=PrinterStatus)
    error: PrinterError | None = None
    bytes_sent: int = 0
    transport: str = ""

    @property
    def retryable(self) -> bool:
        return self.error is not None and self.error.retryable

    @property
    def message(self) -> str:
        return "printed" if self.ok else self.error.message

    @property
    def message_zh(self) -> str:
        return "打印完成，请取走小票" if self.ok else self.error.message_zh


def _timeouts() -> tuple[float, float]:
    from kiosk.config import TIMEOUTS

    return float(TIMEOUTS["printer_write"]), float(TIMEOUTS["printer_status_reply"])


def send(job: Composed, transport: Transport | None = None, vid_pid: str | None = None) -> PrintResult:
    """Print ``job`` on ``transport`` (``None``: discover the attached printer now).

    Never raises a :class:`PrinterError`: it is in ``result.error``.
    """
    write_timeout, status_timeout = _timeouts()
    result = PrintResult(ok=False, job=job)
    try:
        if transport is None:
            if vid_pid is None:
                from kiosk import config

                vid_pid = config.load()["printer"].get("vid_pid") or ""
            transport = open_default(vid_pid)
        result.transport = transport.describe()
        with transport:
            result.status = query_status(transport, status_timeout)
            result.status.raise_for_problems()
            # Chunks so an unplug is noticed between them and bytes_sent says how far it got.
            for i in range(0, len(job.data), 4096):
                chunk = job.data[i:i + 4096]
                transport.write(chunk, write_timeout)
                result.bytes_sent += len(chunk)
            after = query_status(transport, status_timeout)
            if after.known:
                result.status = after
            after.raise_for_problems()  # paper ran out during the job
        result.ok = True
    except PrinterError as exc:
        result.error = exc
        log.warning("print job failed after %d bytes: %s", result.bytes_sent, exc)
    return result


def print_receipt(receipt: Receipt, profile: Profile | str | None = None,
                  transport: Transport | None = None, now: _dt.datetime | None = None) -> PrintResult:
    """Compose ``receipt`` for ``profile`` (default: config ``printer.profile``) and print it.

    Returns:
        :class:`PrintResult`; on failure ``result.error.message_zh`` is the line for staff and
        :func:`retry` sends the same bytes again once the cause is fixed.

    Raises:
        UnknownProfile, UnprintableText: the receipt cannot be composed (nothing was sent).
    """
    prof = get_profile(profile) if not isinstance(profile, Profile) else profile
    return send(compose(receipt, prof, now), transport)


def retry(result: PrintResult, transport: Transport | None = None) -> PrintResult:
    """Print the job of a failed ``result`` again, from its start (the printer is discovered
    again when ``transport`` is ``None``, so a replugged printer is picked up)."""
    return send(result.job, transport)
