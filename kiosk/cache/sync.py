"""HTTP sync: fetch a signed bundle from any static HTTP server and install it like a stick.

Published layout (docs/updates.md; the same tree a technician's stick carries)::

    BASE_URL/index.json                         # optional listing, informational only (unsigned)
    BASE_URL/<scope>/latest/manifest.json       # a copy of the newest version's signed manifest
    BASE_URL/<scope>/latest/manifest.sig
    BASE_URL/<scope>/v000007/manifest.json      # one folder per version: the bundle as built
    BASE_URL/<scope>/v000007/manifest.sig
    BASE_URL/<scope>/v000007/data/village.sqlite

One sync (:func:`sync`):

1. ``GET <scope>/latest/manifest.json`` with ``If-None-Match`` (the ETag of the last
   manifest this kiosk finished with). ``304`` → nothing else is downloaded.
2. ``GET`` its ``manifest.sig``; the signature is checked against the trusted keys and the
   scope and sequence number against the mirror *before* any data is fetched.
3. Each listed file from ``<scope>/v<seq:06d>/`` into ``KIOSK_HOME/downloads/``; an
   interrupted file is resumed with ``Range`` + ``If-Range`` (validator kept in the
   ``sync`` cache, :mod:`kiosk.cache.safecache`), never reading more bytes than the
   manifest lists.
4. :func:`kiosk.cache.install.install` on the downloaded folder: the same copy, verify,
   check and switch as for a USB stick.

Why requests + urllib3 ``Retry`` and not our own loop: connect errors and 5xx/429 answers
get exponential backoff for free; only a body cut off mid-file is ours to resume.

Limits of one run (:class:`Budget`): a deadline (``timeouts.sync_run_deadline``) and a
minimum rate (``sync.min_bytes_per_s`` over ``timeouts.sync_rate_window`` seconds). A
server that trickles bytes never trips the per-read timeout, so bodies are read with
``read1`` (whatever one ``recv`` brings) and the budget is checked after each read; what
was downloaded is kept and resumed by the next run.

A county may keep the tree private: HTTP basic auth (``sync.username`` and
``sync.password_file``) and/or a TLS client certificate (``sync.client_cert`` and
``sync.client_key``), with its own CA (``sync.ca_file``), all handled by requests.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import quote

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from kiosk import config
from kiosk.cache import bundle as B
from kiosk.cache import install as I
from kiosk.cache.bundle import INDEX, LATEST, version_dir  # noqa: F401 (the published layout, docs/updates.md)
from kiosk.cache.fsutil import DiskFull, atomic_write_bytes, check_free_space, fsync_dir  # noqa: F401 (DiskFull: re-exported)
from kiosk.cache.verify import verify_manifest
from kiosk.cache.keys import TrustStore
from kiosk.cache.safecache import open_cache
from kiosk.errors import Exit, KioskError

CHUNK = 1 << 16
MAX_SIG_BYTES = 1024
#: resumes of one file within one sync after the connection dropped mid-body
RESUMES_PER_FILE = 3

Progress = Callable[[str, int, int], None]  # (phase, done_bytes, total_bytes)


class SyncError(KioskError):
    """The update server could not be reached or answered wrongly; try again later."""

    exit_code = Exit.NETWORK
    default_zh = "无法从服务器获取更新，稍后自动重试"


class SyncStopped(SyncError):
    """A run stopped at its deadline or for a rate below the minimum; the next run resumes."""


@dataclass
class SyncResult:
    """What one sync did.

    Attributes:
        status: ``unchanged`` (304 / same manifest), ``not_newer`` (the server's version is
            not above the installed one) or ``installed``.
        seq: sequence number on the server (None when unchanged).
        downloaded: bytes of data files received in this run.
        resumed_from: bytes that were already on disk from an interrupted run (per file sum).
        install: the install result when ``installed``.
    """

    status: str
    seq: int | None = None
    downloaded: int = 0
    resumed_from: int = 0
    install: I.InstallResult | None = None
    requests: list[str] = field(default_factory=list)


def scope_url(base_url: str, scope: str) -> str:
    return base_url.rstrip("/") + "/" + quote(scope, safe="")


class Budget:
    """The limits of one sync run: an overall deadline and a minimum rate.

    ``check(total)`` after each read with the bytes received so far in the run;
    ``timeouts(connect, read)`` gives per-request timeouts that never outlast the deadline.
    ``clock`` is ``time.monotonic`` (tests may pass another).

    Raises (from ``check``):
        SyncError: past the deadline, or fewer than ``min_rate * window`` bytes arrived in
            the last ``window`` seconds (counted from the start of the run).
    """

    def __init__(self, deadline_s: float, min_rate: float, window_s: float, clock: Callable[[], float] = time.monotonic):
        self.clock = clock
        self.start = clock()
        self.deadline = self.start + deadline_s
        self.deadline_s, self.min_rate, self.window = deadline_s, min_rate, window_s
        self._marks: list[tuple[float, int]] = [(self.start, 0)]  # (time, total bytes), one per window at most

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def timeouts(self, connect: float, read: float) -> tuple[float, float]:
        left = max(0.1, self.remaining())
        return min(connect, left), min(read, left)

    def check(self, total: int) -> None:
        now = self.clock()
        if now > self.deadline:
            raise SyncStopped(f"sync stopped after its deadline of {self.deadline_s:.0f} s "
                            f"({total} bytes received; the rest resumes at the next sync)",
                            "更新下载超时，下次自动续传（原数据不变）")
        if self.min_rate <= 0 or self.window <= 0:
            return
        if now - self._marks[-1][0] >= self.window / 4:
            self._marks.append((now, total))
        # the newest mark at least one window old: bytes since then must reach the minimum
        old = [m for m in self._marks if now - m[0] >= self.window]
        if old:
            t0, b0 = old[-1]
            self._marks = self._marks[self._marks.index(old[-1]):]
            rate = (total - b0) / (now - t0)
            if rate < self.min_rate:
                raise SyncStopped(f"sync too slow: {rate:.0f} bytes/s over the last {now - t0:.0f} s, below the minimum "
                                f"{self.min_rate:.0f} (the rest resumes at the next sync)",
                                "更新服务器传输过慢，已停止，下次自动续传（原数据不变）")


def make_session(retries: int = 3, backoff: float = 1.0) -> requests.Session:
    """A Session whose connect errors and 429/5xx answers are retried with backoff
    (``backoff * 2**n`` seconds, urllib3 Retry; Retry-After is honoured)."""
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=backoff,
                  status_forcelist=(429, 500, 502, 503, 504), allowed_methods=frozenset({"GET", "HEAD"}),
                  respect_retry_after_header=True, raise_on_status=False)
    s = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers.update({"User-Agent": "cunwu-kiosk-sync/1", "Accept-Encoding": "identity"})
    return s


def authenticate(session: requests.Session, home: Path, sc: dict) -> None:
    """Apply the config's ``sync`` credentials to ``session`` (see module doc).

    Raises:
        SyncError: a named credential file is missing or unreadable (one line naming the key).
    """
    home = Path(home)

    def path(key: str) -> str | None:
        v = sc.get(key) or ""
        if not v:
            return None
        p = (home / v) if not Path(v).is_absolute() else Path(v)
        if not p.is_file():
            raise SyncError(f"sync.{key}: {p} is not a readable file", "更新服务器的账号或证书文件缺失，请联系技术人员")
        return str(p)

    if sc.get("username"):
        pw = path("password_file")
        try:
            password = Path(pw).read_text(encoding="utf-8").strip("\r\n") if pw else ""
        except (OSError, UnicodeDecodeError) as exc:
            raise SyncError(f"sync.password_file: cannot read {pw}: {exc}", "更新服务器的账号文件无法读取，请联系技术人员") from None
        session.auth = (sc["username"], password)
    cert, key = path("client_cert"), path("client_key")
    if cert:
        session.cert = (cert, key) if key else cert
    if ca := path("ca_file"):
        session.verify = ca


@contextmanager
def _sync_lock(dl_root: Path) -> Iterator[None]:
    fd = os.open(str(dl_root), os.O_RDONLY | os.O_DIRECTORY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise I.ImportBusy("another sync is running", "另一个更新正在进行，请稍后再试") from None
        yield
    finally:
        os.close(fd)


def _net_error(url: str, exc: Exception) -> SyncError:
    return SyncError(f"cannot fetch {url}: {type(exc).__name__}: {exc}",
                     "无法连接更新服务器，稍后自动重试（原数据不变）")


def _refused(url: str, status: int) -> SyncError:
    if status in (401, 403):
        return SyncError(f"{url}: HTTP {status}: the server refuses this kiosk (check sync.username/password_file "
                         "or the client certificate)", "更新服务器拒绝访问，请检查终端的账号或证书")
    return SyncError(f"{url}: HTTP {status}", f"更新服务器返回错误 {status}，稍后自动重试")


class _Fetcher:
    def __init__(self, session: requests.Session, timeouts: tuple[float, float], log: list[str],
                 budget: Budget | None = None):
        self.s, self.timeouts, self.log = session, timeouts, log
        self.budget = budget or Budget(float("inf"), 0, 0)
        self.received = 0  # body bytes of this run, for the rate

    def get(self, url: str, headers: dict | None = None) -> requests.Response:
        self.budget.check(self.received)
        self.log.append(url)
        try:
            # verify given per request: requests lets REQUESTS_CA_BUNDLE override a session's CA
            return self.s.get(url, headers=headers or {}, timeout=self.budget.timeouts(*self.timeouts), stream=True,
                              allow_redirects=True, verify=self.s.verify)
        except requests.RequestException as exc:
            raise _net_error(url, exc) from None

    def chunks(self, r: requests.Response) -> Iterator[bytes]:
        """The body as it arrives (``read1``: one ``recv`` at a time), the budget checked
        after each read. urllib3's own errors are raised as requests' (as iter_content does)."""
        while True:
            try:
                data = r.raw.read1(CHUNK, decode_content=True)
            except urllib3.exceptions.HTTPError as exc:
                raise requests.ConnectionError(exc) from None
            if not data:
                return
            self.received += len(data)
            self.budget.check(self.received)
            yield data

    def small(self, url: str, limit: int, headers: dict | None = None) -> requests.Response:
        """GET a small file into ``resp._content`` (at most ``limit`` bytes)."""
        r = self.get(url, headers)
        if r.status_code == 304:
            return r
        if r.status_code != 200:
            r.close()
            raise _refused(url, r.status_code)
        buf = bytearray()
        try:
            for chunk in self.chunks(r):
                buf += chunk
                if len(buf) > limit:
                    raise SyncError(f"{url}: larger than {limit} bytes", "更新服务器上的清单过大，拒绝")
        except requests.RequestException as exc:
            raise _net_error(url, exc) from None
        finally:
            r.close()
        r._content = bytes(buf)
        return r


def _validator(resp: requests.Response) -> dict:
    """Strong ETag (usable in If-Range) or Last-Modified of a response."""
    etag = resp.headers.get("ETag")
    if etag and etag.startswith("W/"):
        etag = None
    return {"etag": etag, "last_modified": resp.headers.get("Last-Modified")}


def _download(f: _Fetcher, url: str, dest: Path, size: int, sha: str, cache, progress: Progress | None,
              done: list[int], total: int, res: SyncResult) -> None:
    """Fetch ``url`` to ``dest`` (``size`` bytes), resuming ``dest.part`` when its validator
    is known. Never reads more than ``size`` bytes in all."""
    part = dest.with_name(dest.name + ".part")
    key = "part:" + url
    st = cache.get(key)
    if not (isinstance(st, dict) and st.get("sha256") == sha and st.get("size") == size
            and (st.get("etag") or st.get("last_modified"))):
        part.unlink(missing_ok=True)
        st = None
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have, st = 0, None
    if have:
        res.resumed_from += have
        done[0] += have
    drops = 0
    while True:
        headers = {}
        if have and st:
            headers = {"Range": f"bytes={have}-", "If-Range": st.get("etag") or st["last_modified"]}
        if have == size and st:
            break  # complete before (interrupted between last byte and rename)
        r = f.get(url, headers)
        try:
            if r.status_code == 206 and have:
                cr = r.headers.get("Content-Range", "")
                if not cr.startswith(f"bytes {have}-") or not cr.endswith(f"/{size}"):
                    raise SyncError(f"{url}: unexpected Content-Range {cr!r}", "更新服务器返回的续传范围不符，稍后重试")
                mode = "ab"
            elif r.status_code == 200:
                if have:  # the file changed on the server (If-Range failed): start over
                    done[0] -= have
                    res.resumed_from -= have
                    have = 0
                mode = "wb"
            elif r.status_code == 416 and have == size:
                break
            else:
                raise _refused(url, r.status_code)
            remaining = size - have
            clen = r.headers.get("Content-Length")
            if clen is not None and clen.isdigit() and int(clen) > remaining:
                raise SyncError(f"{url}: server sends {clen} bytes, manifest allows {remaining}",
                                "服务器上的文件比清单所列更大，拒绝下载")
            val = _validator(r)
            st = {"sha256": sha, "size": size, **val} if (val["etag"] or val["last_modified"]) else None
            if st:
                cache.set(key, st)
            else:
                cache.delete(key)
            try:
                with open(part, mode) as out:
                    try:
                        for chunk in f.chunks(r):
                            if len(chunk) > size - have:
                                raise SyncError(f"{url}: more bytes than the manifest lists ({size})",
                                                "服务器上的文件比清单所列更大，拒绝下载")
                            out.write(chunk)
                            have += len(chunk)
                            done[0] += len(chunk)
                            res.downloaded += len(chunk)
                            if progress:
                                progress("download", done[0], total)
                    finally:
                        out.flush()
                        os.fsync(out.fileno())
            except SyncStopped:
                raise  # too slow or out of time: keep the part and its validator for the next run
            except SyncError:
                part.unlink(missing_ok=True)
                cache.delete(key)
                raise
            except (requests.RequestException, OSError) as exc:
                if isinstance(exc, OSError) and not isinstance(exc, requests.RequestException):
                    raise  # our disk, not the network
                drops += 1
                if drops > RESUMES_PER_FILE or not st:
                    raise SyncError(f"{url}: connection dropped after {have} of {size} bytes ({exc})",
                                    "下载中断，下次自动续传（原数据不变）") from None
                continue
        finally:
            r.close()
        if have < size:
            drops += 1
            if drops > RESUMES_PER_FILE or not st:
                raise SyncError(f"{url}: got {have} of {size} bytes", "下载不完整，下次自动续传（原数据不变）")
            continue
        break
    os.replace(part, dest)
    cache.delete(key)


def sync(base_url: str, home: Path, scope: str | None = None, progress: Progress | None = None,
         session: requests.Session | None = None, timeouts: tuple[float, float] | None = None) -> SyncResult:
    """Fetch ``BASE_URL/<scope>/latest`` and install it if it is newer (see module doc).

    ``scope`` defaults to the config's ``scope`` or the installed scope. ``timeouts`` is
    ``(connect, read)`` seconds (default ``TIMEOUTS`` http_connect/http_read). Progress
    phases: ``download``, then install's ``copy`` and ``verify``.

    Raises:
        SyncError: server unreachable, HTTP error, short or oversized file (partial data is
            kept for the next try). BundleError: the manifest or data is refused (bad
            signature, other village, not newer is *not* an error, hash mismatch; the
            downloaded copy is deleted). DiskFull, ImportBusy.
    """
    home = Path(home)
    cfg = config.load(home)
    state = I.read_state(home)
    scope = I.kiosk_scope(home, scope or cfg.get("scope"), state)  # config.json cannot move the kiosk
    if not scope:
        raise SyncError("this kiosk has no scope yet (set \"scope\" in config.json or import a bundle first)",
                        "本终端尚未设定所属村，请先用U盘导入数据")
    if not base_url:
        raise SyncError("no sync base URL (config sync.base_url)", "未设置更新服务器地址")
    t = {**config.TIMEOUTS, **cfg.get("timeouts", {})}
    timeouts = timeouts or (float(t["http_connect"]), float(t["http_read"]))
    sc = cfg.get("sync", {})
    own_session = session is None
    session = session or make_session(int(sc.get("retries", 3)), float(sc.get("backoff", 1.0)))
    if own_session:
        authenticate(session, home, sc)
    res = SyncResult("unchanged")
    budget = Budget(float(t["sync_run_deadline"]), float(sc.get("min_bytes_per_s", 0) or 0),
                    float(t["sync_rate_window"]))
    f = _Fetcher(session, timeouts, res.requests, budget)
    trusted = TrustStore(home).keys()
    dl_root = home / "downloads"
    dl_root.mkdir(exist_ok=True)
    cache = open_cache(home, "sync")
    try:
        with _sync_lock(dl_root):
            surl = scope_url(base_url, scope)
            murl = f"{surl}/{LATEST}/{B.MANIFEST}"
            known = cache.get("manifest:" + murl)
            headers = {}
            if isinstance(known, dict) and known.get("etag") and state.get("highest_seq"):
                headers["If-None-Match"] = known["etag"]
            r = f.small(murl, B.MAX_MANIFEST_BYTES, headers)
            if r.status_code == 304:
                return res
            mbytes = r.content
            msha = hashlib.sha256(mbytes).hexdigest()
            remember = {"etag": r.headers.get("ETag"), "sha256": msha}
            if isinstance(known, dict) and known.get("sha256") == msha and state.get("highest_seq"):
                cache.set("manifest:" + murl, remember)
                return res  # same bytes as last time (server without ETags)
            sig = f.small(f"{surl}/{LATEST}/{B.SIGNATURE}", MAX_SIG_BYTES).content
            # signature, scope and seq are checked on the bytes before any data is fetched
            m = verify_manifest(mbytes, sig, trusted)
            if m.scope != scope:
                raise B.BundleError(f"server manifest is for {m.scope}, this kiosk shows {scope}",
                                    f"服务器上的数据包属于其他村（{m.scope}），拒绝")
            res.seq = m.seq
            highest = int(state.get("highest_seq", 0))
            if m.seq <= highest:
                res.status = "not_newer"
                cache.set("manifest:" + murl, remember)
                _clear_downloads(dl_root, scope, keep=None, cache=cache)
                return res
            vname = version_dir(m.seq)
            dl = dl_root / scope / vname
            _clear_downloads(dl_root, scope, keep=vname, cache=cache)
            total = m.data_size
            have = sum(_part_size(dl / f.path) for f in m.files)
            # the download, then install's staging copy of it
            check_free_space(dl_root, (total - have) + total)
            dl.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(dl / B.MANIFEST, mbytes)
            atomic_write_bytes(dl / B.SIGNATURE, sig)
            done = [0]
            vurl = f"{surl}/{vname}"
            for ent in m.files:
                dest = dl / ent.path
                dest.parent.mkdir(parents=True, exist_ok=True)
                if dest.exists() and dest.stat().st_size == ent.size:
                    done[0] += ent.size
                    continue
                _download(f, f"{vurl}/{quote(ent.path)}", dest, ent.size, ent.sha256, cache, progress, done, total, res)
            for d in {(dl / ent.path).parent for ent in m.files} | {dl}:
                fsync_dir(d)
            try:
                res.install = I.install(dl, home, scope=scope, progress=progress)
            except B.BundleError:
                # refused (e.g. a file changed on the server): never resume these bytes
                _clear_downloads(dl_root, scope, keep=None, cache=cache)
                raise
            res.status = "installed"
            cache.set("manifest:" + murl, remember)
            _clear_downloads(dl_root, scope, keep=None, cache=cache)
            return res
    finally:
        cache.close()
        if own_session:
            session.close()


def _part_size(dest: Path) -> int:
    for p in (dest, dest.with_name(dest.name + ".part")):
        if p.exists():
            return p.stat().st_size
    return 0


def _clear_downloads(dl_root: Path, scope: str, keep: str | None, cache) -> None:
    """Remove downloads of other versions (a newer one was published, or we finished)."""
    d = dl_root / scope
    if not d.is_dir():
        return
    for v in d.iterdir():
        if v.name != keep:
            shutil.rmtree(v, ignore_errors=True)
    if keep is None:
        shutil.rmtree(d, ignore_errors=True)
        for k in list(cache.iterkeys()):
            if isinstance(k, str) and k.startswith("part:") and f"/{quote(scope, safe='')}/" in k:
                cache.delete(k)
