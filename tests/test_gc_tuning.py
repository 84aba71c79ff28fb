"""gc_tuning: the collector's settings for batch loops, and freed memory handed back after a batch."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

# Fragments the C heap as a batch does: many malloc'd buffers (100 KB each, under glibc's mmap threshold),
# every tenth kept alive, the rest freed. Prints the resident memory (MiB) before and after the release.
PROBE = """
import sys
from sessionary.gc_tuning import release_freed_memory

def rss():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS")) // 1024

buffers = [bytearray(100_000) for _ in range(1500)]
kept = buffers[::10]
del buffers
before = rss()
release_freed_memory()
print(before, rss())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="malloc_trim is glibc's")
def test_release_freed_memory_hands_the_freed_heap_back_to_the_system() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    before, after = (int(value) for value in done.stdout.split())
    assert before - after >= 50  # of the ~130 MiB freed amid the kept buffers


# Threads allocating at once, then glibc's own report of its heaps (malloc_info: one <heap nr=...> per arena).
ARENAS = """
import ctypes, os, sys, tempfile, threading
from sessionary.gc_tuning import tune_allocator

if sys.argv[1] == "tuned":
    tune_allocator()
start = threading.Barrier(4)

def work():
    start.wait()
    buffers = [bytearray(20_000) for _ in range(200)]
    del buffers

threads = [threading.Thread(target=work) for _ in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = os.path.join(tempfile.mkdtemp(), "malloc.xml")
report = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(report))
libc.fclose(ctypes.c_void_p(report))
print(open(path).read().count("<heap nr="))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="M_ARENA_MAX is glibc's")
def test_tune_allocator_keeps_every_thread_on_one_heap() -> None:
    def heaps(mode: str) -> int:
        command = [sys.executable, "-c", ARENAS, mode]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        return int(done.stdout)

    assert heaps("default") > 1  # glibc's own: an arena per thread
    assert heaps("tuned") == 1


def test_the_collector_stays_off_until_every_pause_is_resumed_and_is_on_after() -> None:
    from sessionary.gc_tuning import pause_collector, resume_collector

    assert gc.isenabled()
    pause_collector()
    pause_collector()  # a second batch at once (a gate of two, or two gates)
    first_off = not gc.isenabled()
    resume_collector()
    still_off = not gc.isenabled()
    resume_collector()
    assert first_off
    assert still_off
    assert gc.isenabled()
