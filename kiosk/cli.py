"""``kiosk`` command line. Each concern registers its own sub-commands (see COMMAND_MODULES).

Every failure prints one line to stderr (``kiosk: error: …``) and exits with the code of
:class:`kiosk.errors.Exit` that names it (one meaning per code; README, "Command line").
"""
from __future__ import annotations

import argparse
import importlib
import sys

#: Modules that define ``register(subparsers)``; each sub-command sets ``func(args) -> int``.
COMMAND_MODULES = [
    "kiosk.commands.data",       # demo-data
    "kiosk.commands.keys",       # keygen, trust, scope, pin
    "kiosk.commands.bundles",    # bundle build/verify, import, status
    "kiosk.commands.ui",         # run, screenshot
    "kiosk.commands.devices",    # devices, print-test, print
    "kiosk.commands.card",       # read-card
    "kiosk.commands.bench",      # bench
    "kiosk.commands.sync",       # sync, publish, stick
    "kiosk.commands.speech",     # speak
    "kiosk.commands.flags",      # flags check, flags list
    "kiosk.commands.deploy",     # deploy (install.sh helpers)
    "kiosk.commands.system",     # paused, display, stick-helper
    "kiosk.commands.app",        # app build/verify/install/status/trust/…
]


class CliError(Exception):
    """The command line is wrong (exit code ``Exit.USAGE``): its message is printed as one line."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="村务公开查询终端")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one sub-command. Expected failures (KioskError, CliError, OS errors such as a
    read-only folder or a missing path) print one line to stderr and return non-zero."""
    from kiosk.errors import Exit, KioskError

    try:
        args = build_parser().parse_args(argv)
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("kiosk: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except CliError as exc:
        print(f"kiosk: error: {exc}", file=sys.stderr)
        return Exit.USAGE
    except KioskError as exc:
        for line in getattr(exc, "lines", None) or [str(exc)]:  # one line per defect (SourceError)
            print(f"kiosk: error: {line}", file=sys.stderr)
        return int(exc.exit_code)
    except OSError as exc:
        where = f": {exc.filename}" if getattr(exc, "filename", None) else ""
        print(f"kiosk: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return Exit.FAILED


if __name__ == "__main__":
    sys.exit(main())
