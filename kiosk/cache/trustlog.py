"""What was changed with the technician PIN instead of the county's signature, for the
technician menu and the public footer.

The records live beside the high-water mark (:mod:`kiosk.cache.highwater`, ``events``):
a PIN reset (``trust/pins.json`` deleted and a new PIN set), a key added or removed with
the PIN, the kiosk's scope changed with the PIN. Each stays *unconfirmed* until a key list
signed by the county (``kiosk trust --rotate KEYLIST``) is applied after it; while any is
unconfirmed, :func:`public_notice` returns a line for every screen's footer, so a village
official who reset the PIN to trust his own key cannot do it unseen.

App side::

    notice = trustlog.public_notice(home)      # None, or one Chinese line under the footer
    for e in trustlog.events(home):            # technician menu, newest first
        show(e.line_zh)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kiosk.cache import highwater

#: event → (what happened, in the words of the technician menu; the footer's short phrase)
KINDS = {
    "pin_reset": ("技术人员密码被重设", "技术人员密码被重设"),
    "key_added": ("经技术人员密码新增受信任密钥", "受信任密钥被更改"),
    "key_removed": ("经技术人员密码删除受信任密钥", "受信任密钥被更改"),
    "scope_changed": ("经技术人员密码更改本机所属地区", "本机所属地区被更改"),
}


@dataclass(frozen=True)
class TrustEvent:
    """One recorded change. ``at`` is UTC ISO 8601 (``…Z``); ``confirmed_by`` the seq of the
    county-signed key list that confirmed it, or None."""

    event: str        # pin_reset | key_added | key_removed | scope_changed
    at: str
    detail: str       # the PIN's name, a key id, or "OLD→NEW" scope codes
    confirmed_by: int | None = None
    confirmed_at: str | None = None

    @property
    def confirmed(self) -> bool:
        return self.confirmed_by is not None

    @property
    def local_time(self) -> str:
        """``2026-12-01 16:30`` in the kiosk's local time zone."""
        return _local(self.at).strftime("%Y-%m-%d %H:%M")

    @property
    def line_zh(self) -> str:
        """One line for the technician menu, e.g.
        ``2026-12-01 16:30 经技术人员密码新增受信任密钥 1a2b3c4d5e6f7081（尚未经县平台签名确认）``."""
        what = KINDS.get(self.event, (self.event, self.event))[0]
        detail = "" if self.event == "pin_reset" else f" {self.detail}"
        state = f"（已由第{self.confirmed_by}号密钥清单确认）" if self.confirmed else "（尚未经县平台签名确认）"
        return f"{self.local_time} {what}{detail}{state}"


def _local(at: str) -> dt.datetime:
    try:
        return dt.datetime.fromisoformat(at.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return dt.datetime.fromtimestamp(0).astimezone()


def events(home: Path) -> list[TrustEvent]:
    """Every recorded change, newest first (confirmed ones too, the last 50)."""
    out = []
    for e in highwater.read(home)["events"]:
        c = e.get("confirmed") if isinstance(e.get("confirmed"), dict) else None
        seq = c.get("keylist_seq") if c else None
        out.append(TrustEvent(e["event"], e["at"], str(e.get("detail", "")),
                              seq if isinstance(seq, int) and not isinstance(seq, bool) else (0 if c else None),
                              c.get("at") if c else None))
    return sorted(out, key=lambda e: e.at, reverse=True)


def unconfirmed(home: Path) -> list[TrustEvent]:
    return [e for e in events(home) if not e.confirmed]


def public_notice(home: Path) -> str | None:
    """The lasting footer line while any change is unconfirmed, else None. E.g.
    ``注意：本机自2026-12-01起技术人员密码被重设、受信任密钥被更改，尚未经县平台签名确认``."""
    pending = unconfirmed(home)
    if not pending:
        return None
    phrases: list[str] = []
    for kind in KINDS:  # a fixed order, each phrase once
        phrase = KINDS[kind][1]
        if any(e.event == kind for e in pending) and phrase not in phrases:
            phrases.append(phrase)
    phrases += sorted({e.event for e in pending if e.event not in KINDS})
    since = min(pending, key=lambda e: e.at).local_time[:10]
    return f"注意：本机自{since}起{'、'.join(phrases)}，尚未经县平台签名确认"
