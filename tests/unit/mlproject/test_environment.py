"""The environment an MLproject's commands get: the directory's .venv when there is one, missing programs named."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import yaml

from chapkit.mlproject import load_mlproject, resolve_environment
from chapkit.mlproject.project import MLProject


def project(tmp_path: Path, program: str = "python", **keys: object) -> MLProject:
    entry_points = {
        "train": {"command": f"{program} train.py {{train_data}} {{model}}"},
        "predict": {"command": f"OMP_NUM_THREADS=1 {program} predict.py {{model}} {{future_data}} {{out_file}}"},
    }
    (tmp_path / "MLproject").write_text(yaml.safe_dump({"name": "m", "entry_points": entry_points, **keys}))
    return load_mlproject(tmp_path)


def executable(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def test_the_directorys_venv_goes_first_on_path(tmp_path: Path) -> None:
    venv_bin = tmp_path / ".venv" / "bin"
    executable(venv_bin, "python")
    found = resolve_environment(project(tmp_path, python_env="python_env.yml"), path="/usr/bin")
    assert found.variables == {"PATH": f"{venv_bin}{os.pathsep}/usr/bin", "VIRTUAL_ENV": str(tmp_path / ".venv")}
    assert found.problems == []
    assert any(".venv" in note for note in found.notes)


def test_without_a_venv_the_python_on_path_is_used_and_named(tmp_path: Path) -> None:
    bin_directory = tmp_path / "bin"
    python = executable(bin_directory, "python")
    found = resolve_environment(project(tmp_path, uv_env="pyproject.toml"), path=str(bin_directory))
    assert found.variables == {}
    assert found.problems == []
    assert [note for note in found.notes if note.startswith("uv_env")] == [
        f"uv_env: no .venv in {tmp_path}; the commands use {python} (on PATH)"
    ]


def test_a_program_that_is_not_on_path_is_reported(tmp_path: Path) -> None:
    found = resolve_environment(project(tmp_path, "Rscript", renv_env="renv.lock"), path=str(tmp_path / "empty"))
    assert found.problems == ["Rscript is not on PATH: the commands that start with it will fail"]
    assert any("renv.lock" in note for note in found.notes)


def test_python_env_without_venv_or_python_is_a_problem(tmp_path: Path) -> None:
    found = resolve_environment(project(tmp_path, python_env="python_env.yml"), path=str(tmp_path / "empty"))
    assert f"python_env: no .venv in {tmp_path} and no python on PATH" in found.problems


def test_docker_and_conda_environments_are_said_not_to_be_started(tmp_path: Path) -> None:
    bin_directory = tmp_path / "bin"
    executable(bin_directory, "python")
    keys = {"docker_env": {"image": "ghcr.io/example/model:1"}, "conda_env": "conda.yml"}
    found = resolve_environment(project(tmp_path, **keys), path=str(bin_directory))
    assert any("ghcr.io/example/model:1" in note and "not started" in note for note in found.notes)
    assert any(note.startswith("conda_env is not activated") for note in found.notes)
    assert found.problems == []
