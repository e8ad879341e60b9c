"""`ProcessCommandRunner`: the command runner port on `run_shell` (shell tasks, D23).

A shell task's command is its owner's own text, run through `/bin/sh -c` as the reference ran it, in a
process group of its own that is killed whole when the command exits, times out or is cancelled, and
when the process running it dies.
"""

from __future__ import annotations

from chapkit.adapters.runners.process import DEFAULT_KILL_GRACE, DEFAULT_OUTPUT_LIMIT, run_shell
from chapkit.domain.ports.command_runner import CommandResult, CommandRunner


class ProcessCommandRunner(CommandRunner):
    """Runs commands with `run_shell`: bounded output tails, timeout and cancellation kill the group."""

    def __init__(self, *, output_limit: int = DEFAULT_OUTPUT_LIMIT, kill_grace: float = DEFAULT_KILL_GRACE) -> None:
        """Keep the last `output_limit` bytes of stdout and stderr; SIGKILL `kill_grace` s after SIGTERM."""
        self.output_limit = output_limit
        self.kill_grace = kill_grace

    async def run(self, command: str, *, timeout: float | None = None) -> CommandResult:
        """Run `command` through `/bin/sh -c` in a process group of its own and return how it ended."""
        result = await run_shell(command, timeout=timeout, output_limit=self.output_limit, kill_grace=self.kill_grace)
        return CommandResult(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            timed_out=result.timed_out,
            stdout_truncated=result.stdout_truncated,
            stderr_truncated=result.stderr_truncated,
            description=result.describe(),
        )


__all__ = ["ProcessCommandRunner"]
