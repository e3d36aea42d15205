"""What the 暂停服务 screen says, and when it lets the app try again. No Kivy.

systemd restarts a crashed app (``Restart=always``); when it keeps crashing
(``recovery.crash_loop_restarts`` restarts within ``recovery.crash_loop_minutes``) or its
config.json cannot be read, it starts ``kiosk paused`` instead (cunwu-kiosk-paused.service,
deploy/README.md "Recovery"). That program shows a plain page: 暂停服务, whom to call and
the number, and, small, why (for the technician on the phone). It works when the config
is malformed and when no data is installed, because it needs neither.

After ``timeouts.paused_retry`` seconds it ends with :data:`RETRY_EXIT` and the app is
started again; each further pause in the same boot waits twice as long, up to
``timeouts.paused_retry_max`` (a count kept in :data:`RUN_DIR`, cleared at boot).
"""
from __future__ import annotations

import copy
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from kiosk import config

log = logging.getLogger("kiosk.services.recovery")

#: exit status of ``kiosk paused`` meaning "time to start the app again" (EX_TEMPFAIL)
RETRY_EXIT = 75
#: run-time state of the kiosk (tmpfs; deploy/system/tmpfiles.conf)
RUN_DIR = Path(os.environ.get("KIOSK_RUN_DIR", "/run/cunwu-kiosk"))
TITLE = "暂停服务"
SORRY = "本机暂时无法使用，请稍后再来。"


@dataclass(frozen=True)
class PausedInfo:
    """The page. ``contact_label``/``phone``: whom to call (phone "" when no number is known,
    then ``contact_text`` says whom to ask); ``reason_zh``: one line for the technician;
    ``reason``: English, for the log; ``place``: the village (or "" before the first import)."""

    reason_zh: str
    reason: str
    contact_label: str
    phone: str
    contact_text: str
    place: str = ""


def paused_info(home: Path) -> PausedInfo:
    """Read config (tolerating a malformed one) and the installed bundle's village profile;
    never raises."""
    home = Path(home)
    try:
        cfg = config.load(home)
        reason_zh, reason = "本机多次启动失败", "the app keeps failing to start (crash loop)"
    except config.ConfigError as exc:
        cfg = copy.deepcopy(config.DEFAULTS)
        reason_zh, reason = "终端配置文件（config.json）有误", exc.message
    place, profile = "", {}
    try:
        from kiosk.cache.mirror import open_current

        m = open_current(home)
        if m is not None:
            place = m.info.village_name
            profile = m.info.profile or (m.with_village(m.villages[0]["code"]).info.profile if m.villages else {})
            m.con.close()
    except Exception as exc:  # noqa: BLE001 - the page must show whatever else is broken
        log.warning("no village profile for 暂停服务: %s", exc)
    label, phone = _contact(cfg, profile)
    return PausedInfo(reason_zh, reason, label, phone, str(cfg.get("contact_when_empty") or ""), place)


def _contact(cfg: dict, profile: dict) -> tuple[str, str]:
    """Whom to call: config ``recovery.contact_phone``; else the village office (profile
    ``office_phone``, else its first cadre, the 村党组织书记); else the township's
    discipline office."""
    rec = cfg.get("recovery") if isinstance(cfg.get("recovery"), dict) else {}
    if str(rec.get("contact_phone") or "").strip():
        return "联系电话", str(rec["contact_phone"]).strip()
    if str(profile.get("office_phone") or "").strip():
        return "村委会", str(profile["office_phone"]).strip()
    for p in profile.get("cadres") or []:
        if isinstance(p, dict) and str(p.get("phone") or "").strip():
            return "村委会", str(p["phone"]).strip()
    office = profile.get("discipline_office") or {}
    if isinstance(office, dict) and str(office.get("phone") or "").strip():
        return str(office.get("name") or "乡镇纪委"), str(office["phone"]).strip()
    return "", ""


def retry_after(cfg: dict | None = None, run_dir: Path | None = None) -> float:
    """Seconds until ``kiosk paused`` lets the app try again: ``paused_retry`` doubled for
    every earlier pause in this boot, at most ``paused_retry_max``. Counts this pause."""
    t = (cfg or config.DEFAULTS)["timeouts"]
    first = float(t.get("paused_retry", 600))
    most = float(t.get("paused_retry_max", 3600))
    path = Path(run_dir or RUN_DIR) / "paused-count"
    try:
        n = int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        n = 0
    try:
        path.write_text(f"{n + 1}\n")
    except OSError:
        pass  # not under the installed units: every pause waits the first interval
    return min(first * (2 ** min(n, 16)), max(first, most))
