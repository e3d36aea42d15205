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
    """The page. ``contact_label``/``phone``: whom to call (``洪泉村村委会``; phone "" when no
    number is known, then ``contact_text`` says whom to ask); ``reason_zh``: one line for the
    technician; ``reason``: English, for the log; ``place``: the village (or "")."""

    reason_zh: str
    reason: str
    contact_label: str
    phone: str
    contact_text: str
    place: str = ""


def paused_info(home: Path) -> PausedInfo:
    """Read config (tolerating a malformed one) and whom to call (config
    ``recovery.contact_phone``, else the installed data's village office:
    :func:`kiosk.cache.contact.office_contact`, which needs neither config nor state);
    never raises."""
    from kiosk.cache.contact import office_contact

    home = Path(home)
    try:
        cfg = config.load(home)
        reason_zh, reason = "本机多次启动失败", "the app keeps failing to start (crash loop)"
    except config.ConfigError as exc:
        cfg = copy.deepcopy(config.DEFAULTS)
        reason_zh, reason = "终端配置文件（config.json）有误", exc.message
    contact = office_contact(home)
    place = contact.place[:-3] if contact and contact.place.endswith("村委会") else ""
    rec = cfg.get("recovery") if isinstance(cfg.get("recovery"), dict) else {}
    if str(rec.get("contact_phone") or "").strip():
        label, phone = "联系电话", str(rec["contact_phone"]).strip()
    elif contact:
        label, phone = contact.place, contact.phone
    else:
        label, phone = "", ""
    return PausedInfo(reason_zh, reason, label, phone, str(cfg.get("contact_when_empty") or ""), place)


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
