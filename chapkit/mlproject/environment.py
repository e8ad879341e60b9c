"""The environment an MLproject's commands run in: what is there is used, what is missing is said, nothing is fetched.

chapkit installs nothing when it serves a model directory. It uses what the machine already has:

- a `.venv` in the model directory (a Python model's own virtual environment, `python_env` or `uv_env`):
  its `bin` goes first on the commands' `PATH` and `VIRTUAL_ENV` names it, so `python train.py` runs
  with the model's packages; without one, a Python model runs with the `python` on `PATH`;
- `renv_env` (an R model): `Rscript` must be on `PATH`, with the packages the lock file lists already
  installed (renv does not restore them here);
- `docker_env` and `conda_env`: chapkit does not start containers or activate conda environments; the
  commands run with the programs on `PATH` (serve the model inside that image or environment instead).

`resolve_environment` also looks up the program each command starts with (`Rscript`, `python`, ...) on
the `PATH` the commands will get, and reports one that is missing.
"""

from __future__ import annotations

import os
import shlex
import shutil
from dataclasses import dataclass, field

from chapkit.mlproject.project import MLProject

VENV_DIRECTORY = ".venv"
_SHELL_WORDS = frozenset({"cd", "export", "set", "source", ".", "exec", "env", "time", "nohup", "(", "{", "!"})
_PYTHON_KEYS = ("python_env", "uv_env")


@dataclass(frozen=True)
class ModelEnvironment:
    """The variables the commands get over the service's environment, and what to tell the person serving."""

    variables: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    """What is used (one sentence each)."""
    problems: list[str] = field(default_factory=list)
    """What is missing: the commands that need it will fail (one sentence each)."""


def resolve_environment(project: MLProject, path: str | None = None) -> ModelEnvironment:
    """What the commands of `project` run with, on this machine; `path` replaces `PATH` (for tests)."""
    search_path = os.environ.get("PATH", os.defpath) if path is None else path
    variables: dict[str, str] = {}
    notes: list[str] = []
    problems: list[str] = []
    named = project.environments
    venv = project.directory / VENV_DIRECTORY
    if (venv / "bin" / "python").exists():
        search_path = f"{venv / 'bin'}{os.pathsep}{search_path}"
        variables = {"PATH": search_path, "VIRTUAL_ENV": str(venv)}
        notes.append(f"the commands run with the model's virtual environment {venv}")
    elif any(key in named for key in _PYTHON_KEYS):
        key = next(key for key in _PYTHON_KEYS if key in named)
        python = shutil.which("python", path=search_path)
        if python is not None:
            notes.append(f"{key}: no {VENV_DIRECTORY} in {project.directory}; the commands use {python} (on PATH)")
        else:
            problems.append(f"{key}: no {VENV_DIRECTORY} in {project.directory} and no python on PATH")
    if "renv_env" in named:
        lock = named["renv_env"]
        notes.append(f"renv_env: chapkit installs no R packages; those {lock} lists must be installed already")
    if "docker_env" in named:
        image = named["docker_env"].get("image") if isinstance(named["docker_env"], dict) else named["docker_env"]
        notes.append(f"docker_env ({image}) is not started: the commands run here, with the programs on PATH")
    if "conda_env" in named:
        notes.append("conda_env is not activated: the commands run with the programs on PATH")
    for entry_point in (project.train, project.predict):
        program = _program(entry_point.command)
        if program is None or "/" in program:
            continue
        if shutil.which(program, path=search_path) is None:
            problem = f"{program} is not on PATH: the commands that start with it will fail"
            if problem not in problems:
                problems.append(problem)
    return ModelEnvironment(variables=variables, notes=notes, problems=problems)


def _program(command: str) -> str | None:
    """The program a command starts with (after `NAME=value` assignments); None when it is shell syntax."""
    try:
        words = shlex.split(command)
    except ValueError:
        return None
    for word in words:
        if "=" in word and word.split("=", 1)[0].isidentifier():
            continue
        return None if word in _SHELL_WORDS else word
    return None


__all__ = ["VENV_DIRECTORY", "ModelEnvironment", "resolve_environment"]
