"""The command runner port: run a shell task's command as a process and report how it ended (D23)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class CommandResult:
    """How a command ended: exit code, the (bounded) tails of its output, whether its timeout ended it."""

    exit_code: int
    """The exit status; `-N` when signal `N` ended the process."""
    stdout: str
    stderr: str
    timed_out: bool = False
    stdout_truncated: bool = False
    stderr_truncated: bool = False
    description: str = ""
    """How it ended, for messages: `exited with code 2`, `timed out after 1.5 s`, ..."""


class CommandRunner(ABC):
    """Runs shell commands as processes (adapter: `ProcessCommandRunner`, on `run_shell`).

    A command is shell text run through `/bin/sh -c`, as the reference ran it (D23). Each run is a
    process group of its own that is killed whole when the run ends, times out or is cancelled, and
    when the process that started it dies.
    """

    @abstractmethod
    async def run(self, command: str, *, timeout: float | None = None) -> CommandResult:
        """Run `command` through the shell and return how it ended; a non-zero exit is a result, not an error.

        A program that does not exist is a result too (exit code 127, the shell's message on stderr).
        `timeout` (seconds) ends the process group and sets `timed_out`. Raises `ValueError` for blank
        text and `OSError` when the shell cannot be started. A cancellation of the caller kills the
        process group and is re-raised.
        """


__all__ = ["CommandResult", "CommandRunner"]
