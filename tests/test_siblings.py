"""siblings.py: the workers of one server see each other's gate loads through a shared file, and a worker
that dies or leaves stops counting."""

from __future__ import annotations

import multiprocessing
import os
import signal
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest

from sessionary.siblings import Siblings


def _sibling(path: Path, load: int, ready: Event, leave: Event, clean: bool) -> None:
    siblings = Siblings(path)
    siblings.publish(load)
    ready.set()
    leave.wait(60)
    if clean:
        siblings.close()


def _start(path: Path, load: int, *, clean: bool = True) -> tuple[multiprocessing.process.BaseProcess, Event]:
    context = multiprocessing.get_context("spawn")
    ready, leave = context.Event(), context.Event()
    process = context.Process(target=_sibling, args=(path, load, ready, leave, clean))
    process.start()
    assert ready.wait(60), "the sibling did not start"
    return process, leave


def test_a_process_no_supervisor_spawned_has_no_siblings() -> None:
    assert Siblings.of_worker("ingest") is None


def test_a_worker_sees_the_least_load_of_its_live_siblings_and_not_its_own(tmp_path: Path) -> None:
    path = tmp_path / "gate.load"
    mine = Siblings(path)
    mine.publish(9)
    busy, leave_busy = _start(path, 5)
    idle, leave_idle = _start(path, 1)
    try:
        assert mine.least_other() == 1
        leave_idle.set()
        idle.join(60)
        assert mine.least_other() == 5
        leave_busy.set()
        busy.join(60)
        assert mine.least_other() is None
    finally:
        for process in (busy, idle):
            process.kill()
        mine.close()
    assert not path.exists()  # the last one out removes the file


def test_a_killed_sibling_stops_counting_and_its_replacement_takes_its_slot(tmp_path: Path) -> None:
    path = tmp_path / "gate.load"
    mine = Siblings(path)
    killed, _leave = _start(path, 0, clean=False)
    try:
        assert mine.least_other() == 0
        assert killed.pid is not None
        os.kill(killed.pid, signal.SIGKILL)
        killed.join(60)
        assert mine.least_other() is None  # its slot still holds its pid, but the pid is gone
        replacement, leave = _start(path, 4)
        assert mine.least_other() == 4
        slots = path.read_bytes()
        assert slots[16:24] == replacement.pid.to_bytes(8, "little")  # slot 1, the killed one's
        leave.set()
        replacement.join(60)
    finally:
        mine.close()


def test_a_load_file_of_another_user_is_not_trusted(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its loads could be written to make a worker send every client away: the worker does not balance."""
    path = tmp_path / "gate.load"
    path.write_bytes(b"")
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(path).st_uid + 1)
    with pytest.raises(ValueError, match="another user"):
        Siblings(path)
