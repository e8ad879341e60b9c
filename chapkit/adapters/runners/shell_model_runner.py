"""`ShellModelRunner`: train and predict by running external scripts (Python, R, anything) on files.

Each run gets a temporary working directory (the command's cwd) holding `config.json`, the data as CSV
(`data.csv` for training; `historic.csv` and `future.csv` for prediction), `geo.json` when geo data is
given and the model file `model.<model_format>`. The command templates name those files with the
reference's placeholders: `{config_file}`, `{data_file}`, `{model_file}`, `{geo_file}` for training;
`{config_file}`, `{model_file}`, `{historic_file}`, `{future_file}`, `{output_file}`, `{geo_file}` for
prediction (predictions are read from `{output_file}`, a CSV). `{{` and `}}` are literal braces.

No shell is involved (D23): a template is split once with `shlex.split` (so quoting works as in a shell)
and placeholders are substituted inside each argument afterwards; only paths of files chapkit wrote are
substituted, and request data only ever reaches the script through those files. As a shell would drop
an unquoted empty expansion, an argument that is empty only because `{geo_file}` was substituted with
nothing (no geo data) is left out. Relative paths in a command resolve against the working directory,
so give scripts as absolute paths.

The model file: with `model_format="pickle"` (the default) the file is a pickle, as in the reference:
training returns the unpickled object and prediction pickles the model for the script. With any other
format (`"rds"`, `"joblib"`, ...) chapkit does not interpret the file: training returns its bytes and
prediction writes the model's bytes back unchanged, so an R script can `saveRDS` and `readRDS`.
Unpickling runs code from the pickle: the scripts are the service author's own, trusted as the service.

A non-zero exit raises `ScriptFailedError` (a `RuntimeError`, as the reference) carrying the end of
the script's stderr; a missing model or predictions file raises `ScriptOutputMissingError` naming the
file; a program that cannot be started raises `ScriptStartError`. The working directory is removed in
every case. `timeout` (seconds) kills the script's whole process group and fails the run, as does
cancelling the task that awaits it.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import re
import shlex
import shutil
import string
import tempfile
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from chapkit.adapters.observability import get_logger
from chapkit.adapters.runners.process import ProcessResult, run_process
from chapkit.application.shielding import complete_before_cancel
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import BaseModelRunner, GeoFeatureCollection

TRAIN_PLACEHOLDERS = frozenset({"config_file", "data_file", "model_file", "geo_file"})
"""Placeholders a train command may use."""

PREDICT_PLACEHOLDERS = frozenset(
    {"config_file", "model_file", "historic_file", "future_file", "output_file", "geo_file"}
)
"""Placeholders a predict command may use."""

PICKLE_FORMAT = "pickle"

STDERR_IN_ERROR_CHARS = 4000
"""How much of the end of a failed script's stderr goes into the error message."""

_FORMAT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_LOG_OUTPUT_CHARS = 2000

_T = TypeVar("_T")

_logger = get_logger(__name__)


class ScriptFailedError(RuntimeError):
    """The train or predict script exited with a non-zero status, was killed or timed out."""

    def __init__(self, message: str, result: ProcessResult) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[type[ScriptFailedError], tuple[str, ProcessResult]]:
        # Job stores may pickle a job's exception; keep the result through the round trip.
        return type(self), (str(self), self.result)


class ScriptStartError(RuntimeError):
    """The command's program could not be started (not found, not executable)."""


class ScriptOutputMissingError(RuntimeError):
    """The script succeeded but did not write the file chapkit reads back (model or predictions)."""


_Template = tuple[tuple[tuple[str, str | None], ...], ...]
"""A parsed command: per argument, its (literal text, placeholder or None) parts."""


