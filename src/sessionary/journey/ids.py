"""Ids for journey events and sessions (UUIDs) and shortIds, made without a system call.

Event and session ids are version-7 UUIDs (RFC 9562): a millisecond timestamp, then random bits. They go
into primary-key and unique indexes, where a random UUID lands on a random page and dirties it; ids that
grow with time append to the index instead, so a batch dirties few pages. `uuid.uuid4()` also read the OS
per id, which showed in profiles of the single-event path. None of these ids is a secret: the random
bits come from a Mersenne Twister seeded from the OS once per process (and again in a forked child).
"""

from __future__ import annotations

import os
import random
import time

_RANDOM = random.Random(os.urandom(32))
os.register_at_fork(after_in_child=lambda: _RANDOM.seed(os.urandom(32)))
_VERSION_7 = 0x7 << 76
_VARIANT = 0b10 << 62


def new_uuid() -> str:
    """A version-7 UUID as text: ids made later sort after (to the millisecond)."""
    millis = time.time_ns() // 1_000_000
    value = (millis << 80) | _VERSION_7 | (_RANDOM.getrandbits(12) << 64) | _VARIANT | _RANDOM.getrandbits(62)
    digits = f"{value:032x}"  # str(uuid.UUID(int=value)), without the UUID object (0.9 against 1.7 us)
    return f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"


def randbelow(bound: int) -> int:
    """A random integer in [0, bound)."""
    return _RANDOM.randrange(bound)
