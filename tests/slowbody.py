"""A hostile client over a raw socket: it sends its request's headers at once, then trickles the body."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass
class SlowBody:
    """A POST whose body arrives one byte every `every` seconds (from a thread) until the server answers,
    closes, or `stop()`; `status` is the status the server answered with (None while it has not)."""

    sock: socket.socket
    every: float
    status: int | None = None
    response: bytes = b""
    _stop: threading.Event = field(default_factory=threading.Event)
    _answered: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @classmethod
    def start(
        cls, url: str, path: str, *, headers: dict[str, str], length: int = 100_000, every: float = 0.5
    ) -> SlowBody:
        parts = urlsplit(url)
        sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", f"Content-Length: {length}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        slow = cls(sock=sock, every=every)
        slow._thread = threading.Thread(target=slow._trickle, daemon=True)
        slow._thread.start()
        return slow

    def _trickle(self) -> None:
        self.sock.settimeout(self.every)
        while not self._stop.is_set():
            try:
                self.sock.sendall(b" ")
            except OSError:
                self._read_answer()
                return
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                data = b""
            self._answer(data)
            return

    def _read_answer(self) -> None:
        try:
            self.sock.settimeout(5)
            self._answer(self.sock.recv(65536))
        except OSError:
            self._answer(b"")

    def _answer(self, data: bytes) -> None:
        self.sock.settimeout(2)
        while data and b"\r\n\r\n" in data and not data.endswith(b"}"):  # the body may come apart
            try:
                more = self.sock.recv(65536)
            except OSError:
                break
            if not more:
                break
            data += more
        self.response = data
        if data.startswith(b"HTTP/1.1 "):
            self.status = int(data[9:12])
        self._answered.set()

    def wait(self, timeout: float) -> int | None:
        """The status once the server answers (None if it has not within `timeout` seconds)."""
        self._answered.wait(timeout)
        return self.status

    @property
    def answered(self) -> bool:
        return self._answered.is_set()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()


def open_bodies(url: str, path: str, *, headers: dict[str, str], count: int) -> list[socket.socket]:
    """`count` connections that sent their headers and the first byte of a body, then nothing more."""
    parts = urlsplit(url)
    socks = []
    for _ in range(count):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
        lines = [f"POST {path} HTTP/1.1", f"Host: {parts.netloc}", "Content-Length: 1000"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n{").encode())
        socks.append(sock)
    time.sleep(0.5)  # let the server start on each (no assertion depends on it)
    return socks
