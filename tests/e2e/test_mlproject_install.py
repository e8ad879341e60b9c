"""A migrated model directory installs anywhere and works as `chapkit mlproject migrate`'s Next lines say.

The Python MLproject fixture (no `.venv`: its commands use the `python` on PATH, here the fresh venv's)
is copied, migrated in place by this checkout's chapkit, given a fresh venv, and then: `cd DIR && pip
install -e '.[dev]' && python -m pytest` passes the written test with the chapkit wheel the project
ships, `chapkit serve chapkit_service:create_app --factory` serves, and the venv's `chapkit check`
trains and predicts against it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.installed_projects import InstalledProject, fresh_venv
from tests.support.mlprojects import PYTHON_MODEL, copy_mlproject
from tests.support.server import free_port, running_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a hang guard: a cold pip cache takes minutes


def test_the_migrated_model_installs_tests_serves_and_checks(tmp_path: Path) -> None:
    directory = copy_mlproject(PYTHON_MODEL, tmp_path / "elsewhere" / "weekly_model")
    migrated = subprocess.run(
        [sys.executable, "-m", "chapkit", "mlproject", "migrate", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert migrated.returncode == 0, migrated.stderr
    printed = migrated.stdout.splitlines()
    start = next(index for index, line in enumerate(printed) if line.startswith("Next: "))
    install_and_test, serve = printed[start].removeprefix("Next: "), printed[start + 1].strip()
    assert install_and_test == f"cd {directory} && pip install -e '.[dev]' && python -m pytest"

    venv = fresh_venv(tmp_path / "elsewhere" / "venv")
    installed = InstalledProject("mlproject", directory, venv, [install_and_test, serve], "")
    output = installed.run(install_and_test)
    assert "1 passed" in output and "skipped" not in output, output[-3000:]
    assert installed.chapkit_origin()["url"].startswith((directory / "wheels").as_uri())

    port = free_port()
    env = installed.env(HOST="127.0.0.1", PORT=str(port))
    with running_server(installed.command(serve), directory, env, port) as base:
        checked = installed.run([str(venv / "bin" / "chapkit"), "check", base, "--json"])
    report = json.loads(checked)
    assert report["ok"] and {step["name"] for step in report["steps"]} >= {"$train", "$predict", "predictions"}, report
