"""How busy a server worker's siblings are: the gates' loads of the workers of one `serve --workers N`.

The workers share one listening socket, and a keep-alive connection stays with the worker that accepted it,
so a few clients' connections can all sit on one worker, queued at its gate while another worker idles (issue
16: one worker took 7 times the CPU of the other in some bench runs, at two thirds of the throughput; two
producers on two workers meet it half the time). Each worker publishes its gate's load (batches held and
waiting) in a small file shared by the siblings, and a gate that has to queue a request while a sibling
idles tells that client to reconnect (gate.py); its new connection may be accepted by that sibling.

Why a file, written by hand: uvicorn's workers are spawned, not forked, and share nothing else;
`multiprocessing.shared_memory` would need a name agreed in the same way and a resource tracker. The file
is `sessionary-<supervisor pid>-<gate>.load` in the temporary directory: 64 slots of (pid, load), each
claimed by a worker with a POSIX byte lock (released by the kernel if the worker dies, so its replacement
takes the slot back). A process that was not spawned by a supervisor (one worker, tests) has no siblings.
"""

from __future__ import annotations

import contextlib
import fcntl
import mmap
import multiprocessing
import os
import struct
import tempfile
from pathlib import Path

SLOTS = 64  # workers of one server at most; a 65th has no slot and does not balance
_SLOT = struct.Struct("<qq")  # pid (0: free), load
_ALL = struct.Struct("<" + "qq" * SLOTS)


class Siblings:
    """This worker's slot in the shared load file, and a view of the others'."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            if os.fstat(fd).st_uid != os.geteuid():  # another user's file: its loads could be lies
                raise ValueError(f"{path} belongs to another user")
            if os.fstat(fd).st_size < _ALL.size:
                os.ftruncate(fd, _ALL.size)
            self._slot = _claim(fd)
            self._map = mmap.mmap(fd, _ALL.size)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._pid, self.path = fd, os.getpid(), path
        self.publish(0)

    @classmethod
    def of_worker(cls, gate: str) -> Siblings | None:
        """The siblings of this process if a supervisor spawned it (`serve --workers N`), else None; None
        too when the file cannot be shared (then the worker just does not balance)."""
        parent = multiprocessing.parent_process()
        if parent is None or parent.pid is None:
            return None
        try:
            return cls(Path(tempfile.gettempdir()) / f"sessionary-{parent.pid}-{gate}.load")
        except (OSError, ValueError):
            return None

    def publish(self, load: int) -> None:
        """This worker's load, for the siblings to read."""
        _SLOT.pack_into(self._map, self._slot * _SLOT.size, self._pid, load)

    def least_other(self) -> int | None:
        """The least load of the other live workers; None when there are none."""
        values = _ALL.unpack_from(self._map)
        loads = [
            (values[2 * slot + 1], values[2 * slot])
            for slot in range(SLOTS)
            if slot != self._slot and values[2 * slot]
        ]
        for load, pid in sorted(loads):
            if _alive(pid):  # a worker killed outright leaves its slot written until its replacement comes
                return load
        return None

    def close(self) -> None:
        """Leave the slot (on a clean shutdown), and the file if no sibling is left."""
        _SLOT.pack_into(self._map, self._slot * _SLOT.size, 0, 0)
        values = _ALL.unpack_from(self._map)
        alone = not any(values[2 * slot] for slot in range(SLOTS))
        self._map.close()
        os.close(self._fd)
        if alone:
            with contextlib.suppress(OSError):
                self.path.unlink()


def close_all(*found: Siblings | None) -> None:
    """Close each of `found` that is not None (`Siblings.of_worker` gives None to a lone process)."""
    for siblings in found:
        if siblings is not None:
            siblings.close()


def _claim(fd: int) -> int:
    for slot in range(SLOTS):
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, slot)
        except OSError:
            continue
        return slot
    raise ValueError(f"all {SLOTS} slots are taken")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
