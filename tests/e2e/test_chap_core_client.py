"""chap-core's own client against real chapkit servers: the demo main job and every `chapkit init` template.

CHAP's orchestrator (chap-core) talks to model services with `ExternalChapkitModelTemplate`: it reads the
service info and the config schema, stores a config, trains, predicts and reads the predictions back as a
`DataSet[Samples]`. These cases run that client, unchanged, against real server processes: chap-core
needs Python 3.13, so a driver script (`chap_core_driver.py`) runs under `CHAPKIT_CHAP_CORE_PYTHON` (an
interpreter with chap-core installed; scripts/check builds one and sets it) and reports what chap-core got
back as JSON, which the cases here assert on. Without the variable the cases are skipped. Each template's
service is its generated project installed into a fresh venv from a copy (`installed_project`).

Every service is started once and driven by one driver process (importing chap-core is slow); its
scenarios are monthly and weekly data, with and without polygons, over several locations. A shell-py
project whose scripts fail on request checks that chap-core's error carries the script's stderr. Two
existing-model directories (tests/fixtures/mlprojects: an R model, monthly, and a Python model, weekly,
each with user options and adapters) are served as they are with `chapkit mlproject run`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.cli.support import chapkit
from tests.e2e.installed_projects import InstalledProject
from tests.support.mlprojects import PYTHON_MODEL, R_MODEL, copy_mlproject
from tests.support.once import Once
from tests.support.r_runtime import missing_for
from tests.support.server import free_port, running_server

CHAP_CORE_PYTHON = os.environ.get("CHAPKIT_CHAP_CORE_PYTHON", "")
DRIVER = Path(__file__).with_name("chap_core_driver.py")

pytestmark = [
    pytest.mark.skipif(
        not CHAP_CORE_PYTHON, reason="CHAPKIT_CHAP_CORE_PYTHON is not set (scripts/check builds chap-core and sets it)"
    ),
    pytest.mark.slow,
    # A hang guard: a template's first case installs its project into a fresh venv, then chap-core drives it.
    pytest.mark.timeout(600),
]

N_SAMPLES = 100
FAILURES = {
    "train": "failing-model: the training data has no usable rainfall (train marker 2f9c)",
    "predict": "failing-model: the future rows cannot be forecast (predict marker 7a1e)",
}
FAIL_GUARD = """import json as _json, sys as _sys
if _json.load(open(_sys.argv[1])).get("fail_in") == "{stage}":
    print("some progress output", flush=True)
    print({message!r}, file=_sys.stderr)
    _sys.exit(1)
