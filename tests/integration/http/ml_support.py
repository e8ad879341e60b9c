"""A small ML service for HTTP tests: a least-squares model of `y` on `x`, and helpers to drive jobs."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pandas as pd

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    FunctionalModelRunner,
    MLServiceBuilder,
    MLServiceInfo,
    ModelRunnerProtocol,
)

ML = "/api/v1/ml"
HIERARCHY = ArtifactHierarchy(name="slope", level_labels={0: "trained_model", 1: "prediction"})
TERMINAL = {"completed", "failed", "canceled"}


class SlopeConfig(BaseConfig):
    scale: float = 1.0


def train_slope(config: SlopeConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    slope = float((data["x"] * data["y"]).sum() / (data["x"] * data["x"]).sum())
    return {"slope": slope * config.scale}


def predict_slope(
    config: SlopeConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    out = future.copy()
    out["y"] = future["x"] * model["slope"]
    return out


def slope_runner() -> FunctionalModelRunner[SlopeConfig]:
    return FunctionalModelRunner(on_train=train_slope, on_predict=predict_slope)


def ml_service(
    url: str, runner: ModelRunnerProtocol | None = None, info: MLServiceInfo | None = None
) -> MLServiceBuilder:
    return MLServiceBuilder(
        info=info or MLServiceInfo(display_name="Slope"),
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=runner or slope_runner(),
        database_url=url,
        include_logging=False,
    )


def frame(columns: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    return {"columns": columns, "data": rows}


TRAIN_DATA = frame(["x", "y"], [[1.0, 2.0], [2.0, 4.0], [3.0, 6.0]])
FUTURE = frame(["x"], [[4.0], [5.0]])


async def create_config(client: httpx.AsyncClient, **data: Any) -> str:
    response = await client.post("/api/v1/configs", json={"name": "slope", "data": data})
    assert response.status_code == 201, response.text
    config_id: str = response.json()["id"]
    return config_id


async def wait_for_job(client: httpx.AsyncClient, job_id: str, timeout: float = 30.0) -> dict[str, Any]:
    """Poll the job until it is finished; return its record."""
    async with asyncio.timeout(timeout):
        while True:
            record: dict[str, Any] = (await client.get(f"/api/v1/jobs/{job_id}")).json()
            if record["status"] in TERMINAL:
                return record
            await asyncio.sleep(0.01)


async def train(client: httpx.AsyncClient, config_id: str, data: dict[str, Any] | None = None) -> dict[str, Any]:
    """Submit a training job (expecting 202) and return the submission's answer."""
    response = await client.post(f"{ML}/$train", json={"config_id": config_id, "data": data or TRAIN_DATA})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    return body


async def trained_model(client: httpx.AsyncClient, config_id: str) -> str:
    """Train and wait; return the model artifact id."""
    submitted = await train(client, config_id)
    record = await wait_for_job(client, submitted["job_id"])
    assert record["status"] == "completed", record
    model_id: str = submitted["model_artifact_id"]
    return model_id


async def predict(
    client: httpx.AsyncClient, model_id: str, future: dict[str, Any] | None = None, **extra: Any
) -> httpx.Response:
    body = {"model_artifact_id": model_id, "historic": TRAIN_DATA, "future": future or FUTURE, **extra}
    return await client.post(f"{ML}/$predict", json=body)


async def artifact_ids(client: httpx.AsyncClient) -> list[str]:
    return [artifact["id"] for artifact in (await client.get("/api/v1/artifacts")).json()]
