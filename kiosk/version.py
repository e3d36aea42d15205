"""The kiosk software's version, and how the running app reports it to systemd.

The app's status line (``STATUS=`` of the notify protocol, ``systemctl status``'s "Status:")
starts with ``cunwu-kiosk <version>``; the app-update health check reads the version back
from it to know the new version is the one running (kiosk.cache.appinstall).
"""
from __future__ import annotations

import re
from importlib import metadata

import kiosk

DIST = "cunwu-kiosk"
_STATUS = re.compile(r"^cunwu-kiosk (\S+)")


def installed_version() -> str:
    """The installed distribution's version (what an app package names), else the source's."""
    try:
        return metadata.version(DIST)
    except metadata.PackageNotFoundError:
        return kiosk.__version__


def status_line(state: str = "运行中", version: str | None = None) -> str:
    """``cunwu-kiosk 0.2.0 运行中``."""
    return f"{DIST} {version or installed_version()} {state}"


def version_from_status(text: str | None) -> str | None:
    """The version in a status line made by :func:`status_line`, else None."""
    m = _STATUS.match(text or "")
    return m.group(1) if m else None
