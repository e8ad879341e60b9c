"""A prediction keeps the recent history of its target, so a plot can draw what came before the forecast.

The last 52 periods per location of the request's `historic` frame (`location`, `time_period` and the
service's target column), sorted by time period: in the reference's shape as `history` in the data, in
the newer contract's shape inside `metadata`. A historic frame without the target stores no history
(`null`); one without `location` is one series.
"""

from __future__ import annotations

import random
from typing import Any

import httpx
import pandas as pd
import pytest

from chapkit import BaseConfig, FunctionalModelRunner, MLServiceInfo
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import ML, create_config, frame, ml_service, wait_for_job

CHAP_PREDICTION_KEYS = {"type", "metadata", "content", "content_type", "content_size"}


def months(count: int) -> list[str]:
    """`count` consecutive months from 2019-01, as ISO periods."""
    return [f"{2019 + index // 12}-{index % 12 + 1:02d}" for index in range(count)]


def historic(target: str = "disease_cases", locations: tuple[str, ...] = ("b", "a"), count: int = 60) -> Any:
    """`count` months of `target` per location, rows shuffled: the target is 1000 * location + month index."""
    rows = [
        [period, location, 1.0, float(1000 * number + index)]
        for number, location in enumerate(locations)
        for index, period in enumerate(months(count))
    ]
    random.Random(7).shuffle(rows)
    return frame(["time_period", "location", "rain", target], rows)


FUTURE = frame(["time_period", "location", "rain"], [["2024-01", "a", 1.0], ["2024-01", "b", 1.0]])


def train_level(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    return {"level": 5.0}


def predict_level(
    config: BaseConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    for name in ("disease_cases", "cases"):  # what the model does with its input does not change the history
        if name in historic.columns:
            historic[name] = -1.0
    return future.assign(disease_cases=model["level"], cases=model["level"])


async def predicted(client: httpx.AsyncClient, generation: str, historic_frame: Any, future: Any = FUTURE) -> Any:
    """Train on the historic frame, predict in the contract's `generation`; the prediction's stored data."""
    config_id = await create_config(client)
    submitted = (await client.post(f"{ML}/$train", json={"config_id": config_id, "data": historic_frame})).json()
    assert (await wait_for_job(client, submitted["job_id"]))["status"] == "completed"
    model_name = "artifact_id" if generation == "chap" else "model_artifact_id"
    body = {model_name: submitted["artifact_id"], "historic": historic_frame, "future": future}
    response = await client.post(f"{ML}/$predict", json=body)
    assert response.status_code == 202, response.text
    record = await wait_for_job(client, response.json()["job_id"])
    assert record["status"] == "completed", record["error"]
    return (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]


def history_of(data: dict[str, Any], generation: str) -> Any:
    """The stored history, where each generation's shape keeps it."""
    if generation == "chap":
        assert set(data) == CHAP_PREDICTION_KEYS  # chap-core's reader forbids any other member here
        return data["metadata"]["history"]
    return data["history"]


def service(url: str, target: str | None = None) -> Any:
    info = MLServiceInfo(display_name="Level") if target is None else MLServiceInfo(display_name="Level", target=target)
    runner = FunctionalModelRunner(on_train=train_level, on_predict=predict_level)
    return ml_service(url, runner=runner, info=info).build()


@pytest.mark.parametrize("generation", ["reference", "chap"])
async def test_a_prediction_keeps_the_last_52_periods_per_location(storage_url: str, generation: str) -> None:
    async with serve(service(storage_url)) as client:
        data = await predicted(client, generation, historic())
    history = history_of(data, generation)
    assert history["columns"] == ["location", "time_period", "disease_cases"]
    kept = months(60)[-52:]
    expected = [
        [location, period, float(1000 * number + 8 + index)]
        for number, location in [(1, "a"), (0, "b")]
        for index, period in enumerate(kept)
    ]
    assert history["data"] == expected
    if generation == "chap":  # the forecast itself is as before
        assert data["metadata"]["status"] == "success" and "sample_0" in data["content"]["columns"]
    else:
        assert data["predictions"]["columns"] == ["time_period", "location", "rain", "disease_cases", "cases"]


@pytest.mark.parametrize("generation", ["reference", "chap"])
async def test_a_historic_frame_without_the_target_keeps_no_history(storage_url: str, generation: str) -> None:
    without_target = historic(target="other")
    async with serve(service(storage_url)) as client:
        data = await predicted(client, generation, without_target)
    assert history_of(data, generation) is None


async def test_the_history_is_of_the_services_target(storage_url: str) -> None:
    async with serve(service(storage_url, target="cases")) as client:
        data = await predicted(client, "chap", historic(target="cases", locations=("a",), count=3))
    assert data["metadata"]["history"] == {
        "columns": ["location", "time_period", "cases"],
        "data": [["a", "2019-01", 0.0], ["a", "2019-02", 1.0], ["a", "2019-03", 2.0]],
    }


async def test_a_historic_frame_without_locations_is_one_series(storage_url: str) -> None:
    rows = [[period, float(index)] for index, period in enumerate(months(55))]
    rows.reverse()
    one_series = frame(["time_period", "disease_cases"], rows)
    future = frame(["time_period"], [["2024-01"]])
    async with serve(service(storage_url)) as client:
        data = await predicted(client, "reference", one_series, future)
    assert data["history"] == {
        "columns": ["time_period", "disease_cases"],
        "data": [[period, float(index + 3)] for index, period in enumerate(months(55)[-52:])],
    }
