"""HTTP Range requests (RFC 9110 §14) over one resource of a known size: one byte range or the whole.

`bytes=a-b`, `bytes=a-` and `bytes=-n` are honoured; a range starting past the end is unsatisfiable (416).
Anything else — another unit, a malformed or reversed spec, several ranges — is answered with the whole
resource (200), which RFC 9110 allows a server to do with a Range it does not support. Positions may have
any number of digits (RFC 9110 sets no bound): one longer than any size is read as past the end, never
converted whole (Python refuses to convert numbers of more than 4,300 digits).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"\s*(\d*)\s*-\s*(\d*)\s*", re.ASCII)
# Beyond any resource's size (sizes are 64-bit); a position with more digits is read as this.
_DIGITS = 18
_BEYOND = 10**_DIGITS


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
    first, last = (_digits(group) for group in match.groups())
    if not first:  # suffix: the last n bytes
        count = _position(last)
        if count == 0 or size == 0:
            raise Unsatisfiable
        return ByteRange(max(0, size - count), size - 1)
    if last and (len(last), last) < (len(first), first):
        return None  # invalid (last before first): ignored, the whole is sent
    start = _position(first)
    if start >= size:
        raise Unsatisfiable
    end = min(_position(last), size - 1) if last else size - 1
    return ByteRange(start, end)


def _digits(group: str) -> str:
    """The digits without leading zeros ("0" for zero, "" for none)."""
    return (group.lstrip("0") or "0") if group else ""


def _position(digits: str) -> int:
    return int(digits) if len(digits) <= _DIGITS else _BEYOND
