"""Read an `MLproject` file: the description of an existing CHAP model directory (`load_mlproject`).

An MLproject is YAML. Only `name` and `entry_points` (with `train` and `predict`, each a `command`
and optional `parameters`) are required; the other keys chapkit reads are `user_options`,
`meta_data`, `target`, `required_covariates`, `supported_period_type`,
`allow_free_additional_continuous_covariates`, `requires_geo`, `min_prediction_periods`,
`max_prediction_periods`, `version`, `hpo_search_space`, `adapters` and the environments
(`docker_env`, `renv_env`, `python_env`, `uv_env`, `conda_env`). Other keys and other entry points
are kept in `ignored` and not used.

The entry points' parameters are the files of the run's workspace (`PARAMETER_FILES`): `train_data`
is `data.csv`, `historic_data` `historic.csv`, `future_data` `future.csv`, `out_file`
`predictions.csv`, `model` the model file kept in the workspace, `model_config` `config.yml` and
`polygons` `geo.json`. A command names them as `{train_data}` and so on (`{{` and `}}` are literal
braces); a parameter the entry point does not have is an error, so a typo fails when the file is read,
not when a model runs. Every problem raises `MLProjectError` with one line naming the file and the key.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chapkit.adapters.runners.shell_template import CommandTemplate

MLPROJECT_FILE_NAMES = ("MLproject", "MLproject.yaml", "MLproject.yml")
"""The names an MLproject file may have in a model directory, in the order they are looked for."""

PARAMETER_FILES: dict[str, str] = {
    "train_data": "data.csv",
    "historic_data": "historic.csv",
    "future_data": "future.csv",
    "out_file": "predictions.csv",
    "model": "model",
    "model_config": "config.yml",
    "polygons": "geo.json",
}
"""Each entry-point parameter and the workspace file it names."""

RUNNER_PLACEHOLDERS: dict[str, str] = {
    "train_data": "data_file",
    "historic_data": "historic_file",
    "future_data": "future_file",
    "out_file": "output_file",
    "model": "model_file",
    "model_config": "config_file",
    "polygons": "geo_file",
}
"""Each entry-point parameter and the `ShellModelRunner` placeholder that names the same file."""

ENTRY_POINT_PARAMETERS: dict[str, tuple[str, ...]] = {
    "train": ("train_data", "model", "model_config", "polygons"),
    "predict": ("historic_data", "future_data", "model", "out_file", "model_config", "polygons"),
}
"""The parameters each served entry point may use."""

ENVIRONMENT_KEYS = ("docker_env", "renv_env", "python_env", "uv_env", "conda_env")
"""The keys that name the environment a model runs in."""

_KNOWN_KEYS = frozenset(
    {
        "name",
        "entry_points",
        "user_options",
        "meta_data",
        "target",
        "required_covariates",
        "supported_period_type",
        "allow_free_additional_continuous_covariates",
        "requires_geo",
        "min_prediction_periods",
        "max_prediction_periods",
        "version",
        "hpo_search_space",
        "adapters",
        *ENVIRONMENT_KEYS,
    }
)


class MLProjectError(ValueError):
    """An MLproject file that cannot be served: missing, not YAML, or with a key chapkit cannot use."""


@dataclass(frozen=True)
class EntryPoint:
    """One entry point: its command as written and as a `ShellModelRunner` template, and its parameters."""

    command: str
    template: str
    parameters: tuple[str, ...]


@dataclass(frozen=True)
class MLProject:
    """A model directory's MLproject file, read and checked (`load_mlproject`)."""

    name: str
    directory: Path
    file: Path
    train: EntryPoint
    predict: EntryPoint
    user_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    meta_data: dict[str, Any] = field(default_factory=dict)
    target: str | None = None
    required_covariates: list[str] = field(default_factory=list)
    supported_period_type: str | None = None
    allow_free_additional_continuous_covariates: bool = False
    requires_geo: bool = False
    min_prediction_periods: int | None = None
    max_prediction_periods: int | None = None
    version: str | None = None
    hpo_search_space: dict[str, Any] | None = None
    adapters: dict[str, str] = field(default_factory=dict)
    environments: dict[str, Any] = field(default_factory=dict)
    """The environment keys the file names (`renv_env`, `python_env`, ...) with their values."""
    ignored: list[str] = field(default_factory=list)
    """Keys and entry points of the file that chapkit does not use."""


