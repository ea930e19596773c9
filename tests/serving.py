"""The real server for tests: ``crimestats --db STORE serve`` in a child process on a free loopback port.

:func:`start_serve` runs the command (this Python, ``-m crimestats``, so the code under test is the one imported)
and waits until the app answers; :class:`Served` has its base URL and stops it. Browser tests open its pages.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

HOST = "127.0.0.1"
READY_SECONDS = 60.0


@dataclass
class Served:
    """A running ``crimestats serve``: its URL (``http://127.0.0.1:PORT``) and its process."""

    url: str
    process: subprocess.Popen[bytes]

    def close(self) -> None:
        """Stop the server (SIGINT, as Ctrl-C would) and wait for it; kill it if it does not stop."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def start_serve(db: Path, *options: str, log: Path) -> Served:
    """``crimestats --db DB serve --host 127.0.0.1 --port P [options]``, once it answers ``GET /``.

    Its output goes to ``log`` (shown in the error when it dies or does not answer in time)."""
    port = free_port()
    command = [sys.executable, "-m", "crimestats", "--db", str(db), "serve", "--host", HOST, "--port", str(port)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *options], stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT, env=os.environ
        )
    served = Served(f"http://{HOST}:{port}", process)
    try:
        _wait_until_ready(served, log)
    except BaseException:
        served.close()
        raise
    return served


def _wait_until_ready(served: Served, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise RuntimeError(f"crimestats serve exited with {served.process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(served.url + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"crimestats serve did not answer within {READY_SECONDS:.0f} s:\n{log.read_text()}")
