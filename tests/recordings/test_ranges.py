"""Range header parsing (no server): which range, the whole, or unsatisfiable."""

from __future__ import annotations

import pytest

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
