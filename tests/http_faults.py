"""A small threaded HTTP(S) server for sync fault tests: serves a published tree, and can ask
for basic auth, require a TLS client certificate, or trickle a file's body.

Why not nginx (tests/nginx_server.py): a trickle (a few bytes a second, for as long as the
client listens) and a client-certificate check are simplest in a few lines of Python.
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FaultServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path, auth: tuple[str, str] | None = None, trickle_bps: float | None = None,
                 trickle_for_s: float = 20.0, tls: ssl.SSLContext | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.root, self.auth, self.trickle_bps, self.trickle_for_s = Path(root), auth, trickle_bps, trickle_for_s
        self.requests: list[tuple[str, int]] = []
        self.stopping = threading.Event()
        if tls:
            self.socket = tls.wrap_socket(self.socket, server_side=True)
        self.scheme = "https" if tls else "http"
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> "FaultServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer

    def log_message(self, *args) -> None:  # quiet
        pass

    def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.server.requests.append((self.path, status))
        self.send_response(status)
        for k, v in {"Content-Length": str(len(body)), **(headers or {})}.items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        if self.server.auth:
            want = "Basic " + base64.b64encode(":".join(self.server.auth).encode()).decode()
            if self.headers.get("Authorization") != want:
                return self._reply(401, b"", {"WWW-Authenticate": 'Basic realm="county"'})
        p = (self.server.root / self.path.lstrip("/")).resolve()
        if not str(p).startswith(str(self.server.root.resolve())) or not p.is_file():
            return self._reply(404)
        data = p.read_bytes()
        if self.server.trickle_bps and p.name.endswith(".sqlite"):
            self.server.requests.append((self.path, 200))
            self.send_response(200)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            step = 1.0 / self.server.trickle_bps
            end = time.monotonic() + self.server.trickle_for_s
            try:
                for i in range(len(data)):  # one byte at a time, paced (the fault under test)
                    if self.server.stopping.is_set() or time.monotonic() > end:
                        break
                    self.wfile.write(data[i:i + 1])
                    self.wfile.flush()
                    time.sleep(step)
            except OSError:
                pass
            self.close_connection = True
            return
        self._reply(200, data)


def make_pki(d: Path) -> dict[str, Path]:
    """A throw-away test CA, a server certificate for 127.0.0.1 and a client certificate
    (all test keys, written under ``d``)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    d.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write_key(key, path: Path) -> None:
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("test county CA")).issuer_name(name("test county CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    out = {"ca": d / "test-ca.pem"}
    out["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    for who, usage in (("server", ExtendedKeyUsageOID.SERVER_AUTH), ("client", ExtendedKeyUsageOID.CLIENT_AUTH)):
        key = ec.generate_private_key(ec.SECP256R1())
        b = (x509.CertificateBuilder().subject_name(name(f"test {who}")).issuer_name(ca.subject)
             .public_key(key.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=30))
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if who == "server":
            b = b.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                                critical=False)
        cert = b.sign(ca_key, hashes.SHA256())
        out[f"{who}_cert"] = d / f"test-{who}.pem"
        out[f"{who}_key"] = d / f"test-{who}-key.pem"
        out[f"{who}_cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        write_key(key, out[f"{who}_key"])
    return out


def server_tls(pki: dict[str, Path]) -> ssl.SSLContext:
    """TLS for the server: its certificate, and a client certificate from the test CA required."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["server_cert"], pki["server_key"])
    ctx.load_verify_locations(pki["ca"])
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx
