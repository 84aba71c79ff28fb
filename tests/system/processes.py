"""`sessionary` run as real operating-system processes: the CLI, and servers that can be stopped or killed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil

from tests.helpers import free_port, wait_until_up

SESSIONARY = str(Path(sys.executable).with_name("sessionary"))
STARTUP_TIMEOUT = 60.0


def cli_env(database_url: str) -> dict[str, str]:
    """The environment of a `sessionary` command working on `database_url`."""
    return {**os.environ, "SESSIONARY_DATABASE_URL": database_url, "SESSIONARY_LOG_LEVEL": "warning"}


def create_key(database_url: str, org: str, *scopes: str) -> str:
    """A new API key made by `sessionary keys create` (which prints the key as its last line)."""
    args = [SESSIONARY, "keys", "create", "--org", org]
    for scope in scopes:
        args += ["--scope", scope]
    done = subprocess.run(
        args, env=cli_env(database_url), capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    key = done.stdout.strip().splitlines()[-1]
    assert key.startswith("sk_"), done.stdout
    return key


@dataclass
class ServerProcess:
    """One `sessionary serve` process (with its uvicorn workers, if any) on a loopback port."""

    process: subprocess.Popen[bytes]
    url: str
    log: Path

    @classmethod
    def start(
        cls, database_url: str, log: Path, *, workers: int = 1, env: dict[str, str] | None = None
    ) -> ServerProcess:
        """The server, with `env` added to the environment of `sessionary` (settings of its own)."""
        port = free_port()
        args = [SESSIONARY, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        environment = {**cli_env(database_url), **(env or {})}
        with log.open("ab") as out:
            process = subprocess.Popen(
                args, env=environment, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        server = cls(process=process, url=f"http://127.0.0.1:{port}", log=log)
        try:
            server.wait_until_up()
        except BaseException:
            server.kill()
            raise
        return server

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def wait_until_up(self) -> None:
        try:
            wait_until_up(self.url, STARTUP_TIMEOUT, alive=lambda: self.alive)
        except (RuntimeError, TimeoutError) as exc:
            raise type(exc)(f"{exc}; its output:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        """The process ids of the uvicorn worker processes (empty when the server is one process)."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        return [child.pid for child in children if "resource_tracker" not in " ".join(child.cmdline())]

    def kill(self) -> None:
        """SIGKILL: the server gets no chance to finish anything (its workers too, if any)."""
        if not self.alive:
            return
        try:
            children = psutil.Process(self.process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        self.process.send_signal(signal.SIGKILL)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=30)
        psutil.wait_procs(children, timeout=30)

    def stop(self) -> None:
        """SIGTERM and wait for a clean shutdown (SIGKILL if it takes too long)."""
        if not self.alive:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.kill()


@contextmanager
def serving(database_url: str, log: Path, *, workers: int = 1) -> Iterator[ServerProcess]:
    """A server process for the duration of the block; stopped (if still alive) afterwards."""
    server = ServerProcess.start(database_url, log, workers=workers)
    try:
        yield server
    finally:
        server.stop()
