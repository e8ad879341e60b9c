"""`chapkit check URL` against a real main-job server process, and the data it checks with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from chapkit.cli.check import choose_data
from chapkit.cli.client import ServiceClient
from chapkit.cli.sample_data import bundled, from_csv, generate, periods_after
from tests.cli.support import chapkit
from tests.e2e.test_main_job import free_port, running_main_job


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_main_job(tmp_path_factory.mktemp("service"), free_port()) as url:
        yield url


def test_check_passes_on_data_generated_from_the_service_info(base: str) -> None:
    result = chapkit("check", base, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["data"] == "generated from the service's covariates"
    assert [step["name"] for step in report["steps"]] == ["config", "$validate", "$train", "$predict", "predictions"]
    table = chapkit("check", base)
    assert table.exit_code == 0 and "predictions" in table.stdout and "FAILED" not in table.stdout


def test_check_with_a_csv(base: str, tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    lines = ["time_period,location,rainfall,mean_temperature,disease_cases"]
    lines += [
        f"2023-{month:02d},here,{10 + month * 7 % 11},{20 + month % 4},{month * 3 % 7 + 5}" for month in range(1, 13)
    ]
    lines += ["2024-01,here,30,21,", "2024-02,here,35,22,"]
    csv.write_text("\n".join(lines) + "\n")
    result = chapkit("check", base, "--data", str(csv), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (
        report["data"] == "from data.csv" and report["steps"][-1]["detail"] == "2 rows (expected 2), 100 sample(s) each"
    )


def test_check_fails_with_a_non_zero_exit(base: str) -> None:
    result = chapkit("check", base, "--config", '{"ridge": "lots"}')
    assert result.exit_code == 1
    assert "FAILED" in result.stdout


def test_check_fails_when_the_service_is_down() -> None:
    result = chapkit("check", f"http://127.0.0.1:{free_port()}", "--json")
    assert result.exit_code == 1 and json.loads(result.stdout)["ok"] is False


def test_periods_follow_months_and_iso_weeks() -> None:
    assert periods_after("2024-11", 3) == ["2024-12", "2025-01", "2025-02"]
    assert periods_after("2020-W52", 2) == ["2020-W53", "2021-W01"]
    with pytest.raises(ValueError, match="neither"):
        periods_after("2024", 1)


@pytest.mark.parametrize("period_type", ["weekly", "week"])  # the info serves `weekly`; `week` is its alias
def test_generated_data_has_the_declared_covariates_and_periods(period_type: str) -> None:
    data = generate(["rain", "heat", "humidity"], period_type, history=10, horizon=2)
    assert data.train["columns"] == ["time_period", "location", "rain", "heat", "humidity", "disease_cases"]
    assert data.future["columns"] == ["time_period", "location", "rain", "heat", "humidity"]
    assert all(re.match(r"^\d{4}-W\d{2}$", row[0]) for row in data.train["data"] + data.future["data"])
    assert len(data.train["data"]) == 20 and len(data.future["data"]) == 4


def test_a_csv_without_rows_to_predict_predicts_the_next_periods(tmp_path: Path) -> None:
    csv = tmp_path / "data.csv"
    csv.write_text("time_period,location,rain,disease_cases\n2024-01,a,1,2\n2024-02,a,3,4\n")
    data = from_csv(csv, horizon=2)
    assert [row[0] for row in data.future["data"]] == ["2024-03", "2024-04"]
    (tmp_path / "bad.csv").write_text("location,rain\na,1\n")
    with pytest.raises(ValueError, match="time_period"):
        from_csv(tmp_path / "bad.csv")


def test_a_service_without_info_is_checked_with_the_bundled_samples() -> None:
    data, info = choose_data(ServiceClient(f"http://127.0.0.1:{free_port()}"), None)
    assert info is None and data == bundled()


class InfoOnly(ServiceClient):
    """A client whose service only answers its info."""

    def __init__(self, info: dict[str, object]) -> None:
        self.info = info

    def get(self, path: str, **params: object) -> object:
        assert path == "/api/v1/info"
        return self.info


@pytest.mark.parametrize("period_type", ["weekly", "week"])
def test_generated_data_follows_chap_cores_period_names_and_the_declared_bounds(period_type: str) -> None:
    info = {"required_covariates": ["rain"], "period_type": period_type, "min_prediction_periods": 4}
    data, _ = choose_data(InfoOnly({**info, "max_prediction_periods": 8}), None)
    assert all(re.match(r"^\d{4}-W\d{2}$", row[0]) for row in data.future["data"])
    assert len({row[0] for row in data.future["data"]}) == 4
    monthly, _ = choose_data(InfoOnly({"required_covariates": ["rain"], "period_type": "any"}), None)
    assert re.match(r"^\d{4}-\d{2}$", monthly.future["data"][0][0])
