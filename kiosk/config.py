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
import math
import os
from pathlib import Path
from typing import Any

import platformdirs

from kiosk.errors import Exit, KioskError

APP_NAME = "cunwu-kiosk"

#: Every timeout in one table, in seconds.
TIMEOUTS: dict[str, float] = {
    "public_idle_to_home": 90,      # a public screen left alone returns to 首页
    "personal_idle_to_home": 30,    # a card holder's own records disappear sooner (from the card placed or the last touch)
    "idle_warning": 15,             # 继续使用 with a countdown for the last seconds before either return
    "dialog_auto_close": 20,
    "printer_write": 10,
    "printer_status_reply": 1.0,
    "card_reader_reply": 1.0,
    "card_poll_interval": 0.5,
    "card_test": 30,                # 技术员维护 › 读卡测试 waits this long for a card
    "http_connect": 5,
    "http_read": 30,
    "sync_run_deadline": 3 * 3600,  # one sync run, manifest to last byte (a partial file resumes next run)
    "sync_rate_window": 120,        # a sync slower than sync.min_bytes_per_s over this many seconds stops
    "technician_pin_lockout": 300,  # 5 minutes after 5 wrong tries
    "integrity_recheck_interval": 24 * 3600,  # re-hash installed data (also at every start); config.json may lower it
    "speech_synth": 10,             # espeak-ng gets this long for one sentence, then is killed
    "database_check": 900,          # the checks of a bundle's database (schema, quick_check, counts) at most
    # under systemd (deploy/systemd/cunwu-kiosk.service; install.sh writes these into the unit)
    "watchdog": 30,                 # no WATCHDOG=1 from the UI clock for this long: killed, restarted
    "app_start": 120,               # READY=1 (first frame) must arrive this soon after a start
    "restart_delay": 2,             # pause before a crashed app is started again
    "paused_retry": 600,            # 暂停服务 tries the app again after this, doubling each time …
    "paused_retry_max": 3600,       # … up to this
    "app_update_health": 120,       # a new app version must send READY within this, …
    "app_update_settle": 15,        # … then keep running this long, else it is rolled back
    "night_blank_after": 300,       # outside office hours the screen blanks after this long untouched
}

