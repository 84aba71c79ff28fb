"""The background threads of a server process (the analysis worker, the recording fetch worker, the OTLP
pending-span sweeper): one daemon thread each that calls its `work()` until asked to stop, at once again
while there was work, after `poll_seconds` when there was none. A failing pass (a database that is down, a
full disk) is logged and tried again after the poll: a background thread never dies of it."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger(__name__)


class PollingThread:
    """Subclasses implement `work()`: True when it did work (call again at once), False to wait a poll."""

    def __init__(self, *, name: str, poll_seconds: float) -> None:
        self.poll_seconds = poll_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def work(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to stop after the piece of work it is on, and wait for it (at most `timeout`)."""
        self._stop.set()
        if self._thread.ident is not None:  # started
            self._thread.join(timeout)

    def stopping(self) -> bool:
        return self._stop.is_set()

    def rest(self, seconds: float) -> None:
        """Wait `seconds`, or less if asked to stop."""
        self._stop.wait(seconds)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.work()
            except Exception:
                log.exception("%s: pass failed; trying again in %gs", self._thread.name, self.poll_seconds)
                worked = False
            if not worked:
                self._stop.wait(self.poll_seconds)