"""


def scenario(
    name: str, period_type: str, geo: bool, options: dict[str, Any], *, expect: str = "success", repeat: bool = False
) -> dict[str, Any]:
    """One train and predict through chap-core, with a configured model as chap-core stores it."""
    monthly = period_type == "monthly"
    return {
        "name": name,
        "period_type": period_type,
        "geo": geo,
        "locations": 3 if monthly else 4,
        "history": 24 if monthly else 40,
        "horizon": 3 if monthly else 4,
        "config": {"user_option_values": options, "additional_continuous_covariates": []},
        "expect": expect,
        "repeat": repeat,
    }


def template_scenarios() -> list[dict[str, Any]]:
    """Monthly and weekly, with and without polygons: the templates declare period_type `any`."""
    return [
        scenario("monthly", "monthly", False, {"window": 8}, repeat=True),
        scenario("monthly-geo", "monthly", True, {"window": 12}),
        scenario("weekly", "weekly", False, {"window": 12}),
        scenario("weekly-geo", "weekly", True, {"window": 20}),
    ]


@dataclass(frozen=True)
class Service:
    """A service to start and the scenarios chap-core runs against it."""

    name: str
    scenarios: list[dict[str, Any]]
    template: str | None = None  # a `chapkit init` template; None for the demo main job
    needs: str | None = None  # a program the service runs (skipped without it)
    failing: bool = False  # the template's scripts fail when the config asks them to
    sample_count: int | None = N_SAMPLES  # None: any number above one
    info: dict[str, Any] = field(default_factory=dict)  # what chap-core must read in /api/v1/info
    mlproject: str | None = None  # an MLproject fixture, served with `chapkit mlproject run`
    run_args: tuple[str, ...] = ()  # more arguments of `chapkit mlproject run`


TEMPLATE_INFO = {
    "id": "flu-model",
    "period_type": "any",
    "required_covariates": ["rainfall", "mean_temperature"],
    "min_prediction_periods": 1,
    "max_prediction_periods": 12,
}
SERVICES = [
    Service(
        "demo",
        [
            scenario("monthly", "monthly", False, {"ridge": 0.1}, repeat=True),
            scenario("monthly-geo", "monthly", True, {"ridge": 0.0}),
        ],
        sample_count=None,
        info={"id": "chapkit", "period_type": "monthly", "required_covariates": ["rainfall", "mean_temperature"]},
    ),
    Service("fn-py", template_scenarios(), template="fn-py", info=TEMPLATE_INFO),
    Service("shell-py", template_scenarios(), template="shell-py", info=TEMPLATE_INFO),
    Service("shell-r", template_scenarios(), template="shell-r", needs="Rscript", info=TEMPLATE_INFO),
    Service(
        "shell-r-tidyverse", template_scenarios(), template="shell-r-tidyverse", needs="Rscript", info=TEMPLATE_INFO
    ),
    Service(
        "failing-shell-py",
        [
            scenario("train-fails", "monthly", False, {"fail_in": "train"}, expect="train-fails"),
            scenario("predict-fails", "monthly", False, {"fail_in": "predict"}, expect="predict-fails"),
        ],
        template="shell-py",
        failing=True,
    ),
    Service(
        "mlproject-r",
        [
            scenario("monthly", "monthly", False, {"season_weight": 0.6, "n_samples": 100}, repeat=True),
            scenario("monthly-geo", "monthly", True, {}),
        ],
        mlproject=R_MODEL,
        needs="Rscript",
        info={"id": "seasonal-rate-r", "period_type": "monthly", "required_covariates": ["population"]},
    ),
    Service(
        "mlproject-python",
        [
            scenario("weekly", "weekly", False, {"window": 6}, repeat=True),
            scenario("weekly-geo", "weekly", True, {"rain_effect": 0.2}),
        ],
        mlproject=PYTHON_MODEL,
        run_args=("--config-format", "flat"),
        info={"id": "weekly-level-python", "period_type": "weekly", "required_covariates": ["rainfall"]},
    ),
]
BY_NAME = {service.name: service for service in SERVICES}


def _template_env(project: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(project), "LOG_LEVEL": "warning"}
    for name in ("DATABASE_URL", "CHAPKIT_DATABASE_URL"):
        env.pop(name, None)
    return env


def _make_failing(project: Path) -> None:
    """Put a guard at the top of both scripts: the config's `fail_in` names the stage that fails."""
    for stage in ("train", "predict"):
        script = project / "failing_model" / "scripts" / f"{stage}.py"
        guard = FAIL_GUARD.format(stage=stage, message=FAILURES[stage])
        script.write_text(guard + script.read_text())


def _start(
    service: Service, directory: Path, installed_project: Callable[[str], InstalledProject]
) -> AbstractContextManager[str]:
    """Start the service's server process; the context yields its base URL.

    A template's service is the generated project installed into a fresh venv from a copy outside this
    checkout (`installed_project`), served as its README says; the failing variant runs from this
    checkout's chapkit with the project on PYTHONPATH.
    """
    port = free_port()
    if service.mlproject is not None:
        model = copy_mlproject(service.mlproject, directory / service.mlproject, venv=service.mlproject == PYTHON_MODEL)
        command = [sys.executable, "-m", "chapkit", "mlproject", "run", str(model), "--port", str(port)]
        return running_server([*command, *service.run_args], directory, _template_env(directory), port)
    if service.template is None:
        env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
        env.pop("CHAPKIT_DATABASE_URL", None)
        return running_server([sys.executable, "-m", "chapkit"], directory, env, port)
    if not service.failing:
        installed = installed_project(service.template)
        serve = installed.command(installed.next_lines[1])
        env = installed.env(HOST="127.0.0.1", PORT=str(port), DATABASE_URL=f"sqlite+aiosqlite:///{directory}/c.db")
        return running_server(serve, directory, env, port)
    project = directory / "failing-model"
    created = chapkit("init", "failing-model", "--template", service.template, "--directory", str(project))
    assert created.exit_code == 0, created.output
    _make_failing(project)
    command = [sys.executable, "-m", "chapkit", "serve", "failing_model.service:create_app", "--factory"]
    return running_server([*command, "--port", str(port)], project, _template_env(project), port)


