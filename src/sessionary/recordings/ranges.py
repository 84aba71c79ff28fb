"""HTTP Range requests (RFC 9110 §14) over one resource of a known size: one byte range or the whole.

`bytes=a-b`, `bytes=a-` and `bytes=-n` are honoured; a range starting past the end is unsatisfiable (416).
Anything else — another unit, a malformed or reversed spec, several ranges — is answered with the whole
resource (200), which RFC 9110 allows a server to do with a Range it does not support.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII)


class Unsatisfiable(Exception):
    """The range lies wholly outside the resource."""


@dataclass(frozen=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The one range `header` asks for within `size` bytes; None for the whole; Unsatisfiable (416)."""
    if not header:
        return None
    unit, equals, spec = header.partition("=")
    if not equals or unit.strip().lower() != "bytes" or "," in spec:
        return None
    match = _SPEC.fullmatch(spec)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.groups()
    if not first:  # suffix: the last n bytes
        count = int(last)
        if count == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    if last and int(last) < start:
        return None  # invalid: ignored, the whole is sent
    if start >= size:
        raise Unsatisfiable
    end = min(int(last), size - 1) if last else size - 1
    return ByteRange(start, end)
