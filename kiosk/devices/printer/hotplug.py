"""Printer plug/unplug events from udev (pyudev), for the UI to update its printer badge.

Printing does not depend on this: every job discovers the printer again (:mod:`.discovery`),
so a replugged printer works without restarting the app even where udev is unavailable.
The callback runs on pyudev's thread; the UI must hand it to its own main thread.
"""
from __future__ import annotations

from typing import Callable


def _is_printer(device) -> bool:
    if device.subsystem == "usbmisc" and (device.sys_name or "").startswith("lp"):
        return True
    iface = device.get("INTERFACE", "") or ""
    return device.subsystem == "usb" and iface.startswith("7/")


def watch(callback: Callable[[str, dict], None]):
    """Call ``callback(action, info)`` (action ``add``/``remove``; info ``{path, vid_pid}``) when
    a printer is plugged in or out.

    Returns:
        The started ``pyudev.MonitorObserver`` (call ``.stop()``), or ``None`` where udev or
        pyudev is not available (containers, non-Linux).
    """
    try:
        import pyudev

        context = pyudev.Context()
        monitor = pyudev.Monitor.from_netlink(context)
        monitor.filter_by("usb")
        monitor.filter_by("usbmisc")
    except Exception:  # noqa: BLE001 - no udev here: jobs still re-discover
        return None

    def handler(device) -> None:
        if device.action in ("add", "remove") and _is_printer(device):
            product = (device.get("PRODUCT") or "").split("/")
            vp = f"{int(product[0], 16):04x}:{int(product[1], 16):04x}" if len(product) >= 2 else ""
            callback(device.action, {"path": device.device_node or device.sys_path, "vid_pid": vp})

    observer = pyudev.MonitorObserver(monitor, callback=handler, name="printer-hotplug")
    observer.daemon = True
    observer.start()
    return observer
