"""`ModelWorkspace`: the opt-in workspace mode of `ShellModelRunner`, for models in a directory of their own (D31).

A CHAP model is a directory (its scripts, helper modules, data files) whose commands are run inside a
copy of it, on files with fixed names. With `ShellModelRunner(..., workspace=ModelWorkspace(directory))`
every train and predict run works that way:

- the run's fresh private working directory (`workdirs`) starts as a copy of `directory`, leaving out
  `COPY_EXCLUDED` (virtual environments, version control, caches, build output, database files);
  symbolic links are copied as links;
- chapkit writes its inputs there under fixed names, and the command's placeholders name them relative
  to that directory (the command's cwd): `{config_file}` is `config.yml`, `{data_file}` `data.csv`,
  `{historic_file}` `historic.csv`, `{future_file}` `future.csv`, `{output_file}` `predictions.csv`,
  `{geo_file}` `geo.json` (nothing when no geo is given) and `{model_file}` `model`;
- `config.yml` holds the run's config as YAML in one of two layouts (`CONFIG_FORMATS`): `chap_core`
  puts `prediction_periods` and `additional_continuous_covariates` at the top and every other field
  under `user_option_values`, as chap-core writes a model's configuration; `flat` puts every field at
  the top;
- the `adapters` add columns to every frame before it is written: each entry `{name: source}` copies
  the column `source` under `name`, and the sources `year`, `month` and `week`, when the frame has no
  such column, are read from `time_period` (`month` only from monthly periods, `week` only from weekly
  ones, as chap-core does). A source the frame lacks is an error, except in the future frame (it has
  no target);
- the commands run with `environment` set over the service's own environment (a `.venv`'s `bin` first
  on `PATH`, for instance).

What training wrote into the working directory, every file it created or changed (the model file and
anything beside it), is the trained model: zip bytes (`pack_outputs`), stored as the training
artifact's model. A prediction starts from a new copy of `directory`, unpacks those files over it
(`unpack_outputs`), writes its inputs and runs the predict command; a `predictions.csv` the copy
brought along is removed first, so only the command's own counts. Unlike the diagnostic zip of a
failed run (`zip_workspace`), the outputs are kept whole, whatever their size.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import stat
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Literal

from chapkit.domain.config import ADDITIONAL_CONTINUOUS_COVARIATES, PREDICTION_PERIODS, USER_OPTION_VALUES, BaseConfig

if TYPE_CHECKING:
    import pandas as pd

ConfigFormat = Literal["chap_core", "flat"]
CONFIG_FORMATS: tuple[ConfigFormat, ...] = ("chap_core", "flat")
"""The layouts of `config.yml`: chap-core's (options under `user_option_values`) and flat."""

CONFIG_FILE = "config.yml"
DATA_FILE = "data.csv"
HISTORIC_FILE = "historic.csv"
FUTURE_FILE = "future.csv"
OUTPUT_FILE = "predictions.csv"
GEO_FILE = "geo.json"
MODEL_FILE = "model"

COPY_EXCLUDED: tuple[str, ...] = (
    ".venv",
    "venv",
    ".git",
    "__pycache__",
    "*.pyc",
    "*.egg-info",
    "*.whl",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "node_modules",
    "build",
    "dist",
    "*.db",
    "*.db-wal",
    "*.db-shm",
    "*.db-journal",
    "*.sqlite",
    "*.sqlite3",
)
"""Names (shell patterns, matched at every level) left out of the copy of the model directory and of the outputs."""

_RESERVED_TOP_LEVEL = (PREDICTION_PERIODS, ADDITIONAL_CONTINUOUS_COVARIATES)
_DERIVED_SOURCES = ("year", "month", "week")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})$")
_WEEK = re.compile(r"^(\d{4})-?(?:Sun)?W(\d{1,2})$")
_TIME_PERIOD = "time_period"


@dataclass(frozen=True)
class ModelWorkspace:
    """Run a `ShellModelRunner`'s commands in a copy of a model directory, on files with fixed names.

    `directory` is the model's directory (it must exist); `config_format` the layout of `config.yml`
    (`chap_core` or `flat`); `adapters` maps a column the model reads to the column (or `year`,
    `month`, `week`) it is made from; `environment` holds variables the commands get over the
    service's own environment. Raises `ValueError` for a directory that is not one, an unknown format
    or adapters that are not names.
    """

    directory: Path
    config_format: ConfigFormat = "chap_core"
    adapters: Mapping[str, str] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Check the settings and keep the directory as an absolute path."""
        directory = Path(self.directory).expanduser().resolve()
        if not directory.is_dir():
            raise ValueError(f"the model directory {str(directory)!r} is not a directory")
        if self.config_format not in CONFIG_FORMATS:
            raise ValueError(f"config_format must be one of {', '.join(CONFIG_FORMATS)}, got {self.config_format!r}")
        for name, source in dict(self.adapters).items():
            if not isinstance(name, str) or not isinstance(source, str) or not name or not source:
                raise ValueError(f"adapters map column names to column names, got {name!r}: {source!r}")
        for key, value in dict(self.environment).items():
            if not isinstance(key, str) or not isinstance(value, str) or not key or "=" in key:
                raise ValueError(f"environment maps variable names to strings, got {key!r}: {value!r}")
        object.__setattr__(self, "directory", directory)
        object.__setattr__(self, "adapters", dict(self.adapters))
        object.__setattr__(self, "environment", dict(self.environment))

    def command_environment(self) -> dict[str, str] | None:
        """The environment the commands run with: the service's own with `environment` over it (None: unchanged)."""
        if not self.environment:
            return None
        return {**os.environ, **self.environment}


