"""Memory settings for the long batch loops: the collector's for the server's ingest and the CLI's imports,
and handing freed memory back to the system after a server's batch."""

from __future__ import annotations

import ctypes
import gc
from collections.abc import Callable
from functools import cache


def tune_gc() -> None:
    """Fewer cyclic-GC passes: an ingest batch allocates ~100k short-lived objects, and with Python's
    default thresholds (700, 10, 10) the collector took a quarter of the ingest time. The objects made at
    start-up are frozen out of collection; cycles are still collected, just less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def release_freed_memory() -> None:
    """Hand the memory the C allocator holds free back to the system (glibc's malloc_trim; nothing with
    another C library). A batch's large buffers freed amid live ones stay with the process otherwise, in
    each request thread's arena, so every server worker kept well over one batch's peak (issue 16: about
    15 MB a worker). Costs a fraction of a millisecond."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        function: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
    return function
