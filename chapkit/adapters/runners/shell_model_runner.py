"""`ShellModelRunner`: train and predict by running external scripts (Python, R, anything) on files.

Each run gets a working directory of its own (the command's cwd; see `workdirs`) holding
`config.json`, the data as CSV (`data.csv` for training; `historic.csv` and `future.csv` for
prediction), `geo.json` when geo data is given and the model file `model.<model_format>`. The command
templates name those files with the reference's placeholders: `{config_file}`, `{data_file}`,
`{model_file}`, `{geo_file}` for training; `{config_file}`, `{model_file}`, `{historic_file}`,
`{future_file}`, `{output_file}`, `{geo_file}` for prediction (predictions are read from
`{output_file}`, a CSV). `{{` and `}}` are literal braces.

Commands run through `/bin/sh -c`, as in the reference (D23): pipes, redirects (`2>&1`, `>&2 echo`),
`&&` and `cd` work. The values chapkit substitutes are the absolute paths of the files it wrote, each
shell-quoted for where its placeholder stands (`CommandTemplate`), and request data only ever reaches
the script through those files. An absent `{geo_file}` becomes nothing, as in the reference.
Placeholders are checked when the runner is made. Relative paths in a command resolve against the
working directory, so give scripts as absolute paths.

The model file: with `model_format="pickle"` (the default) the file is a pickle, as in the reference:
training returns the unpickled object and prediction pickles the model for the script. With any other
format (`"rds"`, `"joblib"`, ...) chapkit does not interpret the file: training returns its bytes and
prediction writes the model's bytes back unchanged, so an R script can `saveRDS` and `readRDS`.
Unpickling runs code from the pickle: the scripts are the service author's own, trusted as the service.

Metrics: a training script may write `metrics.json` into its working directory (the command's cwd), a
JSON object of metric names to numbers such as `{"rmse": 1.2}`. It is read after the script succeeded
and stored with the model (`TrainResult`); a file that is not JSON or holds invalid metrics
(`validated_metrics`) fails the training with a `ValueError` saying why, and nothing is stored.

Workspace mode (opt-in, for CHAP models that live in a directory of their own): with
`workspace=ModelWorkspace(directory, ...)` each run's working directory starts as a copy of that
directory, the config is written as `config.yml` (chap-core's layout or flat), the frames get the
workspace's column `adapters`, the placeholders name fixed files relative to the working directory
(`data.csv`, `historic.csv`, `future.csv`, `predictions.csv`, `geo.json`, `config.yml` and the model
file `model`), and what training wrote there is the trained model; `model_format` does not apply. See
`chapkit.adapters.runners.model_workspace`. Without `workspace` nothing of this changes.

A script that exits non-zero, is killed or times out raises `ScriptFailedError`: a
`ModelRunFailedError` (a `RuntimeError`, as the reference) with the command as run, its exit code, the
ends of stdout and stderr and the working directory as a zip (bounded, `zip_workspace`), taken before
the directory is removed; its message names the command, the exit code and the last lines of stderr.
A missing model or predictions file raises `ScriptOutputMissingError` naming the file; a shell that
cannot be started raises `ScriptStartError` (a program the shell cannot find is exit code 127). The
working directory is removed in every case; one left by a killed service is removed when a service
starts again (`remove_abandoned_workspaces`). `timeout` (seconds) kills the script's whole process group
and fails the run, as does cancelling the task that awaits it.
"""

from __future__ import annotations

import asyncio
import json
import pickle
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from chapkit.adapters.observability import get_logger
from chapkit.adapters.runners import model_workspace as files
from chapkit.adapters.runners.model_workspace import ModelWorkspace
from chapkit.adapters.runners.process import ProcessResult, run_shell
from chapkit.adapters.runners.script_errors import (
    Phase,
    ScriptFailedError,
    ScriptOutputMissingError,
    ScriptStartError,
)
from chapkit.adapters.runners.shell_template import CommandTemplate
from chapkit.adapters.runners.workdirs import working_directory
from chapkit.adapters.runners.workspace import zip_workspace
from chapkit.application.shielding import complete_before_cancel
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import BaseModelRunner, GeoFeatureCollection
from chapkit.domain.trained_models import TrainResult, validated_metrics

if TYPE_CHECKING:
    import pandas as pd

TRAIN_PLACEHOLDERS = frozenset({"config_file", "data_file", "model_file", "geo_file"})
"""Placeholders a train command may use."""

PREDICT_PLACEHOLDERS = frozenset(
    {"config_file", "model_file", "historic_file", "future_file", "output_file", "geo_file"}
)
"""Placeholders a predict command may use."""

PICKLE_FORMAT = "pickle"

METRICS_FILE = "metrics.json"
"""The file a training script may write into its working directory to report metrics (a JSON object)."""