def _parse_command(command: str, allowed: frozenset[str], what: str) -> _Template:
    """Split `command` like a shell and check every placeholder; `ValueError` names what is wrong."""
    if not isinstance(command, str):
        raise TypeError(f"{what} must be a string, got {type(command).__name__}")
    try:
        words = shlex.split(command)
    except ValueError as error:
        raise ValueError(f"{what} cannot be split into arguments: {error}") from None
    if not words:
        raise ValueError(f"{what} is empty")
    parsed: list[tuple[tuple[str, str | None], ...]] = []
    for word in words:
        parts: list[tuple[str, str | None]] = []
        try:
            fields = list(string.Formatter().parse(word))
        except ValueError as error:
            raise ValueError(f"{what} has a malformed placeholder in {word!r}: {error}") from None
        for literal, name, spec, conversion in fields:
            if name is None:
                parts.append((literal, None))
                continue
            if name not in allowed:
                names = ", ".join(f"{{{n}}}" for n in sorted(allowed))
                raise ValueError(f"{what} uses an unknown placeholder {{{name}}} in {word!r}; known: {names}")
            if spec or conversion:
                raise ValueError(f"{what}: placeholders take no conversion or format spec ({word!r})")
            parts.append((literal, name))
        parsed.append(tuple(parts))
    return tuple(parsed)


def _render(template: _Template, values: Mapping[str, str]) -> list[str]:
    """The argument list: placeholders substituted inside each argument, never re-split."""
    argv: list[str] = []
    for parts in template:
        argument = "".join(literal + (values[name] if name is not None else "") for literal, name in parts)
        substituted = any(name is not None for _, name in parts)
        if argument or not substituted:
            argv.append(argument)
    return argv


@asynccontextmanager
async def _working_directory(prefix: str) -> AsyncIterator[Path]:
    """A fresh private directory (mode 0700), removed afterwards whatever happened, cancellation included."""
    path = Path(await _in_thread(tempfile.mkdtemp, "", prefix))
    try:
        yield path
    finally:
        await _in_thread(_remove_tree, path)


