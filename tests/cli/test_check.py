"""`chapkit check URL` against a real main-job server process, and the data it checks with."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from chapkit.cli.check import NO_DATA, choose_data
from chapkit.cli.client import ServiceClient, ServiceError
from chapkit.cli.sample_data import bundled, from_csv, generate, periods_after
from tests.cli.support import chapkit
from tests.e2e.test_main_job import free_port, running_main_job


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_main_job(tmp_path_factory.mktemp("service"), free_port()) as url:
        yield url


def _contents(base: str) -> dict[str, set[str]]:
    """The ids of every config, job and artifact the service holds."""
    return {
        kind: {row["id"] for row in httpx.get(f"{base}/api/v1/{kind}").json()}
        for kind in ("configs", "jobs", "artifacts")
    }


def test_check_passes_on_data_generated_from_the_service_info_and_leaves_nothing_behind(base: str) -> None:
    before = _contents(base)
    result = chapkit("check", base, "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] and report["data"] == "generated from the service's covariates"
    names = [step["name"] for step in report["steps"]]
    assert names == ["config", "$validate", "$train", "$predict", "predictions", "cleanup"]
    assert report["steps"][-1]["detail"] == "deleted 1 config, 2 jobs, 2 artifacts"
    assert _contents(base) == before
    table = chapkit("check", base)
    assert table.exit_code == 0 and "predictions" in table.stdout and "FAILED" not in table.stdout
    assert _contents(base) == before


def test_check_keep_leaves_what_it_created(base: str) -> None:
    before = _contents(base)
    result = chapkit("check", base, "--keep", "--json")
    assert result.exit_code == 0, result.output
    assert "cleanup" not in [step["name"] for step in json.loads(result.stdout)["steps"]]
    after = _contents(base)
    assert [len(after[kind] - before[kind]) for kind in ("configs", "jobs", "artifacts")] == [1, 2, 2]


def test_check_stops_after_a_failed_validate_and_cleans_up(base: str, tmp_path: Path) -> None:
    before = _contents(base)
    csv = tmp_path / "no_temperature.csv"  # the service requires mean_temperature
    lines = ["time_period,location,rainfall,disease_cases"]
    lines += [f"2023-{month:02d},here,{10 + month},{month + 5}" for month in range(1, 13)]
    csv.write_text("\n".join(lines) + "\n")
    result = chapkit("check", base, "--data", str(csv), "--json")
    assert result.exit_code == 1, result.output
    steps = json.loads(result.stdout)["steps"]
    assert [(step["name"], step["ok"]) for step in steps] == [("config", True), ("$validate", False), ("cleanup", True)]
    assert "mean_temperature" in steps[1]["detail"]
    assert _contents(base) == before


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
        report["data"] == "from data.csv" and report["steps"][-2]["detail"] == "2 rows (expected 2), 100 sample(s) each"
    )


def test_check_fails_with_a_non_zero_exit(base: str) -> None:
    result = chapkit("check", base, "--config", '{"ridge": "lots"}')
    assert result.exit_code == 1
    assert "FAILED" in result.stdout


def test_check_fails_when_the_service_is_down_and_says_no_data_was_used() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = chapkit("check", url, "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["data"] == NO_DATA
    assert [step["name"] for step in report["steps"]] == ["service"] and "cannot reach" in report["steps"][0]["detail"]
    table = chapkit("check", url)
    assert table.exit_code == 1 and "bundled" not in table.stdout and f"data: {NO_DATA}" in table.stdout


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'time_period,location\n"2024-01,a\n',
        b"\xff\xfe\x00binary",
        b"time_period,location,disease_cases\n2024-1x,a,1\n",
    ],
    ids=["empty", "unclosed quote", "not text", "bad period"],
)
def test_a_bad_csv_is_one_line_that_names_the_file(base: str, tmp_path: Path, content: bytes) -> None:
    csv = tmp_path / "my_cases.csv"
    csv.write_bytes(content)
    result = chapkit("check", base, "--data", str(csv))
    assert result.exit_code == 2, result.output
    assert "my_cases.csv" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


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


class WithoutInfo(ServiceClient):
    """A client whose service has no info route."""

    def __init__(self) -> None:
        pass

    def get(self, path: str, **params: object) -> object:
        raise ServiceError(f"GET {path}: 404 Not Found", 404)


def test_a_service_without_info_is_checked_with_the_bundled_samples() -> None:
    data, info = choose_data(WithoutInfo(), None)
    assert info is None and data == bundled()


def test_an_unreachable_service_gets_no_data() -> None:
    with pytest.raises(ServiceError, match="cannot reach"):
        choose_data(ServiceClient(f"http://127.0.0.1:{free_port()}"), None)


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


def test_check_help_says_what_it_deletes_and_how_to_keep_it() -> None:
    result = chapkit("check", "--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "deletes the config, jobs, model and predictions it created" in text and "--keep" in text
