"""`chapkit init`: each template's project passes its own test, has a valid Dockerfile, and passes `chapkit check`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chapkit.cli.init import Template, project_files, service_id
from tests.cli.support import chapkit
from tests.e2e.test_main_job import free_port, running_server

DOCKERFILE_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR",
    "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip


def dockerfile_instructions(text: str) -> list[str]:
    """The instruction of every logical line (continuations joined, comments and blank lines skipped)."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\") + " "
        if not line.endswith("\\"):
            logical.append(current.split()[0].upper())
            current = ""
    assert not current, "the last line continues into nothing"
    return logical


def _init(tmp_path: Path, template: str) -> Path:
    result = chapkit("init", "flu-model", "--template", template, "--directory", str(tmp_path / "flu-model"))
    assert result.exit_code == 0, result.output
    return tmp_path / "flu-model"


def _env(project: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(project), "LOG_LEVEL": "warning"}
    for name in ("DATABASE_URL", "CHAPKIT_DATABASE_URL"):
        env.pop(name, None)
    return env


@pytest.mark.parametrize("template", [template.value for template in Template])
@pytest.mark.slow
def test_the_generated_project_passes_its_own_test(tmp_path: Path, template: str) -> None:
    project = _init(tmp_path, template)
    for path in ("pyproject.toml", "README.md", "Dockerfile", "compose.yaml", "flu_model/service.py"):
        assert (project / path).is_file(), path
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=_env(project),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.parametrize("template", list(Template))
def test_the_dockerfile_and_compose_file_are_well_formed(template: Template) -> None:
    files = project_files("flu-model", template)
    instructions = dockerfile_instructions(files["Dockerfile"])
    assert instructions[0] == "FROM"
    assert set(instructions) <= DOCKERFILE_INSTRUCTIONS, set(instructions) - DOCKERFILE_INSTRUCTIONS
    assert "CMD" in instructions and "VOLUME" in instructions
    compose = files["compose.yaml"]
    assert "volumes:\n      - flu_model_data:/data" in compose and "\nvolumes:\n  flu_model_data:" in compose
    assert "/data/flu_model.db" in compose
    assert not any("__" in path.replace("__init__", "") for path in files)
    assert not any(placeholder in text for text in files.values() for placeholder in ("__PKG__", "__NAME__"))


def test_the_service_id_is_a_slug_of_the_project_name() -> None:
    assert service_id("flu-model") == "flu-model"
    assert service_id("My_Flu--Model2") == "my-flu-model2"
    service = project_files("My_Flu--Model2", Template.shell_r)["my_flu__model2/service.py"]
    assert 'id="my-flu-model2"' in service and 'display_name="My_Flu--Model2"' in service


def test_the_dockerfile_check_catches_mistakes() -> None:
    assert dockerfile_instructions("# base\nFROM python:3.12\nRUN a \\\n  && b\n") == ["FROM", "RUN"]
    assert dockerfile_instructions("RUNN x\n") == ["RUNN"]


@pytest.mark.parametrize("template", [template.value for template in Template])
def test_init_then_serve_then_check(tmp_path: Path, template: str) -> None:
    if template == "shell-r" and shutil.which("Rscript") is None:
        pytest.skip("the shell-r project needs Rscript")
    project = _init(tmp_path, template)
    port = free_port()
    command = [sys.executable, "-m", "chapkit", "serve", "flu_model.service:create_app", "--factory"]
    with running_server([*command, "--port", str(port)], project, _env(project), port) as base:
        result = chapkit("check", base, "--json")
        assert result.exit_code == 0, result.output
    assert (project / "flu_model.db").is_file()


def test_init_refuses_a_bad_name_and_a_non_empty_directory(tmp_path: Path) -> None:
    assert chapkit("init", "9lives", "--directory", str(tmp_path / "x")).exit_code == 2
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    refused = chapkit("init", "taken", "--directory", str(tmp_path / "taken"))
    assert refused.exit_code == 2 and "not empty" in refused.stderr
    assert (tmp_path / "taken" / "file").read_text() == "mine"
