"""One recording fetch: a provider's URL streamed into the blob store, guarded against SSRF.

Written by hand on httpx because no well-kept SSRF guard exists for it: `advocate` wraps requests and is
unmaintained since 2020; `safehttpx` (gradio) is async-only, follows no redirect, asks dns.google over the
network when the system resolver gives no public address, and connects to the first public address even when
the name also resolves to a private one; the other httpx wrappers on PyPI (drawbridge, egressweave,
ssrfguard, httpx-secure: async only) are a few months old and little used.

For the first URL and each redirect (at most MAX_REDIRECTS, followed here, never by httpx):
1. egress.parse_url, HostRules.check and egress.addresses (recordings/egress.py): an allowed host whose every
   address is public (unless SESSIONARY_RECORDING_FETCH_ALLOW_PRIVATE);
2. a connection to one of those addresses, never to the name (no second DNS lookup: DNS rebinding). The
   request's URL holds the IP, the `Host` header names the host, and for https the `sni_hostname` request
   extension: httpcore (`_sync/connection.py`, `_connect`) passes it as `server_hostname` to
   `ssl_context.wrap_socket`, so the name is sent in the TLS handshake and, httpx's SSL context checking
   host names, the certificate is verified against the name, not the IP (tests/recordings/
   test_fetch_fetcher.py proves both with a certificate of its own). Keep-alive is off and each hop has a
   client of its own, so no pooled connection to an IP is reused for another name; proxies from the
   environment are ignored (`trust_env=False`): the checked address is the one connected to.
3. basic auth (the job's user and the integration's secret) only when the origin is the job's first one.

The body is read raw (`Accept-Encoding: identity`; an encoded body is refused: no decompression bomb) in
chunks into a blob writer, counted against SESSIONARY_RECORDING_MAX_BYTES and a total deadline.
"""

from __future__ import annotations

import base64
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx

from sessionary import __version__
from sessionary.config import Settings
from sessionary.recordings import egress
from sessionary.recordings.blobs import CHUNK, BlobStore, StoredBlob
from sessionary.recordings.egress import HostRules, IPAddress, Resolver, Target

MAX_REDIRECTS = 5
CONNECT_SECONDS = 10.0
READ_SECONDS = 30.0  # the longest wait for the next bytes (the deadline bounds the whole fetch)
_REDIRECTS = {301, 302, 303, 307, 308}
_RETRIED = {404, 408, 425, 429}  # and every 5xx: a provider's storage may lag behind its webhook
_DOCUMENTS = ("text/", "application/json", "application/xml", "application/problem+json")
_USER_AGENT = f"sessionary/{__version__} (recording fetch)"


@dataclass(frozen=True)
class Fetched:
    """The recording, stored in the blob store (not yet attached), and the media type it was served as."""

    blob: StoredBlob
    content_type: str | None


@dataclass(frozen=True)
class Failed:
    """Why the fetch failed (naming hosts, never a URL: it may carry a token); permanent: never retried."""

    error: str
    permanent: bool


class _Retry(Exception):
    pass


class _Permanent(Exception):
    pass


class Interrupted(Exception):
    """The worker is stopping: the fetch was dropped (nothing stored); the job is to be given back."""


@dataclass(frozen=True)
class Auth:
    """HTTP basic credentials for the job's first origin only."""

    user: str
    password: str


