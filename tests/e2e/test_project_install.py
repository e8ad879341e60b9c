"""Generated projects install anywhere, with the chapkit that made them, and work as their Next lines say.

Each template's project is made by `chapkit init`, copied out of the place it was made and installed
into a fresh venv with exactly `python -m venv venv && venv/bin/pip install ./flu-model`, no PYTHONPATH
(`installed_projects`). The package index's `chapkit` is another project: the venv's chapkit must be
the wheel the project ships (D28). Then `init`'s Next lines run as written: the project's own test
passes, the service serves, and the venv's `chapkit check` passes against it. chap-core's client trains
and predicts against the same installed copies in test_chap_core_client.py.

The Dockerfile is proven without a container engine (none runs here): its `pip install` runs in a fresh
venv from a copy (the image's /app), its CMD serves with its ENV, and the Debian packages it installs
are packages this machine's apt knows. The image itself is not built in CI.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from chapkit.cli.init import Template, project_files
from tests.e2e.installed_projects import NAME, InstalledProject, fresh_venv, make_project
from tests.support.r_runtime import missing_for
from tests.support.server import free_port, running_server

# A hang guard: the first case of a template installs it into a fresh venv (a minute or more on a cold pip cache).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]
REPOSITORY = Path(__file__).resolve().parents[2]
TEMPLATES = [template.value for template in Template]
NEEDS_R = {"shell-r", "shell-r-tidyverse"}  # their images install R


def _needs(template: str) -> None:
    reason = missing_for(template)
    if reason is not None:
        pytest.skip(reason)


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_copy_installs_the_chapkit_that_made_it(
    installed_project: Callable[[str], InstalledProject], template: str
) -> None:
    installed = installed_project(template)
    origin = installed.chapkit_origin()
    assert Path(origin["file"]).is_relative_to(installed.venv), origin
    wheels = sorted((installed.project / "wheels").glob("chapkit-*.whl"))
    assert len(wheels) == 1
    assert origin["url"] == wheels[0].as_uri(), origin  # the project's own wheel, never the package index
    assert not origin["url"].startswith(REPOSITORY.as_uri()) and not installed.project.is_relative_to(REPOSITORY)


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_next_lines_work_as_written(installed_project: Callable[[str], InstalledProject], template: str) -> None:
    """`cd flu-model && pip install -e '.[dev]' && python -m pytest`, then serve, then `chapkit check`."""
    _needs(template)
    installed = installed_project(template)
    install_and_test, serve = installed.next_lines
    assert install_and_test == f"cd {NAME} && pip install -e '.[dev]' && python -m pytest"
    output = installed.run(install_and_test)
    assert "1 passed" in output and "skipped" not in output, output[-3000:]
    assert installed.chapkit_origin()["url"].startswith((installed.project / "wheels").as_uri())

    port = free_port()
    env = installed.env(HOST="127.0.0.1", PORT=str(port))
    with running_server(installed.command(serve), installed.project, env, port) as base:
        checked = installed.run([str(installed.venv / "bin" / "chapkit"), "check", base, "--json"])
    report = json.loads(checked)
    assert report["ok"] and {step["name"] for step in report["steps"]} >= {"$train", "$predict", "predictions"}, report


def test_the_dockerfile_installs_and_serves_as_written(tmp_path: Path) -> None:
    """The Dockerfile's RUN pip line in a fresh venv from a copy (its /app), then its CMD with its ENV."""
    make_project("fn-py", tmp_path / "made")
    app = Path(shutil.copytree(tmp_path / "made" / NAME, tmp_path / "app"))
    dockerfile = (app / "Dockerfile").read_text()
    run_lines = [line.removeprefix("RUN ") for line in dockerfile.splitlines() if line.startswith("RUN ")]
    assert run_lines == ["pip install --no-cache-dir ."]
    venv = fresh_venv(tmp_path / "venv")
    project = InstalledProject("fn-py", app, venv, [], "")
    project.run(run_lines[0], cwd=app)
    assert project.chapkit_origin()["url"] == next((app / "wheels").glob("chapkit-*.whl")).as_uri()

    env_line = next(line for line in dockerfile.splitlines() if line.startswith("ENV "))
    image_env = dict(item.split("=", 1) for item in env_line.removeprefix("ENV ").split())
    assert image_env["DATABASE_URL"] == "sqlite+aiosqlite:////data/flu_model.db"
    port = free_port()
    database = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'flu_model.db'}"  # the image's volume, here
    (tmp_path / "data").mkdir()
    env = project.env(**{**image_env, "HOST": "127.0.0.1", "PORT": str(port), "DATABASE_URL": database})
    cmd_line = next(line for line in dockerfile.splitlines() if line.startswith("CMD "))
    command = [word.strip(' "') for word in cmd_line.removeprefix("CMD [").removesuffix("]").split(",")]
    with running_server(project.command(" ".join(command)), app, env, port) as base:
        assert base
    assert (tmp_path / "data" / "flu_model.db").is_file()


@pytest.mark.parametrize("template", TEMPLATES)
def test_the_dockerfile_installs_debian_packages_that_exist(template: str) -> None:
    """Every package of the image's apt-get line is one this machine's Debian knows (and R ones are installed)."""
    if shutil.which("apt-cache") is None:
        pytest.skip("apt-cache is not available to check Debian package names")
    dockerfile = project_files(NAME, Template(template))["Dockerfile"]
    apt_lines = [line for line in dockerfile.splitlines() if "apt-get install" in line]
    if template not in NEEDS_R:
        assert apt_lines == []
        return
    (line,) = apt_lines
    packages = line.split("--no-install-recommends ")[1].split(" && ")[0].split()
    for package in packages:
        shown = subprocess.run(["apt-cache", "show", package], capture_output=True, text=True, check=False)
        assert shown.returncode == 0 and f"Package: {package}" in shown.stdout, f"Debian has no package {package}"
