"""Range header parsing (no server): which range, the whole, or unsatisfiable."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionary.recordings.ranges import ByteRange, Unsatisfiable, parse_range


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-99", ByteRange(0, 99)),
        ("bytes=10-", ByteRange(10, 999)),
        ("bytes=-10", ByteRange(990, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=990-5000", ByteRange(990, 999)),
        (" BYTES = 1 - 2 ", ByteRange(1, 2)),
    ],
)
def test_one_byte_range_is_parsed_and_clipped_to_the_size(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header",
    [None, "", "bytes=0-1,5-6", "bytes=5-1", "pages=0-1", "bytes=", "bytes=-", "bytes=a-b", "bytes=٣-٤"],
)
def test_anything_but_one_plain_range_means_the_whole(header: str | None) -> None:
    assert parse_range(header, 1000) is None


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=1000-2000", "bytes=-0"])
def test_a_range_outside_the_resource_is_unsatisfiable(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


def test_content_range_and_length_of_a_range() -> None:
    assert ByteRange(5, 9).length == 5
    assert ByteRange(5, 9).content_range(100) == "bytes 5-9/100"


# --- numbers of any length (issue 11, item 7) --------------------------------------------------------

HUGE = "9" * 4301  # one digit past what Python converts from text by default


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (f"bytes=0-{HUGE}", ByteRange(0, 999)),  # an end past the size is clipped
        (f"bytes=990-{HUGE}{HUGE}", ByteRange(990, 999)),
        (f"bytes=-{HUGE}", ByteRange(0, 999)),  # a suffix longer than the file is the whole file
        (f"bytes={'0' * 5000}1-{'0' * 5000}2", ByteRange(1, 2)),  # leading zeros
        (f"bytes={'0' * 5000}-", ByteRange(0, 999)),
    ],
)
def test_positions_of_any_length_are_read_as_the_numbers_they_are(header: str, expected: ByteRange) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize(
    "header", [f"bytes={HUGE}-", f"bytes={HUGE}-{HUGE}", f"bytes=1000-{HUGE}", "bytes=-0000"]
)
def test_a_range_starting_past_the_end_is_unsatisfiable_however_long_its_numbers(header: str) -> None:
    with pytest.raises(Unsatisfiable):
        parse_range(header, 1000)


@pytest.mark.parametrize(
    "header",
    [f"bytes={HUGE}1-{HUGE}", f"bytes=5-1,{HUGE}-", f"bytes=0-{HUGE},0-1", "bytes=-5-10", "bytes=--1",
     "bytes=1--2", f"bytes={HUGE}", "bytes=1e3-2e3", "bytes=0x10-0x20", "bytes=+1-2", "bytes=1 2-3"],
)  # fmt: skip
def test_a_reversed_negative_multiple_or_garbled_range_of_any_length_means_the_whole(header: str) -> None:
    assert parse_range(header, 1000) is None


def _reference(first: str, last: str, size: int) -> ByteRange | None | str:
    """RFC 9110 §14.1.2 with exact arithmetic (Decimal converts text of any length)."""
    if not first:
        count = Decimal(last)
        if count == 0 or size == 0:
            return "416"
        return ByteRange(max(0, size - int(min(count, size))), size - 1)
    start = Decimal(first)
    if last and Decimal(last) < start:
        return None
    if start >= size:
        return "416"
    end = min(Decimal(last), size - 1) if last else size - 1
    return ByteRange(int(start), int(end))


digits = st.one_of(
    st.text("0123456789", min_size=1, max_size=25), st.text("0123456789", min_size=4000, max_size=6000)
)


@settings(max_examples=200, deadline=None)
@given(first=st.one_of(st.just(""), digits), last=st.one_of(st.just(""), digits), size=st.integers(0, 2**40))
def test_any_one_range_of_digits_is_answered_as_rfc_9110_says(first: str, last: str, size: int) -> None:
    if not first and not last:
        return
    try:
        got: ByteRange | None | str = parse_range(f"bytes={first}-{last}", size)
    except Unsatisfiable:
        got = "416"
    assert got == _reference(first, last, size)


@settings(max_examples=500, deadline=None)
@given(
    header=st.text(max_size=60) | st.builds(lambda s: "bytes=" + s, st.text("0123456789-, =\t", max_size=60))
)
def test_any_header_gets_a_range_within_the_file_the_whole_file_or_416(header: str) -> None:
    try:
        found = parse_range(header, 1000)
    except Unsatisfiable:
        return
    assert found is None or 0 <= found.start <= found.end <= 999
