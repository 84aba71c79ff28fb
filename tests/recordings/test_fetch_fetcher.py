"""Recording fetches on every database, against a fake provider on 127.0.0.1: stored byte for byte and
attached, basic auth for the first host only, every refusal (private addresses, hosts, http, size), the
retry schedule, and https checked against the host name while connecting to the checked address."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import IPv4Address, ip_address
from pathlib import Path

import pytest

from sessionary.db import Database, session_scope
from sessionary.db_types import utcnow
from sessionary.recordings import service
from sessionary.recordings.blobs import LocalBlobStore
from sessionary.recordings.egress import HostRules
from sessionary.recordings.fetcher import MAX_REDIRECTS, Failed, Fetched
from sessionary.recordings.fetchjobs import MAX_ATTEMPTS, backoff
from sessionary.recordings.fetchworker import fetch_next
from sessionary.sealing import DatabaseSealers
from tests.conftest import Org
from tests.recordings.fake_provider import FakeProvider, Route, make_certificates
from tests.recordings.fetching import (
    LIMIT,
    connect_twilio,
    enqueue,
    jobs_of,
    make_fetcher,
    new_sid,
    run_next,
    session_id_of,
)
from tests.recordings.helpers import audio, stored_files

AUTH_USER, AUTH_TOKEN = "AC0123456789abcdef", "twilio-auth-token-1"


@pytest.fixture
def blob_dir(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(blob_dir: Path) -> LocalBlobStore:
    return LocalBlobStore(blob_dir)


@pytest.fixture
def fake() -> Iterator[FakeProvider]:
    with FakeProvider().running() as running:
        yield running


def _blob_bytes(store: LocalBlobStore, key: str) -> bytes:
    return b"".join(store.open_range(key))


def test_a_recording_is_fetched_byte_equal_into_the_store_and_attached(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    data = audio(LIMIT - 1, seed=1)
    fake.routes["/RE1.wav"] = Route(body=data, content_type="audio/x-wav")
    sid = new_sid()
    enqueue(database, org, fake.url("/RE1.wav"), sid=sid, filename="RE1.wav")
    assert run_next(database, make_fetcher(store), org)
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.last_error, job.due_at) == ("done", 1, None, None)
    with session_scope(database.reader) as db:
        [recording] = service.session_recordings(
            db, organization_id=org.id, session_id=session_id_of(database, org, sid)
        )
    assert recording.id == job.recording_id
    assert (recording.size, recording.filename, recording.content_type) == (
        len(data),
        "RE1.wav",
        "audio/x-wav",
    )
    assert _blob_bytes(store, recording.blob_key) == data
    assert not run_next(database, make_fetcher(store), org)  # nothing is due any more


def test_basic_auth_is_sent_to_the_first_host_with_the_integrations_secret(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    fake.routes["/private.wav"] = Route(body=audio(5000), auth=(AUTH_USER, AUTH_TOKEN))
    integration = connect_twilio(database, org, AUTH_TOKEN)
    sid = new_sid()
    enqueue(database, org, fake.url("/private.wav"), sid=sid, auth_user=AUTH_USER, integration_id=integration)
    run_next(database, make_fetcher(store), org)
    assert [job.state for job in jobs_of(database, org, sid)] == ["done"]
    [seen] = fake.requests_to("/private.wav")
    assert seen.headers["authorization"].startswith("Basic ")


def test_basic_auth_is_not_sent_after_a_redirect_to_another_host(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    data = audio(5000, seed=2)
    fake.routes["/api/RE1.wav"] = Route(location=fake.url("/storage/RE1.wav", host="localhost"))
    fake.routes["/storage/RE1.wav"] = Route(body=data)
    integration = connect_twilio(database, org, AUTH_TOKEN)
    sid = new_sid()
    enqueue(database, org, fake.url("/api/RE1.wav"), sid=sid, auth_user=AUTH_USER, integration_id=integration)
    run_next(database, make_fetcher(store), org)
    assert [job.state for job in jobs_of(database, org, sid)] == ["done"]
    [first] = fake.requests_to("/api/RE1.wav")
    [second] = fake.requests_to("/storage/RE1.wav")
    assert first.headers["host"] == f"127.0.0.1:{fake.port}"
    assert "authorization" in first.headers
    assert second.headers["host"] == f"localhost:{fake.port}"
    assert "authorization" not in second.headers


def test_basic_auth_is_sent_again_after_a_redirect_on_the_same_host(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    fake.routes["/a.wav"] = Route(location="/b.wav", status=307)
    fake.routes["/b.wav"] = Route(body=audio(100), auth=(AUTH_USER, AUTH_TOKEN))
    integration = connect_twilio(database, org, AUTH_TOKEN)
    sid = new_sid()
    enqueue(database, org, fake.url("/a.wav"), sid=sid, auth_user=AUTH_USER, integration_id=integration)
    run_next(database, make_fetcher(store), org)
    assert [job.state for job in jobs_of(database, org, sid)] == ["done"]


def _fails_for_good(
    database: Database,
    org: Org,
    store: LocalBlobStore,
    url: str,
    *,
    provider: str = "twilio",
    **fetcher: object,
) -> str:
    """Enqueue `url`, run the worker once: the job must be failed for good; its last_error."""
    sid = new_sid()
    enqueue(database, org, url, sid=sid, provider=provider)
    assert run_next(database, make_fetcher(store, **fetcher), org)  # type: ignore[arg-type]
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.due_at, job.recording_id) == ("failed", None, None)
    assert job.last_error is not None
    return job.last_error


def test_a_loopback_address_is_refused_without_the_allow_private_setting(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    fake.routes["/RE1.wav"] = Route(body=audio(100))
    for host in ("127.0.0.1", "localhost"):
        error = _fails_for_good(database, org, store, fake.url("/RE1.wav", host=host), allow_private=False)
        assert "not a public address" in error
        assert "SESSIONARY_RECORDING_FETCH_ALLOW_PRIVATE" in error
    assert fake.seen == []
    assert stored_files(blob_dir) == []


@pytest.mark.parametrize(
    "location",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/internal",
        "http://[::1]/x",
        "http://0x0a000001/x",  # 10.0.0.1 in hex
        "http://[::ffff:10.0.0.1]/x",
        "http://internal.test:{port}/ok.wav",  # resolves (here) to 10.0.0.7
    ],
)
def test_a_redirect_to_a_private_address_is_refused(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider, location: str
) -> None:
    fake.routes["/RE1.wav"] = Route(location=location.format(port=fake.port))
    fake.routes["/ok.wav"] = Route(body=audio(100))
    only_the_fake = IPv4Address("127.0.0.1")  # the first host passes; nothing else private does
    hosts = HostRules(
        extra=("127.0.0.1", "internal.test", "169.254.169.254", "10.0.0.1", "::1", "::ffff:10.0.0.1")
    )
    error = _fails_for_good(
        database,
        org,
        store,
        fake.url("/RE1.wav"),
        rules=hosts,
        allowed=lambda a: a == only_the_fake,
        resolve=lambda _host, _port: [ip_address("10.0.0.7")],
    )
    assert "not a public address" in error
    assert fake.requests_to("/ok.wav") == []


def test_a_host_not_allowed_is_refused_and_not_resolved(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    asked: list[str] = []

    def resolve(host: str, port: int) -> list[object]:
        asked.append(host)
        return [ip_address("127.0.0.1")]

    error = _fails_for_good(database, org, store, "https://recordings.example.org/RE1.wav", resolve=resolve)
    assert error.startswith("recordings.example.org is not a recording host of twilio")
    fake.routes["/RE1.wav"] = Route(location="https://recordings.example.org/RE1.wav")
    error = _fails_for_good(database, org, store, fake.url("/RE1.wav"), resolve=resolve)
    assert error.startswith("recordings.example.org is not a recording host of twilio")
    assert asked == []


def test_http_to_a_providers_own_host_is_refused(database: Database, org: Org, store: LocalBlobStore) -> None:
    error = _fails_for_good(database, org, store, "http://api.twilio.com/2010-04-01/Recordings/RE1.wav")
    assert error == "api.twilio.com: twilio's recording hosts are fetched over https only"
    error = _fails_for_good(database, org, store, "http://storage.vapi.ai/RE1.wav", provider="vapi")
    assert error == "storage.vapi.ai: vapi's recording hosts are fetched over https only"


def test_a_recording_announced_over_the_limit_is_refused_before_its_body(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    fake.routes["/big.wav"] = Route(body=audio(LIMIT + 1))
    error = _fails_for_good(database, org, store, fake.url("/big.wav"))
    assert (
        error == f"127.0.0.1 announced {LIMIT + 1} bytes, more than SESSIONARY_RECORDING_MAX_BYTES ({LIMIT})"
    )
    assert stored_files(blob_dir) == []


def test_a_recording_streaming_past_the_limit_is_aborted_and_leaves_nothing(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    fake.routes["/big.wav"] = Route(body=audio(3 * LIMIT), announce=False)
    error = _fails_for_good(database, org, store, fake.url("/big.wav"))
    assert error == f"127.0.0.1 sent more than SESSIONARY_RECORDING_MAX_BYTES ({LIMIT} bytes)"
    assert stored_files(blob_dir) == []


@pytest.mark.parametrize(
    ("route", "error"),
    [
        (Route(status=403, body=b"forbidden"), "127.0.0.1 answered HTTP 403"),
        (Route(status=401, body=b"who?"), "127.0.0.1 answered HTTP 401"),
        (Route(body=b""), "127.0.0.1 sent an empty body"),
        (Route(body=b"<html>oops</html>", content_type="text/html"), "127.0.0.1 sent a document (text/html)"),
        (Route(body=b"{}", content_type="application/problem+json"), "sent a document (application/problem"),
        (Route(location="/loop.wav"), f"more than {MAX_REDIRECTS} redirects"),
        (Route(location="ftp://127.0.0.1/x"), "redirected to a URL that must be an absolute http"),
    ],
)
def test_an_answer_that_can_never_be_a_recording_fails_for_good(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider, route: Route, error: str
) -> None:
    fake.routes["/loop.wav"] = route
    assert error in _fails_for_good(database, org, store, fake.url("/loop.wav"))


def test_a_503_is_retried_after_the_backoff_and_then_succeeds(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    data = audio(2000, seed=3)
    fake.routes["/RE1.wav"] = Route(body=data, statuses=[503, 404])
    sid, fetcher = new_sid(), make_fetcher(store)
    enqueue(database, org, fake.url("/RE1.wav"), sid=sid)
    now = utcnow()
    assert run_next(database, fetcher, org, now=now)
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.last_error, job.due_at) == (
        "pending",
        1,
        "127.0.0.1 answered HTTP 503",
        now + timedelta(seconds=30),
    )
    assert not run_next(database, fetcher, org, now=now + timedelta(seconds=29))  # not due yet
    assert run_next(database, fetcher, org, now=now + timedelta(seconds=30))
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.due_at) == ("pending", 2, now + timedelta(seconds=90))
    assert job.last_error == "127.0.0.1 answered HTTP 404"  # the provider's storage lags: retried too
    assert run_next(database, fetcher, org, now=now + timedelta(seconds=90))
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.last_error) == ("done", 3, None)
    assert len(fake.requests_to("/RE1.wav")) == 3


def test_a_recording_failing_every_attempt_is_given_up_with_its_last_error(
    database: Database, org: Org, store: LocalBlobStore, fake: FakeProvider
) -> None:
    fake.routes["/RE1.wav"] = Route(status=502, body=b"bad gateway")
    sid, fetcher = new_sid(), make_fetcher(store)
    enqueue(database, org, fake.url("/RE1.wav"), sid=sid)
    now = utcnow()
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert run_next(database, fetcher, org, now=now)
        [job] = jobs_of(database, org, sid)
        assert job.attempts == attempt
        if attempt < MAX_ATTEMPTS:
            assert job.due_at == now + backoff(attempt)
            now = job.due_at
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.due_at, job.last_error) == ("failed", None, "127.0.0.1 answered HTTP 502")
    assert not run_next(database, fetcher, org, now=now + timedelta(days=1))
    assert len(fake.requests_to("/RE1.wav")) == MAX_ATTEMPTS
    assert sum(backoff(n).total_seconds() for n in range(1, MAX_ATTEMPTS)) == 3810  # 63.5 min in all


def test_a_request_held_open_past_the_timeout_is_retried(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    fake.routes["/slow.wav"] = Route(body=audio(4000), hold_first=1000)
    sid = new_sid()
    enqueue(database, org, fake.url("/slow.wav"), sid=sid)
    run_next(database, make_fetcher(store, timeout=1.0), org)
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.last_error) == ("pending", 1, "timed out (ReadTimeout)")
    assert stored_files(blob_dir) == []


def test_two_jobs_with_the_same_bytes_are_one_recording(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    data = audio(3000, seed=4)
    fake.routes["/a.wav"] = Route(body=data)
    fake.routes["/b.wav"] = Route(body=data)
    sid = new_sid()
    enqueue(database, org, fake.url("/a.wav"), sid=sid, source_key="recording")
    enqueue(database, org, fake.url("/b.wav"), sid=sid, source_key="dual-channel")
    assert run_next(database, make_fetcher(store), org)
    assert run_next(database, make_fetcher(store), org)
    first, second = jobs_of(database, org, sid)
    assert (first.state, second.state) == ("done", "done")
    assert first.recording_id == second.recording_id
    with session_scope(database.reader) as db:
        recordings = service.session_recordings(
            db, organization_id=org.id, session_id=session_id_of(database, org, sid)
        )
    assert len(recordings) == 1
    assert len(stored_files(blob_dir)) == 1  # the second, spare blob was deleted


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_certificates(tmp_path_factory.mktemp("tls"), "recordings.test")


def test_https_names_the_host_in_sni_and_checks_the_certificate_against_it(
    certificates: Path, store: LocalBlobStore
) -> None:
    """The connection goes to the checked address (the resolver says 127.0.0.1), yet TLS is the host's:
    the certificate for recordings.test is accepted for it and refused for another name on that address."""
    data = audio(3000, seed=5)
    trusted = ssl.create_default_context(cafile=str(certificates / "ca.pem"))
    resolved = {"recordings.test": "127.0.0.1", "impostor.test": "127.0.0.1"}
    fetcher = make_fetcher(
        store,
        rules=HostRules(extra=tuple(resolved)),
        resolve=lambda host, _port: [ip_address(resolved[host])],
        verify=trusted,
    )
    with FakeProvider(tls=certificates).running() as fake:
        fake.routes["/RE1.wav"] = Route(body=data)
        fetched = fetcher.fetch(provider="twilio", url=fake.url("/RE1.wav", host="recordings.test"))
        refused = fetcher.fetch(provider="twilio", url=fake.url("/RE1.wav", host="impostor.test"))
    assert isinstance(fetched, Fetched)
    assert _blob_bytes(store, fetched.blob.key) == data
    [seen] = fake.seen  # the impostor's handshake failed: it sent no request
    assert seen.server_name == "recordings.test"
    assert seen.headers["host"] == f"recordings.test:{fake.port}"
    assert isinstance(refused, Failed)
    assert not refused.permanent
    assert "certificate is not valid for 'impostor.test'" in refused.error


def test_a_fetch_under_way_when_the_worker_stops_is_given_back_due_at_once(
    database: Database, org: Org, store: LocalBlobStore, blob_dir: Path, fake: FakeProvider
) -> None:
    fake.routes["/RE1.wav"] = Route(body=audio(5000))
    sid = new_sid()
    enqueue(database, org, fake.url("/RE1.wav"), sid=sid)
    fetcher = make_fetcher(store)
    sealers = DatabaseSealers(database, None)
    began = utcnow()
    assert fetch_next(
        database,
        fetcher,
        sealers,
        lease=timedelta(minutes=5),
        organization_id=org.id,
        should_stop=lambda: True,
    )
    [job] = jobs_of(database, org, sid)
    assert (job.state, job.attempts, job.last_error) == ("pending", 0, None)
    assert job.due_at is not None
    assert began <= job.due_at <= utcnow()
    assert len(fake.requests_to("/RE1.wav")) == 1
    assert stored_files(blob_dir) == []