def find_mlproject(path: str | Path) -> Path:
    """The MLproject file at `path`: the file itself, or the one in the directory `path`."""
    location = Path(path).expanduser()
    if location.is_file():
        return location.resolve()
    if not location.exists():
        raise MLProjectError(f"{location} does not exist")
    for name in MLPROJECT_FILE_NAMES:
        candidate = location / name
        if candidate.is_file():
            return candidate.resolve()
    raise MLProjectError(f"{location} has no MLproject file (looked for {', '.join(MLPROJECT_FILE_NAMES)})")


def load_mlproject(path: str | Path) -> MLProject:
    """Read and check the MLproject file at `path` (the file, or the model directory holding it)."""
    file = find_mlproject(path)
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise MLProjectError(f"{file}: not valid YAML: {_yaml_problem(error)}") from None
    except (OSError, UnicodeDecodeError) as error:
        raise MLProjectError(f"{file}: cannot be read: {error}") from None
    return _project(raw, file)


def _yaml_problem(error: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where."""
    if isinstance(error, yaml.MarkedYAMLError) and error.problem_mark is not None:
        mark = error.problem_mark
        return f"{error.problem} (line {mark.line + 1}, column {mark.column + 1})"
    return " ".join(str(error).split())


class _Reader:
    """Reads the keys of one MLproject mapping, raising `MLProjectError` that names the file and the key."""

    def __init__(self, raw: Mapping[Any, Any], file: Path) -> None:
        self.raw = raw
        self.file = file

    def error(self, key: str, problem: str) -> MLProjectError:
        return MLProjectError(f"{self.file}: {key}: {problem}")

    def text(self, key: str, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                raise MLProjectError(f"{self.file}: {key} is missing (an MLproject needs name and entry_points)")
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self.error(key, f"must be text, got {_kind(value)}")
        text = str(value).strip()
        if required and not text:
            raise self.error(key, "is empty")
        return text or None

    def flag(self, key: str) -> bool:
        value = self.raw.get(key, False)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def count(self, key: str) -> int | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.error(key, f"must be a whole number of periods (0 or more), got {value!r}")
        return value

    def names(self, key: str) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) and item for item in value):
            raise self.error(key, f"must be a list of column names, got {value!r}")
        return list(value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.raw.get(key)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.error(key, f"must be a mapping, got {_kind(value)}")
        return {str(name): item for name, item in value.items()}


def _kind(value: Any) -> str:
    """What a YAML value is, for messages."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return repr(value)


def _project(raw: Any, file: Path) -> MLProject:
    if not isinstance(raw, dict):
        raise MLProjectError(f"{file}: an MLproject must be a YAML mapping (name, entry_points, ...), got {_kind(raw)}")
    reader = _Reader(raw, file)
    name = reader.text("name", required=True)
    assert name is not None
    if "entry_points" not in raw or raw["entry_points"] is None:
        raise MLProjectError(f"{file}: entry_points is missing (an MLproject needs name and entry_points)")
    entry_points = reader.mapping("entry_points")
    missing = [point for point in ENTRY_POINT_PARAMETERS if point not in entry_points]
    if missing:
        found = ", ".join(sorted(entry_points)) or "none"
        lacking = " and ".join(missing)
        raise MLProjectError(f"{file}: entry_points needs train and predict; {lacking} missing (found: {found})")
    ignored = sorted(str(key) for key in raw if str(key) not in _KNOWN_KEYS)
    ignored += [f"entry_points.{point}" for point in sorted(entry_points) if point not in ENTRY_POINT_PARAMETERS]

    user_options = reader.mapping("user_options")
    for option, body in user_options.items():
        if not isinstance(body, dict):
            problem = f"must be a mapping (type, default, description), got {_kind(body)}"
            raise reader.error(f"user_options.{option}", problem)
    adapters = reader.mapping("adapters")
    for column, source in adapters.items():
        if not isinstance(source, str) or not source:
            raise reader.error(f"adapters.{column}", f"must name the column it is made from, got {source!r}")
    hpo = raw.get("hpo_search_space")
    if hpo is not None and not isinstance(hpo, dict):
        raise reader.error("hpo_search_space", f"must be a mapping, got {_kind(hpo)}")
    low, high = reader.count("min_prediction_periods"), reader.count("max_prediction_periods")
    if low is not None and high is not None and low > high:
        raise reader.error("min_prediction_periods", f"{low} exceeds max_prediction_periods ({high})")
    return MLProject(
        name=name,
        directory=file.parent,
        file=file,
        train=_entry_point(reader, "train", entry_points["train"]),
        predict=_entry_point(reader, "predict", entry_points["predict"]),
        user_options={option: dict(body) for option, body in user_options.items()},
        meta_data=reader.mapping("meta_data"),
        target=reader.text("target"),
        required_covariates=reader.names("required_covariates"),
        supported_period_type=reader.text("supported_period_type"),
        allow_free_additional_continuous_covariates=reader.flag("allow_free_additional_continuous_covariates"),
        requires_geo=reader.flag("requires_geo"),
        min_prediction_periods=low,
        max_prediction_periods=high,
        version=reader.text("version"),
        hpo_search_space=dict(hpo) if hpo is not None else None,
        adapters={str(column): str(source) for column, source in adapters.items()},
        environments={key: raw[key] for key in ENVIRONMENT_KEYS if raw.get(key) is not None},
        ignored=ignored,
    )


def _entry_point(reader: _Reader, name: str, body: Any) -> EntryPoint:
    key = f"entry_points.{name}"
    if not isinstance(body, dict):
        raise reader.error(key, f"must be a mapping with a command, got {_kind(body)}")
    command = body.get("command")
    if not isinstance(command, str) or not command.strip():
        raise reader.error(f"{key}.command", "is missing: the shell command the entry point runs")
    allowed = ENTRY_POINT_PARAMETERS[name]
    parameters = body.get("parameters")
    if parameters is None:
        parameters = {}
    if not isinstance(parameters, dict):
        raise reader.error(f"{key}.parameters", f"must be a mapping of parameter names, got {_kind(parameters)}")
    for parameter in parameters:
        if parameter not in allowed:
            raise reader.error(f"{key}.parameters", _unknown(str(parameter), name))
    try:
        template = runner_template(command, name)
        # The shell's quoting, as the runner will read it: an unclosed quote is refused here, not at run time.
        placeholders = frozenset(RUNNER_PLACEHOLDERS[parameter] for parameter in allowed)
        CommandTemplate(template, placeholders, "the command")
    except ValueError as error:
        raise reader.error(f"{key}.command", str(error)) from None
    return EntryPoint(command=command, template=template, parameters=tuple(str(item) for item in parameters))


def _unknown(parameter: str, entry_point: str) -> str:
    allowed = ENTRY_POINT_PARAMETERS[entry_point]
    return f"unknown parameter {parameter!r}; {entry_point} takes {', '.join(allowed)}"


def runner_template(command: str, entry_point: str) -> str:
    """`command` with each `{parameter}` as its `ShellModelRunner` placeholder; `ValueError` names a bad one."""
    allowed = ENTRY_POINT_PARAMETERS[entry_point]
    try:
        pieces = list(string.Formatter().parse(command))
    except ValueError as error:
        raise ValueError(f"malformed placeholder: {error} (write {{{{ and }}}} for literal braces)") from None
    parts: list[str] = []
    for literal, parameter, spec, conversion in pieces:
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if parameter is None:
            continue
        if parameter not in allowed:
            raise ValueError(_unknown(parameter, entry_point))
        if spec or conversion:
            raise ValueError(f"{{{parameter}}} takes no conversion or format spec")
        parts.append("{" + RUNNER_PLACEHOLDERS[parameter] + "}")
    return "".join(parts)


__all__ = [
    "ENTRY_POINT_PARAMETERS",
    "ENVIRONMENT_KEYS",
    "MLPROJECT_FILE_NAMES",
    "PARAMETER_FILES",
    "RUNNER_PLACEHOLDERS",
    "EntryPoint",
    "MLProject",
    "MLProjectError",
    "find_mlproject",
    "load_mlproject",
    "runner_template",
]