class Fetcher:
    """Fetches recording URLs; `resolve`, `allowed` and `verify` are replaceable for tests."""

    def __init__(
        self,
        store: BlobStore,
        *,
        rules: HostRules,
        max_bytes: int,
        timeout: float,
        allowed: Callable[[IPAddress], bool] = egress.is_public,
        resolve: Resolver = egress.system_resolver,
        verify: ssl.SSLContext | bool = True,
    ) -> None:
        self.store, self.rules, self.max_bytes, self.timeout = store, rules, max_bytes, timeout
        self._allowed, self._resolve, self._verify = allowed, resolve, verify

    @classmethod
    def from_settings(cls, settings: Settings, store: BlobStore) -> Fetcher:
        allow_private = settings.recording_fetch_allow_private
        return cls(
            store,
            rules=HostRules(extra=settings.recording_fetch_hosts),
            max_bytes=settings.recording_max_bytes,
            timeout=settings.recording_fetch_timeout_seconds,
            allowed=(lambda _address: True) if allow_private else egress.is_public,
        )

    def fetch(
        self,
        *,
        provider: str,
        url: str,
        auth: Auth | None = None,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> Fetched | Failed:
        """Fetch `url` into the blob store; Interrupted when `should_stop` turns true mid-way."""
        deadline = time.monotonic() + self.timeout
        try:
            return self._follow(provider, egress.parse_url(url), auth, deadline, should_stop)
        except egress.BadURL as exc:
            return Failed(f"the URL {exc}", permanent=True)
        except (egress.Refused, _Permanent) as exc:
            return Failed(str(exc), permanent=True)
        except _Retry as exc:
            return Failed(str(exc), permanent=False)
        except httpx.TimeoutException as exc:
            return Failed(f"timed out ({type(exc).__name__})", permanent=False)
        except (httpx.TransportError, OSError) as exc:  # socket.gaierror is an OSError
            return Failed(f"connection failed: {type(exc).__name__}: {exc}", permanent=False)

    def _follow(
        self,
        provider: str,
        target: Target,
        auth: Auth | None,
        deadline: float,
        should_stop: Callable[[], bool],
    ) -> Fetched:
        first = target.origin
        for _hop in range(MAX_REDIRECTS + 1):
            self.rules.check(provider, target)
            try:
                addresses = egress.addresses(target, resolve=self._resolve, allowed=self._allowed)
            except socket.gaierror as exc:
                raise _Retry(f"{target.host} does not resolve ({exc.strerror})") from None
            credentials = auth if target.origin == first else None
            with self._open(target, addresses, credentials, deadline) as response:
                if response.status_code not in _REDIRECTS:
                    return self._receive(target, response, deadline, should_stop)
                location = response.headers.get("location")
                if not location:
                    raise _Permanent(f"{target.host} answered {response.status_code} without a Location")
            try:
                target = egress.parse_url(location, base=target.url)
            except egress.BadURL as exc:
                raise _Permanent(f"{target.host} redirected to a URL that {exc}") from None
        raise _Permanent(f"more than {MAX_REDIRECTS} redirects")

    @contextmanager
    def _open(
        self, target: Target, addresses: list[IPAddress], auth: Auth | None, deadline: float
    ) -> Iterator[httpx.Response]:
        """The response of the first of `addresses` that accepts a connection (each is a checked one)."""
        for index, address in enumerate(addresses):
            remaining = _remaining(deadline)
            timeout = httpx.Timeout(min(READ_SECONDS, remaining), connect=min(CONNECT_SECONDS, remaining))
            client = httpx.Client(
                verify=self._verify,
                trust_env=False,
                follow_redirects=False,
                limits=httpx.Limits(max_keepalive_connections=0),
            )
            try:
                url = httpx.URL(
                    scheme=target.scheme,
                    host=str(address),
                    port=target.port,
                    raw_path=target.target.encode("ascii"),
                )
                request = client.build_request(
                    "GET",
                    url,
                    headers=_headers(target, auth),
                    timeout=timeout,
                    extensions={"sni_hostname": target.host} if target.scheme == "https" else {},
                )
                try:
                    response = client.send(request, stream=True)
                except httpx.ConnectError:
                    if index + 1 < len(addresses):
                        continue  # another of the host's (checked) addresses
                    raise
                try:
                    yield response
                finally:
                    response.close()
                return
            finally:
                client.close()

    def _receive(
        self, target: Target, response: httpx.Response, deadline: float, should_stop: Callable[[], bool]
    ) -> Fetched:
        status = response.status_code
        if status != 200:
            failure = _Retry if status >= 500 or status in _RETRIED else _Permanent
            raise failure(f"{target.host} answered HTTP {status}")
        media = _checked_headers(target, response, self.max_bytes)
        writer = self.store.open_writer()
        try:
            for chunk in response.iter_raw(CHUNK):
                if writer.size + len(chunk) > self.max_bytes:
                    limit = f"SESSIONARY_RECORDING_MAX_BYTES ({self.max_bytes} bytes)"
                    raise _Permanent(f"{target.host} sent more than {limit}")
                if should_stop():
                    raise Interrupted()
                _remaining(deadline)
                writer.write(chunk)
            if writer.size == 0:
                raise _Permanent(f"{target.host} sent an empty body")
            return Fetched(writer.commit(), media)
        except BaseException:
            writer.abort()
            raise


def _headers(target: Target, auth: Auth | None) -> dict[str, str]:
    headers = {
        "Host": target.host_header,
        "User-Agent": _USER_AGENT,
        "Accept": "*/*",
        "Accept-Encoding": "identity",
    }
    if auth is not None:
        token = base64.b64encode(f"{auth.user}:{auth.password}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    return headers


def _checked_headers(target: Target, response: httpx.Response, max_bytes: int) -> str | None:
    """The body's media type; _Permanent for a body too long, encoded, or a document (an error page)."""
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > max_bytes:
        raise _Permanent(
            f"{target.host} announced {int(length)} bytes, more than SESSIONARY_RECORDING_MAX_BYTES "
            f"({max_bytes})"
        )
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise _Permanent(f"{target.host} sent the recording with Content-Encoding {encoding[:40]!r}")
    media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()[:200]
    if media.startswith(_DOCUMENTS) or media.endswith(("+json", "+xml")):
        raise _Permanent(f"{target.host} sent a document ({media}), not a recording")
    return media or None


def _remaining(deadline: float) -> float:
    """Seconds left before the deadline; _Retry once it has passed."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Retry("took longer than SESSIONARY_RECORDING_FETCH_TIMEOUT_SECONDS")
    return left
