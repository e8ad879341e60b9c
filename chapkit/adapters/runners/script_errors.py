"""How `ShellModelRunner` reports a script that failed, could not start, or wrote no output.

`ScriptFailedError` is the domain's `ModelRunFailedError` (what a diagnostic workspace artifact
stores) and keeps the `ProcessResult`. Its message is worded as chapkit 2.4.1 words a failed model
script, so that the script's own error shows in the job's `error`:

    train script failed with exit code 3; command: <the command as run>; stderr tail: <last lines>

The stderr tail is the last `STDERR_TAIL_LINES` non-blank lines joined by ` | `, after R's trailing
noise is dropped (`Execution halted`, and a deferred `In addition: Warning message(s):` block printed
after the error), so an R `stop("boom")` shows `Error: boom`, not only `Execution halted`. A script
ended from outside (a timeout, a signal such as the OOM killer's SIGKILL) says nothing itself: its
stderr gets a last line `chapkit: the script timed out after 2 s; its process group was killed`, as
chapkit 2.4.1 put a timeout into stderr, so the reason shows wherever the stderr tail is quoted.
"""

from __future__ import annotations

from typing import Any, Literal

from chapkit.adapters.runners.process import ProcessResult
from chapkit.domain.ml_artifacts import OUTPUT_TAIL_CHARS, ModelRunFailedError

Phase = Literal["train", "predict"]

STDERR_TAIL_LINES = 10
"""Lines of the end of stderr a failure's message quotes."""

STDERR_IN_ERROR_CHARS = 4000
"""At most this much of the stderr tail goes into a message (its end is kept)."""

NO_STDERR = "<no stderr output>"

OUTCOME_NOTE_PREFIX = "chapkit: "
"""Starts the line chapkit adds to stderr when a timeout or a signal ended a script."""

_R_DEFERRED_WARNING_HEADERS = ("In addition: Warning message:", "In addition: Warning messages:")
_R_ERROR_PREFIXES = ("Error in ", "Error:")


def format_stderr_tail(stderr: str, lines: int = STDERR_TAIL_LINES) -> str:
    """The last `lines` non-blank lines of `stderr` without R's trailing noise, joined by ` | `; "" if none."""
    kept = [line.rstrip() for line in stderr.splitlines() if line.strip()]
    meaningful = _without_trailing_r_noise(kept) or kept
    tail = " | ".join(meaningful[-lines:]) if lines > 0 else ""
    return tail if len(tail) <= STDERR_IN_ERROR_CHARS else "..." + tail[-STDERR_IN_ERROR_CHARS:]


def _without_trailing_r_noise(lines: list[str]) -> list[str]:
    """Drop a last `Execution halted` and a deferred warning block R prints after the fatal error."""
    if lines and lines[-1].strip() == "Execution halted":
        lines = lines[:-1]
    for index in range(len(lines) - 1, -1, -1):
        line = lines[index].strip()
        if line.startswith(_R_ERROR_PREFIXES):
            return lines  # the last error is the fatal one: no warning block follows it
        if line in _R_DEFERRED_WARNING_HEADERS:
            return lines[:index]
    return lines


def describe_outcome(result: ProcessResult) -> str:
    """How a failed script ended: `failed with exit code 3`, `timed out after 2 s`, `was killed by signal SIGKILL`."""
    if result.timed_out or result.exit_code < 0:
        return result.describe()
    return f"failed with exit code {result.exit_code}"


def stderr_with_outcome(result: ProcessResult) -> str:
    """The end of stderr (at most `OUTPUT_TAIL_CHARS`), plus a line saying so if a timeout or signal ended the script.

    A script killed from outside says nothing itself; as chapkit 2.4.1 puts a timeout into stderr, the
    line makes the reason show wherever the stderr tail is quoted.
    """
    if not (result.timed_out or result.exit_code < 0):
        return result.stderr[-OUTPUT_TAIL_CHARS:]
    note = f"{OUTCOME_NOTE_PREFIX}the script {result.describe()}; its process group was killed\n"
    stderr = result.stderr if not result.stderr or result.stderr.endswith("\n") else result.stderr + "\n"
    return (stderr + note)[-OUTPUT_TAIL_CHARS:]


class ScriptFailedError(ModelRunFailedError):
    """The train or predict script exited with a non-zero status, was killed or timed out.

    A `ModelRunFailedError` (so a `RuntimeError`, as the reference raised): `command` is the command
    line as run, `exit_code` the status (`-N` when signal `N` ended it, on a timeout too), `stdout` and
    `stderr` the ends of the output (at most `OUTPUT_TAIL_CHARS` each; after a timeout or a signal,
    stderr ends with a `chapkit: the script timed out after 2 s; ...` line), `workspace` the run's working
    directory as zip bytes (or `None` if it could not be read). `phase` is `train` or `predict`,
    `outcome` how it ended, and `result` the whole `ProcessResult`.
    """

    def __init__(
        self, message: str, result: ProcessResult, *, phase: Phase, command: str, workspace: bytes | None
    ) -> None:
        super().__init__(
            message,
            command=command,
            exit_code=result.exit_code,
            stdout=result.stdout[-OUTPUT_TAIL_CHARS:],
            stderr=stderr_with_outcome(result),
            workspace=workspace,
        )
        self.result = result
        self.phase: Phase = phase
        self.outcome = describe_outcome(result)

    @classmethod
    def from_result(
        cls, phase: Phase, result: ProcessResult, *, command: str, workspace: bytes | None
    ) -> ScriptFailedError:
        """The error of a failed run, with chapkit 2.4.1's wording (see the module's description)."""
        tail = format_stderr_tail(stderr_with_outcome(result)) or NO_STDERR
        message = f"{phase} script {describe_outcome(result)}; command: {command}; stderr tail: {tail}"
        return cls(message, result, phase=phase, command=command, workspace=workspace)

    def stderr_tail(self, lines: int = STDERR_TAIL_LINES) -> str:
        """The last `lines` non-blank lines of stderr joined by ` | `, without R's trailing noise."""
        return format_stderr_tail(self.stderr, lines)

    def __reduce__(self) -> Any:
        # Job stores may pickle a job's exception; keep every field through the round trip.
        return _rebuild_script_failure, (type(self), str(self), self.result, self.phase, self.command, self.workspace)


def _rebuild_script_failure(
    cls: type[ScriptFailedError],
    message: str,
    result: ProcessResult,
    phase: Phase,
    command: str,
    workspace: bytes | None,
) -> ScriptFailedError:
    return cls(message, result, phase=phase, command=command, workspace=workspace)


class ScriptStartError(RuntimeError):
    """The shell that runs the command could not be started."""


class ScriptOutputMissingError(RuntimeError):
    """The script succeeded but did not write the file chapkit reads back (model or predictions)."""


__all__ = [
    "OUTCOME_NOTE_PREFIX",
    "STDERR_IN_ERROR_CHARS",
    "STDERR_TAIL_LINES",
    "Phase",
    "ScriptFailedError",
    "ScriptOutputMissingError",
    "ScriptStartError",
    "describe_outcome",
    "format_stderr_tail",
    "stderr_with_outcome",
]
