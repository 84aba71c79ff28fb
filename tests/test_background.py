"""The background threads' loop (background.PollingThread): a failing pass is logged and tried again, work
is called again at once while there is work, and stop ends the thread."""

from __future__ import annotations

import logging
import threading

import pytest

from sessionary.background import PollingThread


class Scripted(PollingThread):
    """Answers `work()` from a script: an exception is raised, a bool returned; then waits for stop."""

    def __init__(self, script: list[object]) -> None:
        super().__init__(name="sessionary-test-thread", poll_seconds=0.01)
        self.script, self.calls, self.done = list(script), 0, threading.Event()

    def work(self) -> bool:
        self.calls += 1
        if not self.script:
            self.done.set()
            return False
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        assert isinstance(step, bool)
        return step


def test_a_failing_pass_is_logged_and_the_thread_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    thread = Scripted([RuntimeError("database down"), True, True, False])
    with caplog.at_level(logging.ERROR, logger="sessionary.background"):
        thread.start()
        assert thread.done.wait(10)
        thread.stop()
    assert thread.calls == 5  # the failure, two passes with work, one without, then the empty script
    assert "sessionary-test-thread: pass failed" in caplog.text
    assert "database down" in caplog.text


def test_stop_ends_the_thread_and_rest_returns_at_once_when_stopping() -> None:
    thread = Scripted([])
    thread.start()
    assert thread.done.wait(10)
    thread.stop(timeout=10)
    assert thread.stopping()
    assert not thread._thread.is_alive()
    thread.rest(3600)  # returns at once: the thread is stopping
