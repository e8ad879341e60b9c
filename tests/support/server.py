"""Run a real service process for end-to-end tests: a free port, start, wait for `/health`, SIGINT."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_server(command: list[str], directory: Path, env: dict[str, str], port: int) -> Iterator[str]:
    """Run `command` in `directory` until the block ends; yield its base URL once `/health` answers 200.

    Output goes to `service.log` in `directory`; the server is stopped with SIGINT and must exit cleanly.
    """
    log = directory / "service.log"
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=directory, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60  # generous: a busy CI machine may take long to import the stack
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()  # never leave a server behind, even when the test already failed
            process.wait()
            raise AssertionError(f"the service did not stop on SIGINT\n{log.read_text()[-3000:]}") from None
    assert process.returncode == 0, log.read_text()