def excluded(name: str) -> bool:
    """Whether a file or directory of this name is left out of copies and outputs (`COPY_EXCLUDED`)."""
    return any(fnmatch(name, pattern) for pattern in COPY_EXCLUDED)


def copy_model_directory(source: Path, target: Path) -> None:
    """Copy the model directory into the (existing) working directory, without the excluded names."""
    shutil.copytree(
        source,
        target,
        symlinks=True,
        ignore=lambda _directory, names: [name for name in names if excluded(name)],
        dirs_exist_ok=True,
    )


Snapshot = dict[str, tuple[int, int]]


def snapshot(directory: Path) -> Snapshot:
    """Every regular file under `directory` (relative POSIX path) with its size and modification time."""
    found: Snapshot = {}
    for path in _regular_files(directory):
        info = path.lstat()
        found[path.relative_to(directory).as_posix()] = (info.st_size, info.st_mtime_ns)
    return found


def pack_outputs(directory: Path, before: Snapshot) -> bytes:
    """The files under `directory` that are new or changed since `before`, as zip bytes (paths relative to it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, signature in sorted(snapshot(directory).items()):
            if before.get(name) != signature:
                archive.write(directory / name, name)
    return buffer.getvalue()


def unpack_outputs(outputs: bytes, directory: Path) -> None:
    """Write the files `pack_outputs` kept into `directory`; `ValueError` for data that is not such a zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(outputs)) as archive:
            for entry in archive.infolist():
                if entry.is_dir():
                    continue
                target = _target(directory, entry.filename)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(archive.read(entry))
    except zipfile.BadZipFile as error:
        raise ValueError(f"the trained model is not the files a workspace training kept: {error}") from error


def _target(directory: Path, name: str) -> Path:
    """Where a kept file goes: inside `directory`, never through a link or over a directory."""
    relative = PurePosixPath(name)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"the trained model holds a file outside its workspace: {name!r}")
    current = directory
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise ValueError(f"the trained model's file {name!r} would be written through a link")
    if current.is_dir():
        raise ValueError(f"the trained model's file {name!r} would replace a directory")
    return current


def _regular_files(directory: Path) -> list[Path]:
    files: list[Path] = []
    for current, directories, names in os.walk(directory, followlinks=False):
        directories[:] = sorted(name for name in directories if not excluded(name))
        base = Path(current)
        for name in sorted(names):
            path = base / name
            if not excluded(name) and stat.S_ISREG(path.lstat().st_mode):
                files.append(path)
    return files


def config_yaml(config: BaseConfig, config_format: ConfigFormat) -> str:
    """The run's config as the YAML text of `config.yml`, in the given layout."""
    import yaml  # loaded by the runs that write it, not when a service starts

    values: dict[str, Any] = config.model_dump(mode="json")
    if config_format == "chap_core":
        top = {key: values.pop(key) for key in _RESERVED_TOP_LEVEL if key in values}
        values = {**top, USER_OPTION_VALUES: values}
    text: str = yaml.safe_dump(values, sort_keys=False, allow_unicode=True)
    return text


def adapted(frame: pd.DataFrame, adapters: Mapping[str, str], *, what: str, lacks_target: bool = False) -> pd.DataFrame:
    """`frame` with the adapters' columns added (see the module's description); `what` names it in errors."""
    if not adapters:
        return frame
    result = frame.copy()
    for name, source in adapters.items():
        if source in frame.columns:
            result[name] = frame[source]
        elif source in _DERIVED_SOURCES and _TIME_PERIOD in frame.columns:
            values = _derived(frame[_TIME_PERIOD], source)
            if values is not None:
                result[name] = values
        elif not lacks_target:
            columns = ", ".join(str(column) for column in frame.columns)
            raise ValueError(
                f"adapters: {name!r} is made from the column {source!r}, which the {what} does not have "
                f"(its columns: {columns})"
            )
    return result


def _derived(periods: pd.Series, source: str) -> list[int] | None:
    """`year`, `month` or `week` of every period; None for `month` of weekly or `week` of monthly periods."""
    texts = [str(period) for period in periods]
    months = [_MONTH.match(text) for text in texts]
    weeks = [_WEEK.match(text) for text in texts]
    if all(months):
        matches = months
    elif all(weeks):
        matches = weeks
    else:
        unreadable = next(text for text, month, week in zip(texts, months, weeks, strict=True) if not (month or week))
        raise ValueError(f"adapters: cannot read {source!r} from the time_period {unreadable!r}")
    if source == "year":
        return [int(match[1]) for match in matches if match]
    weekly = matches is weeks
    if (source == "week") != weekly:
        return None
    return [int(match[2]) for match in matches if match]


__all__ = [
    "CONFIG_FILE",
    "CONFIG_FORMATS",
    "COPY_EXCLUDED",
    "DATA_FILE",
    "FUTURE_FILE",
    "GEO_FILE",
    "HISTORIC_FILE",
    "MODEL_FILE",
    "OUTPUT_FILE",
    "ConfigFormat",
    "ModelWorkspace",
    "Snapshot",
    "adapted",
    "config_yaml",
    "copy_model_directory",
    "excluded",
    "pack_outputs",
    "snapshot",
    "unpack_outputs",
]
