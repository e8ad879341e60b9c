"""`chapkit mlproject run` and `migrate`: clear refusals, a real served process, files written around a model."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from chapkit.testing import serve_app
from tests.cli.support import chapkit
from tests.integration.http.registration_support import eventually, orchestrator, served
from tests.support.mlprojects import PYTHON_MODEL, R_MODEL, copy_mlproject
from tests.support.server import free_port, running_server

MIGRATED = [
    "chapkit_service.py",
    "tests/test_chapkit_service.py",
    "pyproject.toml",
    "setup.py",
    "Dockerfile",
    ".dockerignore",
]

MINIMAL = """name: tiny
entry_points:
  train: {command: "python train.py {train_data} {model}"}
  predict: {command: "python predict.py {model} {future_data} {out_file}"}
"""


def _env(**extra: str) -> dict[str, str]:
    env = {**os.environ, "LOG_LEVEL": "warning", **extra}
    for name in ("DATABASE_URL", "CHAPKIT_DATABASE_URL", "SERVICEKIT_ORCHESTRATOR_URL", "PORT", "HOST"):
        env.pop(name, None)
    return env


def _mlproject(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "MLproject").write_text(text)
    return directory


@pytest.mark.parametrize("command", ["run", "migrate"])
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "has no MLproject file"),
        ("name: tiny\nentry_points: [unclosed\n", "not valid YAML"),
        ("entry_points: {}\n", "name is missing"),
        (MINIMAL.replace('{model}"}\n  predict', '{dataset}"}\n  predict'), "unknown parameter 'dataset'"),
        (MINIMAL + "user_options: {lags: {type: decimal, default: 1}}\n", "unknown type 'decimal'"),
        (MINIMAL + "supported_period_type: daily\n", "supported_period_type: 'daily'"),
    ],
)
def test_an_mlproject_that_cannot_be_served_is_one_error_line_and_exit_2(
    tmp_path: Path, command: str, text: str | None, expected: str
) -> None:
    directory = _mlproject(tmp_path / "model", text) if text is not None else tmp_path
    before = sorted(os.listdir(directory))
    result = chapkit("mlproject", command, str(directory))
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and expected in lines[0], result.output
    assert sorted(os.listdir(directory)) == before  # nothing served, nothing written


def test_an_unknown_config_format_is_refused(tmp_path: Path) -> None:
    result = chapkit("mlproject", "run", str(_mlproject(tmp_path, MINIMAL)), "--config-format", "nested")
    assert result.exit_code == 2
    assert "nested" in result.output


@pytest.mark.slow
def test_run_serves_the_model_directory_and_registers_it(tmp_path: Path) -> None:
    directory = copy_mlproject(PYTHON_MODEL, tmp_path / "python_model", venv=True)
    port = free_port()
    database = tmp_path / "state" / "service.db"
    (tmp_path / "state").mkdir()
    command = [sys.executable, "-m", "chapkit", "mlproject", "run", str(directory), "--port", str(port)]
    command += ["--config-format", "flat", "--database", str(database)]
    chap, registry = orchestrator(ttl=1)
    with served(chap) as chap_port:
        command += ["--register-url", f"http://127.0.0.1:{chap_port}/v2/services/$register"]
        env = _env(SERVICEKIT_HOST="127.0.0.1", TMPDIR=str(tmp_path))
        with running_server(command, tmp_path, env, port) as base:
            info = httpx.get(f"{base}/api/v1/info").json()
            schema = httpx.get(f"{base}/api/v1/configs/$schema").json()
            eventually(lambda: len(registry.registrations) == 1)
            assert registry.registrations[0]["url"] == f"http://127.0.0.1:{port}"
            assert registry.registrations[0]["info"]["id"] == "weekly-level-python"
        assert registry.deletes == ["weekly-level-python"]
    assert info["id"] == "weekly-level-python" and info["period_type"] == "weekly"
    assert info["required_covariates"] == ["rainfall"]
    assert set(schema["$defs"]["ModelConfiguration"]["properties"]) == {"window", "rain_effect", "n_samples"}
    assert database.is_file()
    log = (tmp_path / "service.log").read_text()
    assert "predict: python predict.py model historic.csv future.csv predictions.csv config.yml geo.json" in log
    assert "config.yml layout: flat" in log
    assert "adapters: cases <- disease_cases, rain <- rainfall, week_of_year <- week" in log
    assert f"the model's virtual environment {directory / '.venv'}" in log


def test_migrate_writes_a_project_around_the_model_and_keeps_existing_files(tmp_path: Path) -> None:
    directory = copy_mlproject(R_MODEL, tmp_path / "r_model")
    (directory / "Dockerfile").write_text("FROM r-base:4.3\n")
    result = chapkit("mlproject", "migrate", str(directory))
    assert result.exit_code == 0, result.output
    written = [name for name in MIGRATED if name != "Dockerfile"]
    for name in written:
        assert f"wrote {name}" in result.output
    (wheel,) = (directory / "wheels").glob("chapkit-*-py3-none-any.whl")
    assert f"wrote wheels/{wheel.name}" in result.output
    assert "kept Dockerfile (it exists; not overwritten)" in result.output
    assert (directory / "Dockerfile").read_text() == "FROM r-base:4.3\n"
    texts = {name: (directory / name).read_bytes() for name in [*written, f"wheels/{wheel.name}"]}
    assert b'name = "seasonal-rate-r"' in texts["pyproject.toml"]
    assert b"NEEDS = ['Rscript']" in texts["tests/test_chapkit_service.py"]

    again = chapkit("mlproject", "migrate", str(directory))
    assert again.exit_code == 0
    assert "Nothing written" in again.output
    assert "kept wheels/ (it has a chapkit wheel)" in again.output
    assert {name: (directory / name).read_bytes() for name in texts} == texts


def test_migrate_leaves_an_existing_python_project_its_own_build(tmp_path: Path) -> None:
    directory = copy_mlproject(PYTHON_MODEL, tmp_path / "python_model")
    (directory / "pyproject.toml").write_text('[project]\nname = "weekly"\ndependencies = ["numpy"]\n')
    result = chapkit("mlproject", "migrate", str(directory))
    assert result.exit_code == 0, result.output
    assert "kept pyproject.toml (it exists; not overwritten)" in result.output
    assert "setup.py not written: pyproject.toml exists; add chapkit to its dependencies" in result.output
    assert not (directory / "setup.py").exists()
    assert (directory / "chapkit_service.py").is_file()


def test_migrate_writes_a_dockerfile_that_serves_the_module_with_r_for_r_models(tmp_path: Path) -> None:
    r_model = copy_mlproject(R_MODEL, tmp_path / "r_model")
    python_model = copy_mlproject(PYTHON_MODEL, tmp_path / "python_model")
    for directory in (r_model, python_model):
        assert chapkit("mlproject", "migrate", str(directory)).exit_code == 0
    r_dockerfile, python_dockerfile = ((path / "Dockerfile").read_text() for path in (r_model, python_model))
    assert "r-base-core" in r_dockerfile and "r-base-core" not in python_dockerfile
    for text in (r_dockerfile, python_dockerfile):
        assert 'CMD ["chapkit", "serve", "chapkit_service:create_app", "--factory"]' in text


def _migrated_app(directory: Path, database_url: str) -> Any:
    spec = importlib.util.spec_from_file_location(f"migrated_{directory.name}", directory / "chapkit_service.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.create_app(database_url)


def test_the_migrated_service_module_serves_the_mlproject(tmp_path: Path) -> None:
    directory = copy_mlproject(R_MODEL, tmp_path / "r_model")
    assert chapkit("mlproject", "migrate", str(directory)).exit_code == 0
    app = _migrated_app(directory, f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}")

    async def served_info() -> dict[str, Any]:
        async with serve_app(app) as client:
            info: dict[str, Any] = (await client.get("/api/v1/info")).json()
            return info

    info = asyncio.run(served_info())
    assert info["id"] == "seasonal-rate-r" and info["period_type"] == "monthly"
    assert info["model_metadata"]["author_assessed_status"] == "orange"


@pytest.mark.slow
@pytest.mark.parametrize("model", [PYTHON_MODEL, R_MODEL])
def test_the_migrated_projects_own_test_passes(tmp_path: Path, model: str) -> None:
    if model == R_MODEL and shutil.which("Rscript") is None:
        pytest.skip("the R model needs Rscript")
    directory = copy_mlproject(model, tmp_path / model, venv=model == PYTHON_MODEL)
    assert chapkit("mlproject", "migrate", str(directory)).exit_code == 0
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_chapkit_service.py"],
        cwd=directory,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
