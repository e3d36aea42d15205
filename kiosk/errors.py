"""Error base class: every expected failure carries an English line for the CLI and a
Chinese line for the screen."""
from __future__ import annotations


class KioskError(Exception):
    """Base of expected failures.

    Attributes:
        message: one English line (CLI, logs).
        message_zh: one Chinese line for the screen.
        exit_code: CLI exit status.
    """

    exit_code = 1
    default_zh = "操作失败"

    def __init__(self, message: str, message_zh: str | None = None):
        super().__init__(message)
        self.message = message
        self.message_zh = message_zh or self.default_zh

    def __str__(self) -> str:  # one line: "English (中文)"
        return f"{self.message} ({self.message_zh})" if self.message_zh else self.message
