"""Helpers for the phone viewer's browser tests and benchmark: Debian's chromium driven by
chromium-driver through selenium, at a phone's viewport, with Chromium's network throttling."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = next((p for p in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.path.exists(p)), None)
DRIVER = shutil.which("chromedriver") or ("/usr/bin/chromedriver" if os.path.exists("/usr/bin/chromedriver") else None)
#: a phone (390×844 CSS pixels) in WeChat's built-in browser
PHONE = {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True}
WECHAT_UA = ("Mozilla/5.0 (Linux; Android 13; V2203A) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/116.0 "
             "Mobile Safari/537.36 XWEB/1160083 MMWEBSDK/20240301 MicroMessenger/8.0.47 WeChat/arm64 Weixin")
#: the slow link of the benchmark: 1.6 Mbit/s both ways, 150 ms latency
SLOW = {"offline": False, "latency": 150, "downloadThroughput": 1_600_000 / 8, "uploadThroughput": 1_600_000 / 8}


def browser():
    """A headless Chromium at the phone's viewport, or skip when Chromium is not installed."""
    if not (CHROMIUM and DRIVER):
        pytest.skip("chromium/chromium-driver not installed (deploy/install-system-packages.sh installs them)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    o = webdriver.ChromeOptions()
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
              "--disable-extensions", "--window-size=390,844", f"--user-agent={WECHAT_UA}"):
        o.add_argument(a)
    o.binary_location = CHROMIUM
    o.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    d = webdriver.Chrome(service=Service(DRIVER), options=o)
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", PHONE)
    d.execute_cdp_cmd("Network.enable", {})
    return d


def fresh(d) -> None:
    """A cold cache and no throttling (each test starts like a phone that never saw the site)."""
    d.execute_cdp_cmd("Network.clearBrowserCache", {})
    d.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                          "downloadThroughput": -1, "uploadThroughput": -1})
    d.get("about:blank")
    d.get_log("performance")  # drop earlier events


def throttle(d, cond=SLOW) -> None:
    d.execute_cdp_cmd("Network.emulateNetworkConditions", cond)


def state(d) -> str:
    """``ready:<hash>``, ``failed``, ``error`` or ``loading``."""
    return d.execute_script(
        "if (document.getElementById('failed')) return 'failed';"
        "if (document.getElementById('error')) return 'error';"
        "var r = document.body && document.body.getAttribute('data-ready'); return r ? 'ready:' + r : 'loading';")


def wait(d, pred, timeout: float = 30.0):
    """Poll ``pred(d)`` until it returns a true value (no fixed sleeps); fail after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred(d)
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError(f"timed out; page state {state(d)!r}: {d.find_element('tag name', 'body').text[:300]!r}")


def open_page(d, url: str, timeout: float = 30.0) -> str:
    """Load ``url`` and wait until the viewer shows it (or fails); returns the final state."""
    want = "#" + url.split("#", 1)[1] if "#" in url else "#/"
    d.get(url)
    return wait(d, lambda d: (lambda s: s if s in ("failed", "error") or s == "ready:" + want else None)(state(d)), timeout)


def go(d, href: str) -> str:
    """Follow an in-app link (a hash) and wait for the page."""
    d.execute_script("location.hash = arguments[0]", href.split("#", 1)[1])
    want = "#" + href.split("#", 1)[1]
    return wait(d, lambda d: (lambda s: s if s in ("failed", "error") or s == "ready:" + want else None)(state(d)))


def text(d, css: str = "body") -> str:
    return d.find_element("css selector", css).text


def received_bytes(d) -> dict[str, int]:
    """Bytes received per URL since the last call (CDP Network.loadingFinished, encoded sizes:
    what crossed the wire, headers included)."""
    import json

    urls, sizes = {}, {}
    for e in d.get_log("performance"):
        m = json.loads(e["message"])["message"]
        p = m.get("params", {})
        if m["method"] == "Network.requestWillBeSent":
            urls[p["requestId"]] = p["request"]["url"]
        elif m["method"] == "Network.loadingFinished":
            sizes[p["requestId"]] = sizes.get(p["requestId"], 0) + int(p.get("encodedDataLength", 0))
    out: dict[str, int] = {}
    for rid, n in sizes.items():
        u = urls.get(rid, "?")
        out[u] = out.get(u, 0) + n
    return out


def publish(bundles: list[Path], web: Path, pubkey: Path) -> None:
    from kiosk import viewer

    for b in bundles:
        viewer.publish_web(b, web, [pubkey])


class Throttle:
    """Chromium's network throttling for the page *and its workers*: the viewer fetches its data
    and sql.js's wasm from a dedicated worker, which ``Network.emulateNetworkConditions`` on the
    page does not cover. So this speaks CDP over the browser's own websocket (flat sessions):
    auto-attach to the page's workers, paused at start, throttle each, then let it run.
    """

    def __init__(self, d, cond=SLOW):
        import itertools
        import json
        import threading
        import urllib.request

        import websocket

        self.cond, self.json = cond, json
        addr = d.capabilities["goog:chromeOptions"]["debuggerAddress"]
        ver = json.loads(urllib.request.urlopen(f"http://{addr}/json/version", timeout=5).read())
        self.ws = websocket.create_connection(ver["webSocketDebuggerUrl"], timeout=10, suppress_origin=True)
        self.ids = itertools.count(1)
        self.lock = threading.Lock()
        self.workers: list[str] = []
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next(t["targetId"] for t in targets if t["type"] == "page")
        self.page = self.call("Target.attachToTarget", {"targetId": page, "flatten": True})["sessionId"]
        self._stop = False
        threading.Thread(target=self._events, daemon=True).start()
        self.send("Network.enable", {}, self.page)
        self.send("Network.emulateNetworkConditions", cond, self.page)
        self.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True, "flatten": True}, self.page)

    def send(self, method, params=None, session=None) -> int:
        i = next(self.ids)
        msg = {"id": i, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        with self.lock:
            self.ws.send(self.json.dumps(msg))
        return i

    def call(self, method, params=None):
        i = self.send(method, params)
        while True:  # before the event thread starts: read replies inline
            m = self.json.loads(self.ws.recv())
            if m.get("id") == i:
                return m.get("result", {})

    def _events(self) -> None:
        import websocket

        while not self._stop:
            try:
                m = self.json.loads(self.ws.recv())
            except (websocket.WebSocketTimeoutException,):
                continue
            except Exception:  # noqa: BLE001 - closed at the end of the test
                return
            if m.get("method") == "Target.attachedToTarget":
                sid = m["params"]["sessionId"]
                self.workers.append(m["params"]["targetInfo"]["type"])
                self.send("Network.enable", {}, sid)
                self.send("Network.emulateNetworkConditions", self.cond, sid)
                self.send("Runtime.runIfWaitingForDebugger", {}, sid)

    def close(self) -> None:
        self._stop = True
        try:
            self.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                           "uploadThroughput": -1}, self.page)
            self.send("Target.setAutoAttach", {"autoAttach": False, "waitForDebuggerOnStart": False, "flatten": True},
                      self.page)
            self.ws.close()
        except Exception:  # noqa: BLE001
            pass
