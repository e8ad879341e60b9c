"""The web console in a real browser (Playwright driving the system Chromium) against a real demo service process.

Screenshots of each page at 1280x800 and 390x844 are written under `screenshots/` (kept out of git).
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from chapkit.demo.main_service import SAMPLES
from tests.e2e.browser import require_browser
from tests.e2e.console_auth_service import API_KEY
from tests.e2e.console_failing_service import STDERR
from tests.support.server import free_port, running_server

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "screenshots"
SIZES = {"desktop": (1280, 800), "phone": (390, 844)}
TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    path = require_browser()
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=["--no-sandbox"], headless=True)
        try:
            yield launched
        finally:
            launched.close()


def service_env(port: int) -> dict[str, str]:
    env = {**os.environ, "PORT": str(port), "HOST": "127.0.0.1", "LOG_LEVEL": "warning"}
    env.pop("CHAPKIT_DATABASE_URL", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("console-demo")
    port = free_port()
    with running_server([sys.executable, "-m", "chapkit"], directory, service_env(port), port) as base:
        yield base


def write_csv(frame: dict[str, Any], path: Path) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(frame["columns"])
        writer.writerows(frame["data"])
    return path


def open_page(page: Page, base: str, route: str, name: str) -> None:
    page.goto(f"{base}/{route}")
    wait_ready(page, name)


def wait_ready(page: Page, name: str) -> None:
    page.wait_for_selector(f'.page[data-page="{name}"][data-ready="true"]', timeout=TIMEOUT_MS)


def shoot(page: Page, name: str) -> None:
    """Screenshots at both sizes; at phone width nothing may stick out sideways (tables scroll in their box)."""
    SHOTS.mkdir(exist_ok=True)
    for size, (width, height) in SIZES.items():
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(SHOTS / f"{name}-{size}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 1, f"{name} is {overflow}px wider than a {width}px screen"
    page.set_viewport_size({"width": 1280, "height": 800})


def hash_id(page: Page) -> str:
    return page.evaluate("location.hash").rstrip("/").rsplit("/", 1)[-1].split("?")[0]


def run_job(page: Page) -> None:
    """Validate, submit and follow the job on a Train or Predict page until it completes."""
    page.click("#validate")
    page.wait_for_selector('#validation-result[data-valid="true"]', timeout=TIMEOUT_MS)
    page.click("#submit")
    page.wait_for_selector('#job-status[data-status="completed"]', timeout=TIMEOUT_MS)


def test_console_trains_predicts_and_plots_the_forecast(browser: Browser, demo: str, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))

    # Overview: the service described for people.
    open_page(page, demo, "", "overview")
    assert page.inner_text("#overview-title") == "chapkit"
    assert page.locator("#covariates .chip").all_inner_texts() == ["rainfall", "mean_temperature"]
    assert page.get_attribute("#assessed-status", "data-status") == "red"
    assert "Experimental prototype" in page.inner_text("#assessed-status")
    assert page.locator("#service-description code").first.inner_text() == "rainfall"
    page.wait_for_selector("#health .badge")
    assert page.inner_text("#health") == "healthy"
    assert page.locator('a[href="/docs"]').count() == 1
    assert "/api/v1/jobs" in page.inner_text("#offers")
    shoot(page, "overview")

    # Configs: a form from the schema; a value out of bounds is refused at its field.
    open_page(page, demo, "#/configs/new", "configs")
    page.fill("#field-name", "console e2e")
    assert page.input_value("#field-data-features") == "rainfall\nmean_temperature"
    page.fill("#field-data-samples", "5000")
    page.click("#save-config")
    error = page.locator("#field-data-samples-error")
    error.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert "1000" in error.inner_text()
    assert page.get_attribute("#field-data-samples", "aria-invalid") == "true"
    shoot(page, "config-form")
    page.fill("#field-data-samples", "200")
    page.click("#save-config")
    page.wait_for_function("/^#\\/configs\\/[0-9A-Z]{26}$/.test(location.hash)", timeout=TIMEOUT_MS)
    config_id = hash_id(page)
    stored = httpx.get(f"{demo}/api/v1/configs/{config_id}").json()
    assert stored["name"] == "console e2e"
    assert stored["data"]["samples"] == 200 and stored["data"]["features"] == ["rainfall", "mean_temperature"]
    wait_ready(page, "configs")
    open_page(page, demo, "#/configs", "configs")
    assert "console e2e" in page.inner_text("#configs")
    shoot(page, "configs")

    # Train from the bundled sample's data frame, uploaded as CSV.
    train = json.loads((SAMPLES / "train.json").read_text())
    open_page(page, demo, f"#/train?config={config_id}", "train")
    page.set_input_files("#data-csv", str(write_csv(train["data"], tmp_path / "train.csv")))
    run_job(page)
    shoot(page, "train")
    page.click("#result-link")
    wait_ready(page, "models")
    model_id = hash_id(page)
    assert httpx.get(f"{demo}/api/v1/artifacts/{model_id}?content=false").json()["data"]["ml_type"] == "trained_model"

    # Predict with that model.
    predict = json.loads((SAMPLES / "predict.json").read_text())
    open_page(page, demo, f"#/predict?model={model_id}", "predict")
    page.set_input_files("#historic-csv", str(write_csv(predict["historic"], tmp_path / "historic.csv")))
    page.set_input_files("#future-csv", str(write_csv(predict["future"], tmp_path / "future.csv")))
    run_job(page)
    shoot(page, "predict")
    page.click("#result-link")
    wait_ready(page, "forecast")
    prediction_id = hash_id(page)

    # The plotted median and bands are the quantiles of the API's samples, per location.
    artifact = httpx.get(f"{demo}/api/v1/artifacts/{prediction_id}").json()
    frame = artifact["data"]["predictions"]
    columns = frame["columns"]
    samples = [i for i, name in enumerate(columns) if name.startswith("sample_")]
    assert len(samples) == 200
    locations = sorted({row[columns.index("location")] for row in frame["data"]})
    assert page.locator("#location-picker option").all_inner_texts() == locations
    for location in locations:
        page.select_option("#location-picker", location)
        plotted = json.loads(page.inner_text("#plot-data"))
        assert plotted["location"] == location
        rows = sorted(
            (row for row in frame["data"] if row[columns.index("location")] == location),
            key=lambda row: row[columns.index("time_period")],
        )
        assert plotted["periods"] == [row[columns.index("time_period")] for row in rows]
        values = np.array([[row[i] for i in samples] for row in rows], dtype=float)
        for key, level in {"q05": 5, "q25": 25, "median": 50, "q75": 75, "q95": 95}.items():
            np.testing.assert_allclose(plotted[key], np.percentile(values, level, axis=1), rtol=1e-9)
        drawn = json.loads(page.get_attribute("#plot polyline.median", "data-median") or "[]")
        np.testing.assert_allclose(drawn, np.percentile(values, 50, axis=1), rtol=1e-9)
        assert page.locator("#plot polygon.band-outer").count() == 1
        assert page.locator("#plot polygon.band-inner").count() == 1
        # The history the prediction stored (the request's last periods of the target) is drawn before it.
        history = artifact["data"]["history"]
        where = {name: history["columns"].index(name) for name in ("location", "time_period", "disease_cases")}
        stored = {
            row[where["time_period"]]: row[where["disease_cases"]]
            for row in history["data"]
            if row[where["location"]] == location
        }
        assert stored and plotted["history"] == stored
        assert page.locator("#plot polyline.history").count() == 1
    page.select_option("#location-picker", locations[0])
    shoot(page, "forecast")

    # The CSV download is the API's prediction table.
    with page.expect_download() as download_info:
        page.click("#download-csv")
    downloaded = Path(download_info.value.path()).read_text()
    assert downloaded == httpx.get(f"{demo}/api/v1/artifacts/{prediction_id}/$download?format=csv").text
    table = list(csv.reader(io.StringIO(downloaded)))
    assert table[0] == columns
    assert len(table) - 1 == len(frame["data"])
    np.testing.assert_allclose([float(v) for v in table[1][samples[0] :]], frame["data"][0][samples[0] :])

    # Models (with the comparison), the model's predictions, jobs and system.
    open_page(page, demo, "#/models", "models")
    page.check(f'input[data-model="{model_id}"]')
    page.click("#compare-button")
    page.wait_for_selector("#compare")
    shoot(page, "models")
    open_page(page, demo, f"#/models/{model_id}", "models")
    assert page.locator(f'#predictions a[href="#/predictions/{prediction_id}"]').count() == 1
    # The metrics the demo model reports (in-sample RMSE and MAE) are shown as stored.
    metrics = httpx.get(f"{demo}/api/v1/artifacts/{model_id}").json()["data"]["metrics"]
    assert set(metrics) == {"rmse", "mae"}
    assert page.locator("#metrics tbody tr").all_inner_texts()[0].split()[0] in metrics
    assert page.locator("#metrics tbody tr").count() == 2
    shoot(page, "model")
    open_page(page, demo, "#/jobs", "jobs")
    page.wait_for_selector("#jobs tbody tr")
    assert page.locator("#jobs tbody tr").count() == 2
    assert page.locator("#jobs .status-completed").count() == 2
    page.select_option("#status-filter", "failed")
    page.wait_for_selector("#jobs-table >> text=No failed jobs.")
    shoot(page, "jobs")
    open_page(page, demo, "#/system", "system")
    assert "Landing Page" in page.inner_text("#apps")
    shoot(page, "system")

    # Deleting a config asks first.
    open_page(page, demo, f"#/configs/{config_id}", "configs")
    page.click("#delete-config")
    page.click(".confirm button.danger")
    page.wait_for_function("location.hash === '#/configs'", timeout=TIMEOUT_MS)
    assert httpx.get(f"{demo}/api/v1/configs/{config_id}").status_code == 404
    assert errors == []
    page.close()


def served(tmp_path_factory: pytest.TempPathFactory, app: str) -> Iterator[str]:
    """`chapkit serve APP` in a directory of its own; yields the base URL."""
    directory = tmp_path_factory.mktemp(app.rpartition(".")[2].partition(":")[0])
    port = free_port()
    command = [sys.executable, "-m", "chapkit", "serve", app]
    with running_server(command, directory, service_env(port), port) as base:
        yield base


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from served(tmp_path_factory, "tests.e2e.console_auth_service:app")


def test_console_under_auth_asks_for_the_key_and_keeps_it_in_the_tab(
    browser: Browser, keyed: str, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{keyed}/")
    page.wait_for_selector("#key-dialog[open]", timeout=TIMEOUT_MS)
    assert page.inner_text("#key-reason") == "This service needs an API key."
    page.fill("#key-input", "sk-wrong")
    page.press("#key-input", "Enter")
    page.wait_for_function("document.getElementById('key-reason').textContent.includes('not accepted')")
    page.fill("#key-input", API_KEY)
    page.press("#key-input", "Enter")
    wait_ready(page, "overview")
    assert page.inner_text("#overview-title") == "chapkit"
    assert page.evaluate("sessionStorage.getItem('chapkit-api-key')") == API_KEY
    assert page.evaluate("localStorage.length") == 0
    assert API_KEY not in page.url

    # The smoke flow with the key: a config, a model trained on generated data, a forecast.
    open_page(page, keyed, "#/configs/new", "configs")
    page.fill("#field-name", "keyed")
    page.click("#save-config")
    page.wait_for_function("/^#\\/configs\\/[0-9A-Z]{26}$/.test(location.hash)", timeout=TIMEOUT_MS)
    config_id = hash_id(page)
    open_page(page, keyed, f"#/train?config={config_id}", "train")
    page.check("#source-generate")
    run_job(page)
    page.click("#result-link")
    wait_ready(page, "models")
    model_id = hash_id(page)
    open_page(page, keyed, f"#/predict?model={model_id}", "predict")
    page.check("#source-generate")
    run_job(page)
    page.click("#result-link")
    wait_ready(page, "forecast")
    assert len(json.loads(page.inner_text("#plot-data"))["median"]) > 0
    shoot(page, "forecast-keyed")

    # A refused action shows the problem's detail: saving a config deleted meanwhile.
    open_page(page, keyed, f"#/configs/{config_id}", "configs")
    assert httpx.delete(f"{keyed}/api/v1/configs/{config_id}", headers={"X-API-Key": API_KEY}).status_code == 204
    page.click("#save-config")
    problem = page.locator("#config-problem")
    problem.wait_for(state="visible", timeout=TIMEOUT_MS)
    assert config_id in problem.inner_text() and "not found" in problem.inner_text()
    page.close()


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from served(tmp_path_factory, "tests.e2e.console_failing_service:app")


def test_a_failing_model_shows_its_stderr_where_the_job_is_followed(
    browser: Browser, failing: str, tmp_path: Path
) -> None:
    config = httpx.post(f"{failing}/api/v1/configs", json={"name": "fails", "data": {}})
    assert config.status_code == 201, config.text
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    train = json.loads((SAMPLES / "train.json").read_text())
    open_page(page, failing, f"#/train?config={config.json()['id']}", "train")
    page.set_input_files("#data-csv", str(write_csv(train["data"], tmp_path / "train.csv")))
    page.click("#validate")
    page.wait_for_selector('#validation-result[data-valid="true"]', timeout=TIMEOUT_MS)
    page.click("#submit")
    page.wait_for_selector('#job-status[data-status="failed"]', timeout=TIMEOUT_MS)
    shown = page.inner_text(".job-error")
    assert STDERR in shown and "exit code 3" in shown
    shoot(page, "train-failed")

    # The jobs page shows the same error for that job.
    open_page(page, failing, "#/jobs", "jobs")
    page.wait_for_selector(".job-error", timeout=TIMEOUT_MS)
    assert STDERR in page.inner_text("#jobs")
    page.close()
