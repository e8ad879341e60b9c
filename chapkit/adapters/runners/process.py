"""Run one command in a process group of its own, with bounded output, a timeout and cancellation (D23).

`run_shell(command, ...)` runs shell text through `/bin/sh -c`, as the reference did: pipes,
redirects and `&&` work. `run_process(args, ...)` runs an argument list as it is (no shell interprets
the arguments). Both start a new session (`start_new_session=True`), so the command and everything it
starts share one process group that can be signalled as a whole. They capture stdout and stderr,
keeping the last `output_limit` bytes of each and counting what was dropped, and return a
`ProcessResult`. They never raise for a non-zero exit: callers decide what a failure means. A program
that does not exist is a result too (exit code 127 and the shell's message on stderr, as in a shell).

What is left of the group is killed in every case: after the command exits (an orphaned grandchild must
not outlive the run), on timeout (SIGTERM to the group, SIGKILL after `kill_grace` seconds; reported as
`timed_out`), and when the awaiting task is cancelled (the same sequence, then `CancelledError` is
re-raised). Cleanup runs to its end even if the task is cancelled again meanwhile. POSIX only.

The whole group also dies with the process that started it, even when that process is killed outright
(SIGKILL, the OOM killer) and no cleanup of its own can run, so a worker killed mid-job leaves no model
script running on (D22). Two mechanisms make sure of it. On Linux the command's first process gets
SIGKILL from the kernel when its parent dies (the parent-death signal). And every run starts with a
small guard in its group: a shell blocked reading a pipe whose only writer is the starting process;
when that process ends, however it ends, the read returns end-of-file and the guard kills its whole
group (`kill -s KILL 0`), which covers the processes a shell command started, as the death signal is
not inherited. A process that leaves the group (`setsid`) escapes both, as it escapes the group kill.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from chapkit.application.shielding import complete_before_cancel

DEFAULT_OUTPUT_LIMIT = 64 * 1024
"""Bytes kept of each of stdout and stderr: the end of the output, where errors are reported."""

DEFAULT_KILL_GRACE = 5.0
"""Seconds between SIGTERM and SIGKILL when a process group is stopped."""

SHELL = "/bin/sh"
"""The shell commands run through (`/bin/sh -c`, as the reference's `create_subprocess_shell`)."""

# Started first in every run (argv: the command). Its stdin is the guard pipe: it moves the pipe to fd 3
# and gives itself /dev/null, starts the guard as a grandchild in the same process group (double fork:
# the command never sees an unknown child; exec: the guard's command line does not repeat the
# command's), then replaces itself with the command. The guard reads fd 3 until end-of-file, which
# comes when the starting process closes the pipe or dies, and then kills its whole process group.
_GUARD_SCRIPT = (
    "exec 3<&0 </dev/null; "
    f'( exec {SHELL} -c "read -r _; kill -s KILL 0" chapkit-guard <&3 >/dev/null 2>&1 & ); '
    'exec 3<&-; exec "$@"'
)
_GUARD_NAME = "chapkit-run"


@dataclass(frozen=True, kw_only=True)
class ProcessResult:
    """What a finished (or killed) command left: exit code, output tails, duration, whether it timed out."""

    args: tuple[str, ...]
    """The command as run: the argument list, or `("/bin/sh", "-c", text)` for `run_shell`."""
    exit_code: int
    """The command's exit status; `-N` when it was ended by signal `N` (as `asyncio` reports it)."""
    stdout: str
    """The last `output_limit` bytes of stdout, decoded as UTF-8 (undecodable bytes replaced)."""
    stderr: str
    """The last `output_limit` bytes of stderr, decoded like `stdout`."""
    stdout_dropped_bytes: int
    """Bytes of stdout dropped from the start to keep the limit."""
    stderr_dropped_bytes: int
    """Bytes of stderr dropped from the start to keep the limit."""
    duration_seconds: float
    timed_out: bool
    timeout: float | None

    @property
    def stdout_truncated(self) -> bool:
        """True when the start of stdout was dropped."""
        return self.stdout_dropped_bytes > 0

    @property
    def stderr_truncated(self) -> bool:
        """True when the start of stderr was dropped."""
        return self.stderr_dropped_bytes > 0

    @property
    def succeeded(self) -> bool:
        """True when the command exited with status 0 within its timeout."""
        return self.exit_code == 0 and not self.timed_out

    def describe(self) -> str:
        """How the command ended, for messages: `exited with code 2`, `timed out after 1.5 s`, ..."""
        if self.timed_out:
            return f"timed out after {self.timeout:g} s"
        if self.exit_code < 0:
            try:
                name = signal.Signals(-self.exit_code).name
            except ValueError:
                name = str(-self.exit_code)
            return f"was killed by signal {name}"
        return f"exited with code {self.exit_code}"


class _Tail:
    """The last `limit` bytes written to it, and how many bytes it dropped before them."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.data = bytearray()
        self.dropped = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        excess = len(self.data) - self.limit
        if excess > 0:
            del self.data[:excess]
            self.dropped += excess

    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")


class _Capture(asyncio.SubprocessProtocol):
    """Keeps the tails of stdout and stderr and tells when the command exited and when all is closed.

    `exited` resolves when the command itself has exited, even while processes it started still hold
    its pipes (asyncio's `Process.wait()` waits for those pipes too); `closed` once it has exited and
    every pipe is closed.
    """

    def __init__(self, output_limit: int) -> None:
        loop = asyncio.get_running_loop()
        self.output = {1: _Tail(output_limit), 2: _Tail(output_limit)}
        self.exited: asyncio.Future[None] = loop.create_future()
        self.closed: asyncio.Future[None] = loop.create_future()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        self.output[fd].add(data.encode() if isinstance(data, str) else data)

    def process_exited(self) -> None:
        if not self.exited.done():
            self.exited.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def run_shell(
    command: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    kill_grace: float = DEFAULT_KILL_GRACE,
) -> ProcessResult:
    """Run shell text through `/bin/sh -c` in its own process group and return how it ended.

    Everything else is as `run_process`: `args` of the result is `("/bin/sh", "-c", command)`. Raises
    `ValueError` for a command that is not a string or is blank.
    """
    if not isinstance(command, str) or not command.strip():
        raise ValueError("command must be a non-blank string of shell text")
    return await run_process(
        [SHELL, "-c", command], cwd=cwd, env=env, timeout=timeout, output_limit=output_limit, kill_grace=kill_grace
    )


async def run_process(
    args: Sequence[str],
    *,
    cwd: str | os.PathLike[str] | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    kill_grace: float = DEFAULT_KILL_GRACE,
) -> ProcessResult:
    """Run `args` (program first, each argument passed as it is) in its own process group.

    `cwd` is the working directory; `env` replaces the environment when given (inherited otherwise);
    stdin is empty. `timeout` (seconds, `None` for none) kills the group and sets `timed_out`. A program
    that cannot be found or run ends with exit code 127 or 126 and a message on stderr. Raises
    `ValueError` for an empty or non-string argument list and `OSError` when not even the shell that
    starts the run can be started; re-raises `CancelledError` after killing the group.
    """
    argv = tuple(args)
    if not argv or not all(isinstance(arg, str) for arg in argv):
        raise ValueError("args must be a non-empty sequence of strings (the program first)")
    if timeout is not None and not timeout > 0:
        raise ValueError("timeout must be a positive number of seconds or None")
    if output_limit < 0 or kill_grace < 0:
        raise ValueError("output_limit and kill_grace must not be negative")

    started = time.monotonic()
    transport, capture, guard = await _spawn(argv, cwd, env, output_limit, kill_grace)
    try:
        timed_out = False
        try:
            async with asyncio.timeout(timeout):
                await asyncio.wait({capture.exited})
        except TimeoutError:
            timed_out = True
        await _stop_group(transport, capture, kill_grace, gently=timed_out)
    except BaseException:
        await complete_before_cancel(_stop_group(transport, capture, kill_grace, gently=True))
        raise
    finally:
        transport.close()
        os.close(guard)
    exit_code = transport.get_returncode()
    assert exit_code is not None
    stdout, stderr = capture.output[1], capture.output[2]
    return ProcessResult(
        args=argv,
        exit_code=exit_code,
        stdout=stdout.text(),
        stderr=stderr.text(),
        stdout_dropped_bytes=stdout.dropped,
        stderr_dropped_bytes=stderr.dropped,
        duration_seconds=time.monotonic() - started,
        timed_out=timed_out,
        timeout=timeout,
    )


_Started = tuple[asyncio.SubprocessTransport, _Capture]


async def _spawn(
    argv: tuple[str, ...],
    cwd: str | os.PathLike[str] | None,
    env: Mapping[str, str] | None,
    output_limit: int,
    grace: float,
) -> tuple[asyncio.SubprocessTransport, _Capture, int]:
    """Start the run; return its transport, its capture and the write end of its guard pipe.

    Only this process holds the write end (it is not inherited across exec); closing it, or dying,
    makes the guard kill the group. A cancellation that arrives while the run starts kills it once it
    exists.
    """
    loop = asyncio.get_running_loop()
    guard_read, guard_write = os.pipe()
    try:
        spawning: asyncio.Future[_Started] = asyncio.ensure_future(
            loop.subprocess_exec(
                lambda: _Capture(output_limit),
                SHELL,
                "-c",
                _GUARD_SCRIPT,
                _GUARD_NAME,
                *argv,
                stdin=guard_read,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=cwd,
                env=dict(env) if env is not None else None,
                start_new_session=True,
                preexec_fn=_dying_with_parent(),
            )
        )
        try:
            transport, capture = await asyncio.shield(spawning)
        except asyncio.CancelledError:
            await complete_before_cancel(_kill_started(spawning, grace))
            raise
    except BaseException:
        os.close(guard_write)
        raise
    finally:
        os.close(guard_read)
    return transport, capture, guard_write


_PR_SET_PDEATHSIG = 1


def _dying_with_parent() -> Callable[[], None] | None:
    """A pre-exec step making the child die by SIGKILL when this process dies (Linux; None elsewhere).

    The death signal fires when the forking thread ends, so it is asked for from the thread that runs the
    event loop (asyncio forks there). If this process died between fork and the request, the child is
    already orphaned: it kills itself.
    """
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()

    def die_with_parent() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)

    return die_with_parent


async def _kill_started(spawning: asyncio.Future[_Started], grace: float) -> None:
    """Kill the group of a process whose start was cancelled, once the start has finished."""
    try:
        transport, capture = await spawning
    except Exception:  # it did not start: nothing to kill
        return
    try:
        await _stop_group(transport, capture, grace, gently=False)
    finally:
        transport.close()


async def _stop_group(transport: asyncio.SubprocessTransport, capture: _Capture, grace: float, *, gently: bool) -> None:
    """End every process of the command's group; return once the command has exited.

    `gently`: SIGTERM first and SIGKILL after `grace` seconds (timeout, cancellation). Otherwise SIGKILL
    at once: the command has exited and what it left in its group must not outlive the run.
    """
    pid = transport.get_pid()
    if gently:
        _signal_group(pid, signal.SIGTERM)
        # Exited with every pipe closed: the processes that inherited the pipes have ended too.
        await asyncio.wait({capture.closed}, timeout=grace)
    _signal_group(pid, signal.SIGKILL)
    await asyncio.wait({capture.exited})
    # Bounded: a process that left the group (setsid) may keep the pipes open; closing stops reading.
    await asyncio.wait({capture.closed}, timeout=grace)


def _signal_group(pgid: int, signum: signal.Signals) -> None:
    """Send `signum` to the process group `pgid` (the command's pid: it leads its group, D23).

    Linux does not reuse a pid while a process group of that id has members, so a signal sent after
    the command exited reaches only what it left behind, or no one.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


__all__ = ["DEFAULT_KILL_GRACE", "DEFAULT_OUTPUT_LIMIT", "SHELL", "ProcessResult", "run_process", "run_shell"]
