"""A fake voice platform's recording storage on a loopback port: serves bytes, checks basic auth,
redirects, answers errors, sends more than announced, holds a request open; http or https (a certificate
of its own, made here with `cryptography`). Every request is recorded with its headers."""

from __future__ import annotations

import base64
import datetime as dt
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HOLD_LIMIT = 60.0  # seconds a held request waits for `release` at most


@dataclass
class Route:
    """What one path answers. `statuses` are answered first, one per request, then `status` with `body`."""

    body: bytes = b""
    status: int = 200
    statuses: list[int] = field(default_factory=list)
    content_type: str = "audio/wav"
    location: str | None = None  # a redirect (with `status` 302 unless set otherwise)
    auth: tuple[str, str] | None = None  # basic auth required: 401 without it
    announce: bool = True  # send Content-Length (else the body runs to the connection's close)
    hold_first: int | None = None  # the first request holds after this many body bytes until `release`


@dataclass(frozen=True)
class Seen:
    path: str
    headers: dict[str, str]
    server_name: str | None  # the TLS SNI the client sent (https)


class FakeProvider:
    def __init__(self, host: str = "127.0.0.1", tls: Path | None = None) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.held, self.release = threading.Event(), threading.Event()
        self._holds_done: set[str] = set()
        self._lock = threading.Lock()
        self._server = _Server((host, 0), _Handler)
        self._server.fake = self
        self._server.daemon_threads = True
        self.scheme = "http"
        self._sni: dict[int, str | None] = {}
        if tls is not None:
            self.scheme = "https"
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(tls / "server.pem", tls / "server.key")
            context.sni_callback = self._record_sni
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
        self.port = self._server.server_address[1]
        self.host = host

    def url(self, path: str, host: str | None = None) -> str:
        return f"{self.scheme}://{host or self.host}:{self.port}{path}"

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [seen for seen in self.seen if seen.path == path]

    def _record_sni(
        self, sock: ssl.SSLObject | ssl.SSLSocket, name: str | None, _ctx: ssl.SSLContext
    ) -> None:
        self._sni[id(sock)] = name

    def _take_hold(self, path: str) -> bool:
        with self._lock:
            if path in self._holds_done:
                return False
            self._holds_done.add(path)
            return True

    @contextmanager
    def running(self) -> Iterator[FakeProvider]:
        thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self._server.shutdown()
            self._server.server_close()
            thread.join(timeout=10)


class _Server(ThreadingHTTPServer):
    fake: FakeProvider


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (quiet)
        pass

    def do_GET(self) -> None:  # noqa: N802  (http.server's name)
        fake = self.server.fake
        sni = fake._sni.get(id(self.connection)) if fake.scheme == "https" else None
        with fake._lock:
            fake.seen.append(Seen(self.path, {k.lower(): v for k, v in self.headers.items()}, sni))
        route = fake.routes.get(self.path)
        if route is None:
            self._answer(404, b"no such recording", "text/plain")
        elif route.auth is not None and self.headers.get("Authorization") != _basic(*route.auth):
            self._answer(401, b"unauthorized", "text/plain")
        elif route.statuses:
            self._answer(route.statuses.pop(0), b"busy", "text/plain")
        elif route.location is not None:
            self.send_response(route.status if route.status != 200 else 302)
            self.send_header("Location", route.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._body(route)

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _body(self, route: Route) -> None:
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        if route.announce:
            self.send_header("Content-Length", str(len(route.body)))
        else:
            self.close_connection = True
        self.end_headers()
        body = route.body
        try:
            if route.hold_first is not None and self.server.fake._take_hold(self.path):
                self.wfile.write(body[: route.hold_first])
                self.wfile.flush()
                self.server.fake.held.set()
                self.server.fake.release.wait(HOLD_LIMIT)
                body = body[route.hold_first :]
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client went away (killed, or it stopped reading)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def make_certificates(directory: Path, name: str) -> Path:
    """A CA (ca.pem) and a server certificate for `name` it signed (server.pem, server.key) in `directory`."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sessionary test CA")])
    ca = (
        _builder(ca_name, ca_name, ca_key.public_key(), now)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(*[False] * 5, True, True, False, False), critical=True)  # cert+CRL sign
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    server = (
        _builder(server_name, ca_name, key.public_key(), now)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return directory


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, now: dt.datetime
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
    )
