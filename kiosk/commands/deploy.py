"""``kiosk deploy …``: what deploy/install.sh asks of the app (check a config file, write a
starting config, turn the config table into systemd unit settings)."""
from __future__ import annotations

import json
from pathlib import Path

from kiosk import config

#: the tables a technician sets on a new kiosk; the rest keep their defaults
TEMPLATE_TABLES = ("panel", "printer", "idcard", "sync", "display", "recovery")


def unit_settings(cfg: dict) -> str:
    """The drop-in for cunwu-kiosk.service from the config table (``timeouts`` watchdog,
    app_start, restart_delay; ``recovery`` crash_loop_restarts, crash_loop_minutes).

    Raises:
        ConfigError: a value is not a whole number in its range.
    """
    t, r = cfg["timeouts"], cfg["recovery"]

    def whole(table: dict, name: str, lo: int, hi: int) -> int:
        v = table.get(name)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v != int(v) or not lo <= v <= hi:
            raise config.ConfigError(f"config {name} must be a whole number from {lo} to {hi}, not {v!r}")
        return int(v)

    watchdog = whole(t, "watchdog", 5, 600)
    start = whole(t, "app_start", 10, 1800)
    delay = whole(t, "restart_delay", 0, 600)
    restarts = whole(r, "crash_loop_restarts", 1, 100)
    minutes = whole(r, "crash_loop_minutes", 1, 24 * 60)
    return (
        "# Written by deploy/install.sh from the kiosk's config (kiosk deploy unit-settings).\n"
        "# Change config.json and run install.sh again rather than editing this file.\n"
        "[Unit]\n"
        f"# {restarts} restarts within {minutes} minutes: the next start is refused and 暂停服务 shows\n"
        f"StartLimitIntervalSec={minutes * 60}\n"
        f"StartLimitBurst={restarts + 1}\n"
        "\n[Service]\n"
        f"WatchdogSec={watchdog}\n"
        f"TimeoutStartSec={start}\n"
        f"RestartSec={delay}\n"
    )


def _check(args) -> int:
    cfg = config.load(path=Path(args.file))
    unit_settings(cfg)
    print(f"{args.file}: config is valid")
    return 0


def _template(args) -> int:
    d = config.DEFAULTS
    doc = {k: d[k] for k in TEMPLATE_TABLES}
    doc["timeouts"] = {k: d["timeouts"][k] for k in ("watchdog", "night_blank_after")}
    print(json.dumps(doc, ensure_ascii=False, indent=2))
    return 0


def _units(args) -> int:
    print(unit_settings(config.load(config.kiosk_home())), end="")
    return 0


def register(sub) -> None:
    dp = sub.add_parser("deploy", help="used by deploy/install.sh").add_subparsers(dest="deploy_cmd", required=True)
    p = dp.add_parser("check-config", help="check a config.json before it is installed")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(func=_check)
    p = dp.add_parser("config-template", help="print a starting config.json (the tables a technician sets)")
    p.set_defaults(func=_template)
    p = dp.add_parser("unit-settings", help="print the cunwu-kiosk.service drop-in made from the config")
    p.set_defaults(func=_units)