DEFAULTS: dict[str, Any] = {
    "timeouts": TIMEOUTS,
    "panel": {
        # 21.5-inch 16:9 panel at 1920×1080: 476.6 mm × 268.1 mm visible area.
        "width_px": 1920,
        "height_px": 1080,
        "diagonal_inch": 21.5,
    },
    "stale_after_days": 35,
    # The village/township/county code this kiosk shows. None: adopt the scope of the first
    # bundle installed; afterwards install refuses any other scope.
    "scope": None,
    "contact_when_empty": "请联系乡镇（街道）纪委或县互联网+监督平台技术人员",
    # sync: min_bytes_per_s: below this over timeouts.sync_rate_window a sync gives up (a server
    # trickling bytes must not hold background updates for good). The server may ask for HTTP
    # basic auth (username + password_file: a file holding the password, mode 0600) and/or a TLS
    # client certificate (client_cert + client_key, PEM); ca_file: the county's CA for https.
    # Relative paths are under KIOSK_HOME. docs/updates.md.
    "sync": {"base_url": "", "every_hours": 6, "min_bytes_per_s": 1024, "username": "", "password_file": "",
             "client_cert": "", "client_key": "", "ca_file": ""},
    # The public web tree phones read (kiosk publish --web), e.g. "https://jiandu.example.org/cunwu".
    # Receipts' QR codes open the printed record there; "" = receipts print no QR code.
    "viewer": {"base_url": ""},
    # printer.device: "" = the attached printer (vid_pid to choose), "sim" = simulated (PNGs under
    # KIOSK_HOME/receipts/), or a transport spec (usb:VID:PID, lp:/dev/usb/lp0, tcp:HOST[:PORT]).
    "printer": {"profile": "pos58", "vid_pid": "", "device": ""},
    # ID-card reader: a device spec accepted by kiosk.devices.idcard.open_reader ("" = discover).
    "idcard": {"device": ""},
    # 朗读 (kiosk.services.speech, docs/speech.md). volume: 0–1 of the player; rate: espeak-ng
    # words per minute (≈ syllables per minute in Mandarin; 140 is calm, 175 espeak's default);
    # pitch: 0–99. quiet_hours: [start, end) local "HH:MM" pairs (may pass midnight); in them
    # the volume is quiet_volume, and 0 means nothing is read. first_chunk_chars: the first
    # piece synthesised is cut at a pause after about this many characters (first sound fast).
    "speech": {
        "enabled": True,
        "volume": 0.9,
        "rate": 140,
        "pitch": 50,
        "quiet_hours": [["22:00", "07:00"]],
        "quiet_volume": 0.0,
        "first_chunk_chars": 12,
        "cache_files": 200,
    },
    # Crash loop: this many restarts within this many minutes and the kiosk shows 暂停服务
    # (systemd StartLimitBurst/StartLimitIntervalSec, written by deploy/install.sh).
    # contact_phone: the number 暂停服务 shows; "" = the village office's from the installed
    # data (kiosk.cache.contact: its first cadre's phone; a township bundle's discipline office).
    "recovery": {"crash_loop_restarts": 5, "crash_loop_minutes": 10, "contact_phone": ""},
    # Office hours (local time, "HH:MM"): the screen never blanks then; days are ISO weekdays
    # (1 = Monday). Outside them it blanks after timeouts.night_blank_after untouched.
    "display": {"open_hours": [["07:30", "18:30"]], "open_days": [1, 2, 3, 4, 5, 6, 7]},
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


def load(home: Path | None = None, path: Path | None = None) -> dict[str, Any]:
    """Defaults merged with ``KIOSK_HOME/config.json`` (or with the file ``path``).

    Raises:
        ConfigError: the file exists but is not a JSON object.
    """
    cfg = copy.deepcopy(DEFAULTS)
    path = Path(path) if path else (home or kiosk_home()) / "config.json"
    if not path.exists():
        return cfg
    try:
        user = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc
    except RecursionError:
        raise ConfigError(f"cannot read {path}: JSON nested too deeply") from None
    if not isinstance(user, dict):
        raise ConfigError(f"{path} must hold a JSON object")
    for key, value in user.items():
        if key not in cfg:
            continue  # unknown keys are ignored (a newer config on an older kiosk)
        value = _checked(path, key, cfg[key], value)
        if isinstance(cfg[key], dict):
            cfg[key].update(value)
        else:
            cfg[key] = value
    return cfg


def load_or_defaults(home: Path | None = None) -> tuple[dict[str, Any], ConfigError | None]:
    """``(config, problem)``: :func:`load`, or the defaults and the :class:`ConfigError` when
    ``config.json`` is malformed. For the app, which must start (and show 暂停服务) rather
    than die when a technician broke the file."""
    try:
        return load(home), None
    except ConfigError as exc:
        return copy.deepcopy(DEFAULTS), exc


#: the panel sizes a kiosk can be given (a zero size once reached the screens as a traceback)
PANEL_RANGES = {"panel.width_px": (320, 10000), "panel.height_px": (240, 10000), "panel.diagonal_inch": (5, 120)}


def _checked(path: Path, name: str, default: Any, value: Any) -> Any:
    """``value`` checked against the shape of its default: a table must be an object, a
    number a finite number ≥ 0 (not true/false), a text a string; ``null`` means the
    default. Keys a default table does not have are kept unchecked (other modules' options).

    Raises:
        ConfigError: one line naming the key, e.g. ``timeouts.technician_pin_lockout must be
            a number, not 'abc'``.
    """
    def bad(what: str) -> ConfigError:
        shown = json.dumps(value, ensure_ascii=False)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        return ConfigError(f"{path}: {name} must be {what}, not {shown}")

    if value is None:
        return copy.deepcopy(default) if default is not None else None
    if isinstance(default, dict):
        if not isinstance(value, dict):
            raise bad("an object")
        return {k: _checked(path, f"{name}.{k}", default[k], v) if k in default else v for k, v in value.items()}
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise bad("true or false")
    elif isinstance(default, (int, float)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise bad("a number ≥ 0")
    elif isinstance(default, str):
        if not isinstance(value, str):
            raise bad("text")
    elif isinstance(default, list) and not isinstance(value, list):
        raise bad("a list")
    if name in PANEL_RANGES and not PANEL_RANGES[name][0] <= value <= PANEL_RANGES[name][1]:
        raise bad("between {:g} and {:g}".format(*PANEL_RANGES[name]))
    if name == "scope" and not (isinstance(value, str) and value.isascii() and value.isdigit()
                                and len(value) in (6, 9, 12)):
        raise bad("a 6-, 9- or 12-digit division code")
    return value

