"""Helpers for runner tests: a process family to kill, readiness reports, and checks that processes ended.

Readiness is reported, never waited for with sleeps: the grandchild tells its parent through a pipe,
the parent then writes both pids to a file (atomically) or sends them over TCP to the test.
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

if sys.platform != "linux":  # pragma: no cover - the checks read /proc and use pidfds
    pytest.skip("process-group tests need Linux (/proc, pidfd_open)", allow_module_level=True)

WAIT = 60.0
"""Generous bound for a process to report or to end: an upper limit, never a synchronisation sleep."""

FAMILY_SCRIPT = '''\
"""Start a grandchild, report both pids once it is ready, then exit or wait (argv: mode marker report)."""
import os, signal, socket, subprocess, sys, time

mode, marker, report = sys.argv[1:4]
stubborn = mode.endswith("stubborn")
if stubborn:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
GRANDCHILD = (
    "import os, signal, sys, time\\n"
    "if sys.argv[2] == 'stubborn': signal.signal(signal.SIGTERM, signal.SIG_IGN)\\n"
    "os.write(int(sys.argv[3]), b'ready')\\n"
    "time.sleep(600)\\n"
)
read_end, write_end = os.pipe()
grandchild = subprocess.Popen(
    [sys.executable, "-c", GRANDCHILD, marker, "stubborn" if stubborn else "plain", str(write_end)],
    pass_fds=[write_end],
)
os.close(write_end)
assert os.read(read_end, 5) == b"ready"
line = f"{os.getpid()} {grandchild.pid}\\n"
if report.startswith("tcp:"):
    with socket.create_connection(("127.0.0.1", int(report[4:]))) as connection:
        connection.sendall(line.encode())
else:
    with open(report + ".tmp", "w") as stream:
        stream.write(line)
    os.replace(report + ".tmp", report)
if mode.startswith("exit"):
    sys.exit(0)
time.sleep(600)
'''


def write_family_script(directory: Path) -> Path:
    path = directory / "family.py"
    path.write_text(FAMILY_SCRIPT)
    return path


def new_marker() -> str:
    """A unique command-line argument that identifies the processes of one test."""
    return f"chapkit-test-{uuid.uuid4().hex}"


def read_pids(report: Path) -> tuple[int, int] | None:
    """The (child, grandchild) pids a family wrote, or None when it was killed before it could."""
    if not report.exists():
        return None
    child, grandchild = report.read_text().split()
    return int(child), int(grandchild)


def entries(directory: Path) -> list[str]:
    """Names in `directory`, sorted."""
    return sorted(path.name for path in directory.iterdir())


def same_path(a: str | Path, b: str | Path) -> bool:
    return Path(a).resolve() == Path(b).resolve()


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def has_ended(pid: int, marker: str, bound: float = WAIT) -> bool:
    """True once the process `pid` (started with `marker` in its command line) is no longer running.

    A zombie counts as ended (it has an empty command line), and so does a pid now used by another
    process. Waits on a pidfd for at most `bound` seconds: a killed process may still be on its way out.
    """
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        if marker.encode() not in _cmdline(pid):
            return True
        readable, _, _ = select.select([fd], [], [], bound)
        return bool(readable)
    finally:
        os.close(fd)


def processes_with(marker: str) -> list[int]:
    """Pids of running processes whose command line contains `marker`."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and marker.encode() in _cmdline(int(entry.name)):
            pids.append(int(entry.name))
    return pids


class PidReports:
    """A TCP listener on loopback that families report their pids to (`tcp:<port>`)."""

    def __init__(self) -> None:
        self._queue: asyncio.Queue[tuple[int, int]] = asyncio.Queue()
        self.address = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        writer.close()
        await writer.wait_closed()
        if line:
            child, grandchild = line.split()
            await self._queue.put((int(child), int(grandchild)))

    async def next(self) -> tuple[int, int]:
        async with asyncio.timeout(WAIT):
            return await self._queue.get()


@asynccontextmanager
async def pid_reports() -> AsyncIterator[PidReports]:
    reports = PidReports()
    server = await asyncio.start_server(reports._handle, "127.0.0.1", 0)
    reports.address = f"tcp:{server.sockets[0].getsockname()[1]}"
    try:
        yield reports
    finally:
        server.close()
        await server.wait_closed()
