"""Printer errors: each carries an English line, a Chinese line for staff (message_zh), and
whether the same job may simply be sent again once the cause is fixed (``retryable``)."""
from __future__ import annotations

from kiosk.errors import Exit, KioskError


class PrinterError(KioskError):
    """Base of every printer failure."""

    exit_code = Exit.PRINTER
    default_zh = "打印机故障，请联系工作人员"
    retryable = True


class PrinterNotFound(PrinterError):
    """No printer is attached (or none matches the configured VID:PID)."""

    default_zh = "未检测到打印机，请检查打印机电源和 USB 连线后重试"


class PrinterDisconnected(PrinterError):
    """The printer went away (unplugged, powered off) before or during the job."""

    default_zh = "打印机已断开连接，请重新插好 USB 线后重试"


class PrinterTimeout(PrinterError):
    """The printer did not take the data within the write timeout."""

    default_zh = "打印机无响应，请检查打印机后重试"


class PaperOut(PrinterError):
    """Paper end sensor: the roll is empty."""

    default_zh = "打印纸已用完，请更换纸卷后重试"


class CoverOpen(PrinterError):
    """The paper cover is open."""

    default_zh = "打印机纸仓盖未关好，请合上后重试"


class PrinterOffline(PrinterError):
    """The printer reports itself offline or in an error state (e.g. cutter jam)."""

    default_zh = "打印机处于离线或故障状态，请检查后重试"


class PrinterAccessDenied(PrinterError):
    """The kiosk's user may not open the device (udev rules missing)."""

    default_zh = "没有打印机的使用权限，请联系技术人员安装 udev 规则"
    retryable = False


class StatusReplyError(PrinterError):
    """A ``DLE EOT`` reply is not a valid status byte (wrong length or bit pattern)."""

    default_zh = "打印机状态无法识别"


class UnprintableText(PrinterError):
    """A character that neither the printer's font nor the app's fonts can draw.

    Printing it would show ``?`` or a box, which would falsify a record, so the job is refused.
    """

    default_zh = "小票中有无法打印的字符，请联系技术人员"
    retryable = False


class UnknownProfile(PrinterError):
    """``printer.profile`` names no known profile."""

    default_zh = "打印机型号配置有误，请联系技术人员"
    retryable = False
