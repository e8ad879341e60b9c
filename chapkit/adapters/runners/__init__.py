"""Runners that start processes: the shared subprocess runner and `ShellModelRunner` (D23)."""

from chapkit.adapters.runners.process import DEFAULT_KILL_GRACE, DEFAULT_OUTPUT_LIMIT, ProcessResult, run_process
from chapkit.adapters.runners.shell_model_runner import (
    PREDICT_PLACEHOLDERS,
    TRAIN_PLACEHOLDERS,
    ScriptFailedError,
    ScriptOutputMissingError,
    ScriptStartError,
    ShellModelRunner,
)

__all__ = [
    "DEFAULT_KILL_GRACE",
    "DEFAULT_OUTPUT_LIMIT",
    "PREDICT_PLACEHOLDERS",
    "TRAIN_PLACEHOLDERS",
    "ProcessResult",
    "ScriptFailedError",
    "ScriptOutputMissingError",
    "ScriptStartError",
    "ShellModelRunner",
    "run_process",
]
