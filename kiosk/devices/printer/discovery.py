"""Find attached printers. Called again for every job, so a replugged printer is found again
without restarting the app (no plug/unplug watcher is needed)."""
from __future__ import annotations

from .errors import PrinterError, PrinterNotFound
from .profiles import profile_for_usb
from .status import query_status
from .transports import LpTransport, Transport, UsbTransport


def _usb_name(dev) -> str:
    try:
        import usb.util

        parts = [usb.util.get_string(dev, dev.iManufacturer), usb.util.get_string(dev, dev.iProduct)]
        name = " ".join(p for p in parts if p)
        if name:
            return name
    except Exception:  # noqa: BLE001 - strings need access rights; the VID:PID still identifies it
        pass
    vp = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
    prof = profile_for_usb(vp)
    return prof.description if prof else f"USB printer {vp}"


def _probe(t: Transport, timeout: float) -> str:
    try:
        with t:
            return query_status(t, timeout).label()
    except PrinterError as exc:
        return f"unavailable: {exc.message}"


def discover(vid_pid: str = "", probe: bool = True, timeout: float = 0.5) -> list[dict]:
    """Printers attached now: USB devices (by ``vid_pid`` or printer class 7) and ``/dev/usb/lp*``.

    Returns:
        ``[{kind: "printer", name, transport: "usb"|"lp", path, vid_pid, status, profile}]``;
        ``status`` is the ``DLE EOT`` state (``"unknown (no status reply)"`` when it does not
        answer) or ``"not probed"``. ``[]`` when nothing is attached or libusb is missing.
    """
    found: list[dict] = []
    for dev in UsbTransport.find_all(vid_pid):
        vp = f"{dev.idVendor:04x}:{dev.idProduct:04x}"
        prof = profile_for_usb(vp)
        found.append({"kind": "printer", "name": _usb_name(dev), "transport": "usb",
                      "path": f"{dev.bus:03d}/{dev.address:03d}", "vid_pid": vp,
                      "profile": prof.name if prof else "",
                      "status": _probe(UsbTransport(vp, device=dev), timeout) if probe else "not probed"})
    for path in LpTransport.find_all():
        found.append({"kind": "printer", "name": f"usblp {path}", "transport": "lp", "path": path,
                      "vid_pid": "", "profile": "",
                      "status": _probe(LpTransport(path), timeout) if probe else "not probed"})
    return found


def open_default(vid_pid: str = "") -> Transport:
    """A transport for the first attached printer: USB (pyusb) first, else ``/dev/usb/lp*``.

    Raises:
        PrinterNotFound: nothing attached.
    """
    devs = UsbTransport.find_all(vid_pid)
    if devs:
        return UsbTransport(vid_pid, device=devs[0])
    lps = LpTransport.find_all()
    if lps and not vid_pid:
        return LpTransport(lps[0])
    raise PrinterNotFound(f"no printer attached{' with VID:PID ' + vid_pid if vid_pid else ''}")