def _remove_tree(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        _logger.warning("ml.shell.workdir_not_removed", error=f"{type(error).__name__}: {error}")


def _tail(text: str, limit: int) -> str:
    return text if len(text) <= limit else "..." + text[-limit:]


class ShellModelRunner(BaseModelRunner):
    """Shell-based model runner that executes external scripts for train/predict operations."""

    def __init__(
        self,
        train_command: str,
        predict_command: str,
        model_format: str = "pickle",
        *,
        timeout: float | None = None,
    ) -> None:
        """Initialize shell runner with command templates for train/predict operations.

        Raises `ValueError` for a template that is empty, cannot be split or names an unknown
        placeholder, for a `model_format` that is not a plain file extension, and for a non-positive
        `timeout` (seconds per script run; `None` for no limit).
        """
        self._train_template = _parse_command(train_command, TRAIN_PLACEHOLDERS, "train_command")
        self._predict_template = _parse_command(predict_command, PREDICT_PLACEHOLDERS, "predict_command")
        if not isinstance(model_format, str) or not _FORMAT_PATTERN.match(model_format):
            raise ValueError(f"model_format must be a file extension such as 'pickle' or 'rds', got {model_format!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds or None")
        self.train_command = train_command
        self.predict_command = predict_command
        self.model_format = model_format
        self.timeout = timeout

    async def on_train(
        self,
        config: BaseConfig,
        data: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> Any:
        """Train a model by executing external training script."""
        async with _working_directory("chapkit_ml_train_") as workdir:
            model_file = workdir / f"model.{self.model_format}"

            def prepare() -> dict[str, str]:
                return {
                    "config_file": _write_config(workdir, config),
                    "data_file": _write_csv(workdir / "data.csv", data),
                    "geo_file": _write_geo(workdir, geo),
                    "model_file": str(model_file),
                }

            values = await _in_thread(prepare)
            await self._run("train", _render(self._train_template, values), workdir)
            if not model_file.is_file():
                raise ScriptOutputMissingError(
                    f"Training script exited with code 0 but did not create the model file "
                    f"{model_file.name!r} (the {{model_file}} argument)"
                )
            return await _in_thread(self._read_model, model_file)

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> pd.DataFrame:
        """Make predictions by executing external prediction script."""
        async with _working_directory("chapkit_ml_predict_") as workdir:
            output_file = workdir / "predictions.csv"

            def prepare() -> dict[str, str]:
                return {
                    "config_file": _write_config(workdir, config),
                    "model_file": self._write_model(workdir / f"model.{self.model_format}", model),
                    "historic_file": _write_csv(workdir / "historic.csv", historic),
                    "future_file": _write_csv(workdir / "future.csv", future),
                    "geo_file": _write_geo(workdir, geo),
                    "output_file": str(output_file),
                }

            values = await _in_thread(prepare)
            await self._run("predict", _render(self._predict_template, values), workdir)
            if not output_file.is_file():
                raise ScriptOutputMissingError(
                    f"Prediction script exited with code 0 but did not create the predictions file "
                    f"{output_file.name!r} (the {{output_file}} argument)"
                )
            return await _in_thread(pd.read_csv, output_file)

    async def _run(self, operation: str, argv: list[str], workdir: Path) -> ProcessResult:
        """Run one script; raise `ScriptFailedError` unless it exited with status 0 in time."""
        title = "Training" if operation == "train" else "Prediction"
        _logger.info(f"ml.shell.{operation}.started", args=argv, timeout=self.timeout)
        try:
            result = await run_process(argv, cwd=workdir, timeout=self.timeout)
        except OSError as error:
            raise ScriptStartError(
                f"{title} script could not be started ({argv[0]!r}): {error.strerror or error}"
            ) from error
        outcome = {
            "exit_code": result.exit_code,
            "duration_seconds": round(result.duration_seconds, 3),
            "stdout": _tail(result.stdout, _LOG_OUTPUT_CHARS),
            "stderr": _tail(result.stderr, _LOG_OUTPUT_CHARS),
            "stdout_dropped_bytes": result.stdout_dropped_bytes,
            "stderr_dropped_bytes": result.stderr_dropped_bytes,
        }
        if not result.succeeded:
            _logger.error(f"ml.shell.{operation}.failed", outcome=result.describe(), **outcome)
            stderr = _tail(result.stderr.strip(), STDERR_IN_ERROR_CHARS)
            message = f"{title} script {result.describe()}"
            raise ScriptFailedError(f"{message}: {stderr}" if stderr else message, result)
        _logger.info(f"ml.shell.{operation}.completed", **outcome)
        return result

    def _read_model(self, model_file: Path) -> Any:
        """The trained model: the unpickled object for `pickle`, the file's bytes for other formats."""
        if self.model_format == PICKLE_FORMAT:
            with model_file.open("rb") as stream:
                return pickle.load(stream)
        return model_file.read_bytes()

    def _write_model(self, model_file: Path, model: Any) -> str:
        """Write the model for the script: pickled for `pickle`, the bytes as they are otherwise."""
        if self.model_format == PICKLE_FORMAT:
            with model_file.open("wb") as stream:
                pickle.dump(model, stream)
        elif isinstance(model, bytes | bytearray | memoryview):
            model_file.write_bytes(model)
        else:
            raise TypeError(
                f"model_format {self.model_format!r} expects the model file's bytes (as training returned "
                f"them), got {type(model).__name__}"
            )
        return str(model_file)


def _write_config(workdir: Path, config: BaseConfig) -> str:
    path = workdir / "config.json"
    path.write_text(json.dumps(config.model_dump(mode="json"), indent=2), encoding="utf-8")
    return str(path)


def _write_csv(path: Path, frame: pd.DataFrame) -> str:
    frame.to_csv(path, index=False)
    return str(path)


def _write_geo(workdir: Path, geo: GeoFeatureCollection | None) -> str:
    if geo is None:
        return ""
    path = workdir / "geo.json"
    path.write_text(geo.model_dump_json(indent=2), encoding="utf-8")
    return str(path)


async def _in_thread(function: Callable[..., _T], *args: Any) -> _T:
    """Run blocking file work on a worker thread; it finishes before a cancellation is raised.

    Finishing matters: the working directory is removed right after, and a thread still writing into
    it would race that removal.
    """
    return await complete_before_cancel(asyncio.to_thread(function, *args))


__all__ = [
    "PREDICT_PLACEHOLDERS",
    "TRAIN_PLACEHOLDERS",
    "ScriptFailedError",
    "ScriptOutputMissingError",
    "ScriptStartError",
    "ShellModelRunner",
]
