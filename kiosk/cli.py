"""``kiosk`` command line. Each concern registers its own sub-commands (see COMMAND_MODULES).

Every failure prints one line to stderr (``kiosk: error: …``) and exits non-zero.
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that define ``register(subparsers)``; each sub-command sets ``func(args) -> int``.
COMMAND_MODULES = [
    "kiosk.commands.data",       # demo-data
    "kiosk.commands.keys",       # keygen, trust, pin
    "kiosk.commands.bundles",    # bundle build/verify, import, status
    "kiosk.commands.ui",         # run, screenshot
    "kiosk.commands.devices",    # devices, print-test
    "kiosk.commands.card",       # read-card
    "kiosk.commands.bench",      # bench
    "kiosk.commands.sync",       # sync, publish, stick
]


class CliError(Exception):
    """A user-facing failure: its message is printed as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="村务公开查询终端")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            mod = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # not written yet
                continue
            raise
        mod.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("kiosk: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - every error becomes one clear line
        from kiosk.errors import KioskError

        if isinstance(exc, (KioskError, CliError)):
            print(f"kiosk: error: {exc}", file=sys.stderr)
            return getattr(exc, "exit_code", 1)
        raise


if __name__ == "__main__":
    sys.exit(main())
