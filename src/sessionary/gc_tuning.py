"""Memory settings for the long batch loops: the collector's for the server's ingest and the CLI's imports
(and off during a server's batch); the server's C heap (one arena) and freed memory handed back to the
system after a server's batch."""

from __future__ import annotations

import ctypes
import gc
from functools import cache


def tune_gc() -> None:
    """Fewer cyclic-GC passes: an ingest batch allocates ~100k short-lived objects, and with Python's
    default thresholds (700, 10, 10) the collector took a quarter of the ingest time. The objects made at
    start-up are frozen out of collection; cycles are still collected, just less often."""
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


def pause_collector() -> None:
    """The cyclic collector off until every pause has its `resume_collector` (called in pairs from one
    thread: the server's event loop, around each batch a gate lets in). Nearly every object a batch makes
    lives until the batch ends, so each collection during it traversed them all and freed nothing: 27
    young collections per 140,000 events, 3 us an event (7 % of SQLite ingest's CPU). Objects freed by
    their reference counts go at once as ever; cycles wait for the end of the batch, after which the
    first allocations past the threshold collect them."""
    global _pauses
    _pauses += 1
    gc.disable()


def resume_collector() -> None:
    """The end of a `pause_collector`: the collector on again once no pause is left."""
    global _pauses
    _pauses -= 1
    if _pauses == 0:
        gc.enable()


_pauses = 0


def tune_allocator() -> None:
    """One C heap for the whole process (glibc's M_ARENA_MAX; nothing with another C library), called
    before the server starts its threads. glibc gives each new thread an arena of its own (up to 8 per
    core), and a batch worked on in one request thread after another can leave each arena holding its own
    batch-sized free memory. Measured (issue 16, bench/ingest.py, SQLite, 2 workers, a shared machine):
    peak RSS 372-388 MB against 384-397 MB without, the same throughput (Python threads hold the GIL, so
    they rarely allocate at once)."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_ARENA_MAX, 1)


def release_freed_memory() -> None:
    """Hand the memory the C allocator holds free back to the system (glibc's malloc_trim; nothing with
    another C library). A batch's large buffers freed amid live ones stay with the process otherwise, in
    each request thread's arena, so every server worker kept well over one batch's peak (issue 16: about
    15 MB a worker). Costs a fraction of a millisecond."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


_M_ARENA_MAX = -8  # glibc's malloc.h


@cache
def _libc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has mallopt and malloc_trim), else None."""
    try:
        libc = ctypes.CDLL(None)
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
