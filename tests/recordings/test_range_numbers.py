"""Range headers with numbers of any length over HTTP (issue 11, item 7), on every database: never a 500,
always what the README says (206 with the range, 416 past the end, 200 with the whole file otherwise)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import Org
from tests.recordings.helpers import audio, recording_urls, upload_ok

SIZE = 5000
HUGE = "9" * 4301  # Python refuses to convert a number this long from text


@pytest.fixture
def recording(client: httpx.Client, org: Org) -> tuple[str, bytes]:
    data = audio(SIZE, seed=3)
    stored = upload_ok(client, org.ingest, data, sid=f"range-{uuid.uuid4().hex[:8]}")
    [url] = recording_urls(client, org.read, stored["session_id"])
    return url, data


@pytest.mark.parametrize(
    ("header", "status", "start", "stop"),
    [
        (f"bytes=0-{HUGE}", 206, 0, SIZE),
        (f"bytes=4990-{HUGE}", 206, 4990, SIZE),
        (f"bytes=-{HUGE}", 206, 0, SIZE),
        (f"bytes={'0' * 5000}7-{'0' * 5000}9", 206, 7, 10),
        (f"bytes={HUGE}-", 416, 0, 0),
        (f"bytes={HUGE}-{HUGE}", 416, 0, 0),
        (f"bytes={HUGE}9-{HUGE}", 200, 0, SIZE),  # reversed
        (f"bytes=0-1,{HUGE}-", 200, 0, SIZE),  # several ranges
        ("bytes=-5-10", 200, 0, SIZE),  # negative
        (f"bytes={HUGE}x", 200, 0, SIZE),  # garbage
        (f"items=0-{HUGE}", 200, 0, SIZE),  # another unit
    ],
    ids=["end", "end-clipped", "suffix", "leading-zeros", "start", "both", "reversed", "multiple", "negative",
         "garbage", "unit"],
)  # fmt: skip
def test_a_range_with_numbers_of_any_length_is_answered_as_the_readme_says(
    client: httpx.Client, recording: tuple[str, bytes], header: str, status: int, start: int, stop: int
) -> None:
    url, data = recording
    response = client.get(url, headers={"Range": header})
    assert response.status_code == status, response.text[:200]
    if status == 416:
        assert response.headers["content-range"] == f"bytes */{SIZE}"
        return
    assert response.content == data[start:stop]
    if status == 206:
        assert response.headers["content-range"] == f"bytes {start}-{stop - 1}/{SIZE}"
