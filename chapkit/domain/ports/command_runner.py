"""The command runner port: run one argument list as a process and report how it ended (D23)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
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
    """Runs commands as processes (adapter: `ProcessCommandRunner`, on `run_process`).

    Commands are argument lists, never shell text (D23). Each run is a process group of its own that is
    killed whole when the run ends, times out or is cancelled.
    """

    @abstractmethod
    async def run(self, args: Sequence[str], *, timeout: float | None = None) -> CommandResult:
        """Run `args` (program first) and return how it ended; a non-zero exit is a result, not an error.

        `timeout` (seconds) ends the process group and sets `timed_out`. Raises `OSError` when the
        program cannot be started. A cancellation of the caller kills the process group and is re-raised.
        """


__all__ = ["CommandResult", "CommandRunner"]
