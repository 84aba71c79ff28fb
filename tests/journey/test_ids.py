"""Journey ids: version-7 UUIDs that sort by creation time, and shortId digits in range."""

from __future__ import annotations

import time
import uuid

from sessionary.journey import ids


def test_new_uuids_are_canonical_version_7_text_distinct_and_later_ones_sort_after() -> None:
    first = [ids.new_uuid() for _ in range(1000)]
    time.sleep(0.002)
    later = ids.new_uuid()
    parsed = [uuid.UUID(value) for value in [*first, later]]
    assert [str(u) for u in parsed] == [*first, later]  # the canonical text: lowercase, dashed 8-4-4-4-12
    assert {u.version for u in parsed} == {7}
    assert {u.variant for u in parsed} == {uuid.RFC_4122}
    assert len(set(first)) == len(first)
    assert later > max(first)
    millis = int(later.replace("-", "")[:12], 16)
    assert abs(millis - time.time() * 1000) < 60_000  # the leading 48 bits are the Unix time in ms


def test_randbelow_stays_in_range_and_varies() -> None:
    values = [ids.randbelow(9000) for _ in range(2000)]
    assert min(values) >= 0
    assert max(values) < 9000
    assert len(set(values)) > 1000
