"""Kiosk configuration: where it keeps its files, every timeout, and tunable policy.

``KIOSK_HOME`` (environment) chooses the folder for config and mirror; without it the
platform's user data dir (platformdirs, e.g. ``~/.local/share/cunwu-kiosk``).

``config.json`` in ``KIOSK_HOME`` may override any key of :data:`DEFAULTS` (a shallow
merge per top-level table). Unknown keys are ignored; a malformed file raises
:class:`ConfigError` with a one-line message.
"""
from __future__ import annotations

import copy
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import platformdirs

from kiosk.errors import Exit, KioskError

APP_NAME = "cunwu-kiosk"

#: Every timeout in one table, in seconds.
TIMEOUTS: dict[str, float] = {
    "public_idle_to_home": 90,      # a public screen left alone returns to 首页
    "personal_idle_to_home": 30,    # a card holder's own records disappear sooner
    "dialog_auto_close": 20,
    "printer_write": 10,
    "printer_status_reply": 1.0,
    "card_reader_reply": 1.0,
    "card_poll_interval": 0.5,
    "http_connect": 5,
    "http_read": 30,
    "technician_pin_lockout": 300,  # 5 minutes after 5 wrong tries
    "integrity_recheck_interval": 24 * 3600,  # re-hash installed data (also at every start); config.json may lower it
}

DEFAULTS: dict[str, Any] = {
    "timeouts": TIMEOUTS,
    "panel": {
        # 21.5-inch 16:9 panel at 1920×1080: 476.6 mm × 268.1 mm visible area.
        "width_px": 1920,
        "height_px": 1080,
        "diagonal_inch": 21.5,
    },
    # Spending approval thresholds in 元 (one Hunan township's rule; counties differ).
    # amount < two_committees_below → 两委; < with_supervisors_below → 两委+监委; else 四议两公开.
    "approval_thresholds": {
        "two_committees_below": "5000",
        "with_supervisors_below": "50000",
    },
    "stale_after_days": 35,
    # The village/township/county code this kiosk shows. None: adopt the scope of the first
    # bundle installed; afterwards install refuses any other scope.
    "scope": None,
    "contact_when_empty": "请联系乡镇（街道）纪委或县互联网+监督平台技术人员",
    "sync": {"base_url": "", "every_hours": 6},
    # The public web tree phones read (kiosk publish --web), e.g. "https://jiandu.example.org/cunwu".
    # Receipts' QR codes open the printed record there; "" = receipts print no QR code.
    "viewer": {"base_url": ""},
    # printer.device: "" = the attached printer (vid_pid to choose), "sim" = simulated (PNGs under
    # KIOSK_HOME/receipts/), or a transport spec (usb:VID:PID, lp:/dev/usb/lp0, tcp:HOST[:PORT]).
    "printer": {"profile": "pos58", "vid_pid": "", "device": ""},
    # ID-card reader: a device spec accepted by kiosk.devices.idcard.open_reader ("" = discover).
    "idcard": {"device": ""},
}


class ConfigError(KioskError):
    """config.json cannot be read."""

    exit_code = Exit.CONFIG
    default_zh = "终端配置文件（config.json）有误，请联系技术人员"


def kiosk_home() -> Path:
    """The kiosk's folder (created if missing): ``$KIOSK_HOME`` or the platform data dir."""
    env = os.environ.get("KIOSK_HOME")
    home = Path(env) if env else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    home.mkdir(parents=True, exist_ok=True)
    return home


def load(home: Path | None = None) -> dict[str, Any]:
    """Defaults merged with ``KIOSK_HOME/config.json``.

    Raises:
        ConfigError: the file exists but is not a JSON object.
    """
    cfg = copy.deepcopy(DEFAULTS)
    path = (home or kiosk_home()) / "config.json"
    if not path.exists():
        return cfg
    try:
        user = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    if not isinstance(user, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    for key, value in user.items():
        if key in cfg and isinstance(cfg[key], dict) and isinstance(value, dict):
            cfg[key].update(value)
        elif key in cfg:
            cfg[key] = value
    return cfg


def approval_level(amount: Decimal, cfg: dict[str, Any] | None = None) -> str:
    """Approval level required for a spending of ``amount`` 元 (absolute value).

    Returns one of ``两委``, ``两委+监委``, ``四议两公开`` per ``approval_thresholds``.
    """
    t = (cfg or DEFAULTS)["approval_thresholds"]
    a = abs(amount)
    if a < Decimal(t["two_committees_below"]):
        return "两委"
    if a < Decimal(t["with_supervisors_below"]):
        return "两委+监委"
    return "四议两公开"


APPROVAL_LEVELS = ("两委", "两委+监委", "四议两公开")