_FORMAT_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
_LOG_OUTPUT_CHARS = 2000

_T = TypeVar("_T")

_logger = get_logger(__name__)


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
        workspace: ModelWorkspace | None = None,
    ) -> None:
        """Initialize shell runner with command templates for train/predict operations.

        Raises `ValueError` for a template that is empty, names an unknown placeholder or leaves a
        quote open, for a `model_format` that is not a plain file extension, and for a non-positive
        `timeout` (seconds per script run; `None` for no limit). `workspace` turns on the workspace
        mode (see the module's description).
        """
        self._train_template = CommandTemplate(train_command, TRAIN_PLACEHOLDERS, "train_command")
        self._predict_template = CommandTemplate(predict_command, PREDICT_PLACEHOLDERS, "predict_command")
        if not isinstance(model_format, str) or not _FORMAT_PATTERN.match(model_format):
            raise ValueError(f"model_format must be a file extension such as 'pickle' or 'rds', got {model_format!r}")
        if timeout is not None and not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds or None")
        self.train_command = train_command
        self.predict_command = predict_command
        if workspace is not None and not isinstance(workspace, ModelWorkspace):
            raise TypeError(f"workspace must be a ModelWorkspace, got {type(workspace).__name__}")
        self.model_format = model_format
        self.timeout = timeout
        self.workspace = workspace

    async def on_train(
        self,
        config: BaseConfig,
        data: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> Any:
        """Train a model by executing external training script."""
        if self.workspace is not None:
            return await self._train_in_workspace(self.workspace, config, data, geo)
        async with working_directory("chapkit_ml_train_") as workdir:
            model_file = workdir / f"model.{self.model_format}"

            def prepare() -> dict[str, str]:
                return {
                    "config_file": _write_config(workdir, config),
                    "data_file": _write_csv(workdir / "data.csv", data),
                    "geo_file": _write_geo(workdir, geo),
                    "model_file": str(model_file),
                }

            values = await _in_thread(prepare)
            await self._run("train", self._train_template.render(values), workdir)
            if not model_file.is_file():
                raise ScriptOutputMissingError(
                    f"Training script exited with code 0 but did not create the model file "
                    f"{model_file.name!r} (the {{model_file}} argument)"
                )
            model = await _in_thread(self._read_model, model_file)
            metrics = await _in_thread(_read_metrics, workdir / METRICS_FILE)
            return model if metrics is None else TrainResult(model, metrics)

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> pd.DataFrame:
        """Make predictions by executing external prediction script."""
        if self.workspace is not None:
            return await self._predict_in_workspace(self.workspace, config, model, historic, future, geo)
        async with working_directory("chapkit_ml_predict_") as workdir:
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
            await self._run("predict", self._predict_template.render(values), workdir)
            if not output_file.is_file():
                raise ScriptOutputMissingError(
                    f"Prediction script exited with code 0 but did not create the predictions file "
                    f"{output_file.name!r} (the {{output_file}} argument)"
                )
            return await _in_thread(_read_csv, output_file)

    async def _train_in_workspace(
        self, workspace: ModelWorkspace, config: BaseConfig, data: pd.DataFrame, geo: GeoFeatureCollection | None
    ) -> bytes | TrainResult:
        """Train in a copy of the model directory; the files training wrote are the model (zip bytes)."""
        async with working_directory("chapkit_ml_train_") as workdir:

            def prepare() -> files.Snapshot:
                files.copy_model_directory(workspace.directory, workdir)
                _write_workspace_config(workdir, config, workspace)
                frame = files.adapted(data, workspace.adapters, what="training data")
                _write_csv(workdir / files.DATA_FILE, frame)
                _write_geo(workdir, geo)
                return files.snapshot(workdir)

            before = await _in_thread(prepare)
            values = _workspace_values(geo, data_file=files.DATA_FILE)
            await self._run("train", self._train_template.render(values), workdir, workspace.command_environment())
            if "model_file" in self._train_template.placeholders and not (workdir / files.MODEL_FILE).exists():
                # As chap-core: some models fit at predict time and write nothing here.
                _logger.warning("ml.shell.train.no_model_file", model_file=files.MODEL_FILE)

            def collect() -> tuple[bytes, dict[str, float] | None]:
                outputs = files.pack_outputs(workdir, before)
                changed = files.snapshot(workdir).get(METRICS_FILE) != before.get(METRICS_FILE)
                return outputs, _read_metrics(workdir / METRICS_FILE) if changed else None

            model, metrics = await _in_thread(collect)
            return model if metrics is None else TrainResult(model, metrics)

    async def _predict_in_workspace(
        self,
        workspace: ModelWorkspace,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None,
    ) -> pd.DataFrame:
        """Predict in a new copy of the model directory with the files training wrote unpacked over it."""
        if not isinstance(model, bytes | bytearray | memoryview):
            raise TypeError(
                f"a workspace model is the files its training wrote (zip bytes), got {type(model).__name__}"
            )
        async with working_directory("chapkit_ml_predict_") as workdir:
            output_file = workdir / files.OUTPUT_FILE

            def prepare() -> None:
                files.copy_model_directory(workspace.directory, workdir)
                files.unpack_outputs(bytes(model), workdir)
                output_file.unlink(missing_ok=True)  # only the command's own predictions count
                _write_workspace_config(workdir, config, workspace)
                past = files.adapted(historic, workspace.adapters, what="historic data")
                coming = files.adapted(future, workspace.adapters, what="future data", lacks_target=True)
                _write_csv(workdir / files.HISTORIC_FILE, past)
                _write_csv(workdir / files.FUTURE_FILE, coming)
                _write_geo(workdir, geo)

            await _in_thread(prepare)
            values = _workspace_values(
                geo,
                historic_file=files.HISTORIC_FILE,
                future_file=files.FUTURE_FILE,
                output_file=files.OUTPUT_FILE,
            )
            await self._run("predict", self._predict_template.render(values), workdir, workspace.command_environment())
            if not output_file.is_file():
                raise ScriptOutputMissingError(
                    f"Prediction script exited with code 0 but did not create the predictions file "
                    f"{output_file.name!r} (the {{output_file}} argument)"
                )
            return await _in_thread(_read_csv, output_file)

    async def _run(self, phase: Phase, command: str, workdir: Path, env: dict[str, str] | None = None) -> ProcessResult:
        """Run one script; raise `ScriptFailedError` (with the zipped workspace) unless it exited 0 in time."""
        _logger.info(f"ml.shell.{phase}.started", command=command, timeout=self.timeout)
        try:
            result = await run_shell(command, cwd=workdir, env=env, timeout=self.timeout)
        except OSError as error:
            raise ScriptStartError(f"{phase} script could not be started: {error.strerror or error}") from error
        outcome = {
            "exit_code": result.exit_code,
            "duration_seconds": round(result.duration_seconds, 3),
            "stdout": _tail(result.stdout, _LOG_OUTPUT_CHARS),
            "stderr": _tail(result.stderr, _LOG_OUTPUT_CHARS),
            "stdout_dropped_bytes": result.stdout_dropped_bytes,
            "stderr_dropped_bytes": result.stderr_dropped_bytes,
        }
        if not result.succeeded:
            _logger.error(f"ml.shell.{phase}.failed", outcome=result.describe(), **outcome)
            workspace = await _in_thread(_zip_or_none, workdir)
            raise ScriptFailedError.from_result(phase, result, command=command, workspace=workspace)
        _logger.info(f"ml.shell.{phase}.completed", **outcome)
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


def _zip_or_none(workdir: Path) -> bytes | None:
    """The working directory as zip bytes for a failure's diagnostics; `None` (logged) if it cannot be read."""
    try:
        return zip_workspace(workdir)
    except OSError as error:
        _logger.warning("ml.shell.workspace_not_zipped", error=f"{type(error).__name__}: {error}")
        return None


def _read_metrics(path: Path) -> dict[str, float] | None:
    """The metrics a training script wrote to `metrics.json`, checked; `None` when it wrote none."""
    if not path.is_file():
        return None
    source = f"{METRICS_FILE} written by the training script"
    try:
        reported = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ValueError(f"invalid {source}: it is not JSON ({error})") from error
    return validated_metrics(reported, source=source)


def _workspace_values(geo: GeoFeatureCollection | None, **inputs: str) -> dict[str, str]:
    """The placeholders' values in workspace mode: fixed names relative to the working directory."""
    return {
        "config_file": files.CONFIG_FILE,
        "model_file": files.MODEL_FILE,
        "geo_file": files.GEO_FILE if geo is not None else "",
        **inputs,
    }


def _write_workspace_config(workdir: Path, config: BaseConfig, workspace: ModelWorkspace) -> None:
    text = files.config_yaml(config, workspace.config_format)
    (workdir / files.CONFIG_FILE).write_text(text, encoding="utf-8")


def _write_config(workdir: Path, config: BaseConfig) -> str:
    path = workdir / "config.json"
    path.write_text(json.dumps(config.model_dump(mode="json"), indent=2), encoding="utf-8")
    return str(path)


def _read_csv(path: Path) -> pd.DataFrame:
    import pandas as pd

    return pd.read_csv(path)


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
    "METRICS_FILE",
    "PREDICT_PLACEHOLDERS",
    "TRAIN_PLACEHOLDERS",
    "ScriptFailedError",
    "ScriptOutputMissingError",
    "ScriptStartError",
    "ShellModelRunner",
]