def _drive(service: Service, directory: Path, installed_project: Callable[[str], InstalledProject]) -> dict[str, Any]:
    """Start the service, run the driver under chap-core's Python against it, return its summary."""
    with _start(service, directory, installed_project) as base:
        plan = json.dumps({"url": base, "scenarios": service.scenarios})
        finished = subprocess.run(
            [CHAP_CORE_PYTHON, "-I", str(DRIVER)],
            input=plan,
            capture_output=True,
            text=True,
            cwd=directory,
            timeout=600,  # a hang guard only: a run takes seconds
            check=False,
        )
    assert finished.returncode == 0, f"the driver failed:\n{finished.stderr[-6000:]}"
    summary: dict[str, Any] = json.loads(finished.stdout)
    return summary


@pytest.fixture(scope="module")
def chap_core_run(
    tmp_path_factory: pytest.TempPathFactory, installed_project: Callable[[str], InstalledProject]
) -> Iterator[Callable[[str], dict[str, Any]]]:
    """Each service's driver summary, made once per module the first time a case asks for it."""
    driven = Once(lambda name: _drive(BY_NAME[name], tmp_path_factory.mktemp(name), installed_project))

    def summary(name: str) -> dict[str, Any]:
        service = BY_NAME[name]
        if service.needs and shutil.which(service.needs) is None:
            pytest.skip(f"the {name} service needs {service.needs}")
        reason = missing_for(service.template) if service.template else None
        if reason is not None:
            pytest.skip(reason)
        return driven(name)  # every case of the service reports the same failure

    yield summary


SUCCESS_CASES = [
    pytest.param(service.name, item["name"], id=f"{service.name}-{item['name']}")
    for service in SERVICES
    for item in service.scenarios
    if item["expect"] == "success"
]


@pytest.mark.parametrize(("service", "name"), SUCCESS_CASES)
def test_chap_core_trains_and_predicts_samples(
    chap_core_run: Callable[[str], dict[str, Any]], service: str, name: str
) -> None:
    """chap-core gets a DataSet[Samples] for every future location and period, with real draws."""
    result = chap_core_run(service)["scenarios"][name]
    assert result["error"] is None, f"{result['stage']}: {result['error_type']}: {result['error']}"
    assert result["locations"] == result["expected_locations"]
    assert result["periods"] == result["expected_periods"]
    assert result["all_finite"]
    expected = BY_NAME[service].sample_count
    if expected is None:
        assert min(result["sample_counts"]) > 1, result["sample_counts"]
    else:
        assert result["sample_counts"] == [expected]
    assert result["rows_with_one_value"] == 0  # draws, not copies of one number
    observed = result["observed_mean"]
    assert observed / 4 <= result["sample_mean"] <= observed * 4, (result["sample_mean"], observed)
    if "repeat_identical" in result:
        assert result["repeat_identical"], "two identical requests gave different samples"


@pytest.mark.parametrize("service", [service.name for service in SERVICES if service.info])
def test_chap_core_reads_the_service_info(chap_core_run: Callable[[str], dict[str, Any]], service: str) -> None:
    """chap-core's own MLServiceInfo accepts /api/v1/info, with the period type and covariates declared."""
    info = chap_core_run(service)["info"]
    assert "error" not in info, info.get("error")
    for key, value in BY_NAME[service].info.items():
        assert info[key] == value, key


@pytest.mark.parametrize("stage", ["train", "predict"])
def test_a_failing_script_gives_chap_core_its_stderr(
    chap_core_run: Callable[[str], dict[str, Any]], stage: str
) -> None:
    """A script that exits 1 fails chap-core's call with an error that carries the script's stderr."""
    result = chap_core_run("failing-shell-py")["scenarios"][f"{stage}-fails"]
    assert result["stage"] == stage, result
    assert result["error_type"] == "chap_core.exceptions.ModelFailedException", result["error"]
    assert FAILURES[stage] in result["error"]
