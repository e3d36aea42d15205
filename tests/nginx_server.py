"""A real nginx on 127.0.0.1 for the sync tests, and a TCP proxy that cuts a connection.

:class:`Nginx` writes its own config, root and logs under a temporary folder and runs
``nginx -g 'daemon off;'`` in the foreground (as root it runs its workers as root too, so
they can read a pytest tmp dir). The access log has one line per request::

    <status>|<body_bytes_sent>|<request>|<Range header>|<If-None-Match>|<If-Range>

nginx comes from deploy/install-system-packages.sh (``nginx-light``); without it the
fixture skips.
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

CONF = """\
{user}
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 64; }}
http {{
    types {{ application/json json; application/octet-stream sqlite sig sha256; application/wasm wasm;
             text/javascript js; text/css css; text/html html; text/plain txt; }}
    default_type application/octet-stream;
    log_format bytes escape=none '$status|$body_bytes_sent|$request|$http_range|$http_if_none_match|$http_if_range';
    access_log {d}/access.log bytes;
    client_body_temp_path {d}/tmp/body;
    proxy_temp_path {d}/tmp/proxy;
    fastcgi_temp_path {d}/tmp/fastcgi;
    uwsgi_temp_path {d}/tmp/uwsgi;
    scgi_temp_path {d}/tmp/scgi;
    sendfile off;
    output_buffers 1 16k;
    gzip off;
    gzip_static on;   # the phone viewer's .gz copies (docs/viewer.md)
    charset_types text/css text/javascript application/json;
    charset utf-8;
    etag on;
    server {{
        listen 127.0.0.1:{port} sndbuf=16k;
        root {root};
        autoindex off;
    }}
}}
"""


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"{what} did not start listening on {port}")


@dataclass
class LogLine:
    status: int
    bytes_sent: int
    request: str
    range: str
    if_none_match: str
    if_range: str

    @property
    def path(self) -> str:
        return self.request.split(" ")[1]


class Nginx:
    """nginx serving ``root`` on ``127.0.0.1:port``. Use as a context manager."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir)
        self.root = self.dir / "www"
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Nginx":
        binary = nginx_binary()
        if not binary:
            pytest.skip("nginx is not installed (deploy/install-system-packages.sh installs nginx-light)")
        (self.dir / "tmp").mkdir(parents=True, exist_ok=True)
        self.root.mkdir(parents=True, exist_ok=True)
        user = "user root root;" if os.geteuid() == 0 else ""
        conf = self.dir / "nginx.conf"
        conf.write_text(CONF.format(user=user, d=self.dir, port=self.port, root=self.root))
        self.proc = subprocess.Popen([binary, "-p", str(self.dir), "-c", str(conf), "-g", "daemon off;"],
                                     stdout=subprocess.DEVNULL, stderr=open(self.dir / "stderr.log", "wb"))
        try:
            _wait_port(self.port, self.proc, "nginx")
        except RuntimeError as exc:
            self.stop()
            raise RuntimeError(f"{exc}: {(self.dir / 'stderr.log').read_text()}") from None
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()  # SIGTERM: fast shutdown of master and workers
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def __enter__(self) -> "Nginx":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    SENTINEL = "/__log_sentinel__"

    def log(self) -> list[LogLine]:
        """Access log lines so far, sentinel requests left out.

        nginx writes a request's line in its log phase, which can run just after the client
        already has the response. So first send a sentinel request and wait for its line: the
        single worker handles events in order, so every earlier request is logged by then.
        """
        import urllib.error
        import urllib.request

        path = self.dir / "access.log"
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.SENTINEL}", timeout=5).close()
        except urllib.error.URLError:
            pass  # 404 (or server down): either way the request was handled
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            text = path.read_text() if path.exists() else ""
            if self.SENTINEL in text and text.endswith("\n"):
                break
            time.sleep(0.02)
        out = []
        for line in text.splitlines():
            status, sent, request, rng, inm, ifr = line.split("|")
            if self.SENTINEL not in request:
                out.append(LogLine(int(status), int(sent), request, rng, inm, ifr))
        return out

    def clear_log(self) -> None:
        (self.dir / "access.log").write_text("")


class CuttingProxy:
    """A TCP proxy to ``127.0.0.1:upstream`` that, once armed, drops the connection (both
    sides shut down) after ``cut_after`` bytes came back from the server (a connection
    dropped mid-file).

    Small socket buffers on the upstream side keep nginx from running far ahead of what
    the client received, so nginx's ``$body_bytes_sent`` stays close to what got through.
    """

    def __init__(self, upstream: int, cut_after: int | None = None):
        self.upstream = upstream
        self.cut_after = cut_after
        self.cuts = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self._lock = threading.Lock()
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.sock.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.socket()
            u.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
            u.connect(("127.0.0.1", self.upstream))
            threading.Thread(target=self._pipe, args=(c, u, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, True), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, downstream: bool) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(8192)
                if not data:
                    break
                if downstream:
                    with self._lock:
                        limit = self.cut_after
                    if limit is not None and sent + len(data) >= limit:
                        dst.sendall(data[: max(0, limit - sent)])
                        with self._lock:
                            self.cut_after = None  # one cut only
                            self.cuts += 1
                        # shutdown acts at once even while the other pipe thread sits in
                        # recv() on the same socket (a plain close() would wait for it); a FIN,
                        # not a RST, so the client keeps the bytes it already received
                        for s in (dst, src):
                            s.shutdown(socket.SHUT_RDWR)
                        break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.close()
                except OSError:
                    pass
