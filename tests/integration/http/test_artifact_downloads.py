"""`$download`, `$metadata` and `?content=false` over HTTP, on every storage (D24)."""

from __future__ import annotations

import io
import json
import pickle
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pandas as pd
import pytest
from fastapi import APIRouter, Depends
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactManager,
    ServiceBuilder,
    ServiceInfo,
    get_artifact_manager,
)
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import create_config as create_ml_config
from tests.integration.http.ml_support import ml_service, predict, trained_model, wait_for_job
from tests.integration.http.test_configs import ARTIFACTS, create_artifact, create_config, problem, service
from tests.support.artifacts import TrainedModel

FRAME = {"columns": ["location", "time_period", "sample_0"], "data": [["a", "2024-01", 1.5], ["b", "2024-02", 2.5]]}
METADATA = {"status": "failed", "config_id": "c", "started_at": "s", "completed_at": "e", "duration_seconds": 0.5}
ZIP = b"PK\x05\x06" + b"\x00" * 18
STORED: dict[str, dict[str, Any]] = {
    "model": {"ml_type": "trained_model", "config_id": "c", "model": TrainedModel([0.5, 1.5]), "model_type": "T"},
    "reference_prediction": {"ml_type": "prediction", "config_id": "c", "model_artifact_id": "m", "predictions": FRAME},
    "chap_prediction": {
        "type": "ml_prediction",
        "metadata": {**METADATA, "status": "success"},
        "content": FRAME,
        "content_type": "application/vnd.chapkit.dataframe+json",
        "content_size": None,
    },
    "workspace": {
        "type": "ml_training_workspace",
        "metadata": {**METADATA, "exit_code": 1, "stderr": "Traceback: boom"},
        "content": ZIP,
        "content_type": "application/zip",
        "content_size": len(ZIP),
    },
    "empty_workspace": {"type": "ml_prediction_workspace", "metadata": METADATA, "content": None},
}


@pytest.fixture
async def client(storage_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """A service with a route that stores the Python objects ML runs store (no JSON can carry them)."""
    router = APIRouter()

    @router.post("/custom/stored")
    async def store(manager: ArtifactManager = Depends(get_artifact_manager)) -> dict[str, str]:
        ids = {}
        for name, data in STORED.items():
            ids[name] = str((await manager.save(ArtifactIn(data=data))).id)
        return ids

    builder: ServiceBuilder = service(storage_url).include_router(router)
    async with serve(builder.build()) as client:
        yield client


async def stored(client: httpx.AsyncClient) -> dict[str, str]:
    response = await client.post("/custom/stored")
    assert response.status_code == 200, response.text
    ids: dict[str, str] = response.json()
    return ids


def attachment(response: httpx.Response, artifact_id: str, extension: str) -> bytes:
    assert response.status_code == 200, response.text
    expected = f"attachment; filename=artifact_{artifact_id}.{extension}"
    assert response.headers["content-disposition"] == expected
    return response.content


async def download(client: httpx.AsyncClient, artifact_id: str, **params: str) -> httpx.Response:
    return await client.get(f"{ARTIFACTS}/{artifact_id}/$download", params=params)


async def test_a_trained_model_downloads_as_its_pickle(client: httpx.AsyncClient) -> None:
    ids = await stored(client)
    response = await download(client, ids["model"])
    assert response.headers["content-type"] == "application/x-pickle"
    assert pickle.loads(attachment(response, ids["model"], "pkl")) == TrainedModel([0.5, 1.5])


@pytest.mark.parametrize("name", ["reference_prediction", "chap_prediction"])
async def test_predictions_download_in_every_format(client: httpx.AsyncClient, name: str) -> None:
    artifact_id = (await stored(client))[name]
    csv = await download(client, artifact_id, format="csv")
    assert csv.headers["content-type"] == "text/csv; charset=utf-8"
    expected = pd.DataFrame(FRAME["data"], columns=FRAME["columns"])
    assert pd.read_csv(io.BytesIO(attachment(csv, artifact_id, "csv"))).equals(expected)
    records = await download(client, artifact_id, format="json")
    assert json.loads(attachment(records, artifact_id, "json")) == expected.to_dict(orient="records")
    parquet = await download(client, artifact_id, format="parquet")
    assert parquet.headers["content-type"] == "application/vnd.apache.parquet"
    assert pd.read_parquet(io.BytesIO(attachment(parquet, artifact_id, "parquet"))).equals(expected)


async def test_the_default_format_is_csv_for_the_reference_shape_and_json_for_a_data_frame_content(
    client: httpx.AsyncClient,
) -> None:
    ids = await stored(client)
    attachment(await download(client, ids["reference_prediction"]), ids["reference_prediction"], "csv")
    attachment(await download(client, ids["chap_prediction"]), ids["chap_prediction"], "json")


async def test_a_workspace_downloads_as_its_zip(client: httpx.AsyncClient) -> None:
    ids = await stored(client)
    response = await download(client, ids["workspace"])
    assert response.headers["content-type"] == "application/zip"
    assert attachment(response, ids["workspace"], "zip") == ZIP


async def test_json_data_downloads_as_json(client: httpx.AsyncClient) -> None:
    artifact_id = await create_artifact(client, {"weights": [0.1, 0.2], "note": "posted"})
    response = await download(client, artifact_id)
    assert response.headers["content-type"] == "application/json"
    assert json.loads(attachment(response, artifact_id, "json")) == {"weights": [0.1, 0.2], "note": "posted"}


async def test_bad_downloads_are_problems(client: httpx.AsyncClient) -> None:
    ids = await stored(client)
    problem(await download(client, str(ULID())), 404, "not-found")
    problem(await download(client, "not-a-ulid"), 400, "invalid-ulid")
    problem(await download(client, ids["chap_prediction"], format="xml"), 400, "bad-request")
    # A model has no CSV form: the file asked for does not exist (404), though the artifact does.
    body = problem(await download(client, ids["model"], format="csv"), 404, "not-found")
    assert "tables only" in body["detail"]
    problem(await download(client, ids["empty_workspace"]), 404, "not-found")
    problem(await client.post(f"{ARTIFACTS}/{ids['model']}/$download"), 405)


async def test_parquet_without_pyarrow_is_a_406_naming_the_extra(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifact_id = (await stored(client))["reference_prediction"]
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    body = problem(await download(client, artifact_id, format="parquet"), 406, "not-acceptable")
    assert "chapkit[parquet]" in body["detail"] and body["missing_extra"] == "parquet"


async def test_metadata_is_the_metadata_object_or_empty(client: httpx.AsyncClient) -> None:
    ids = await stored(client)

    async def metadata(artifact_id: str) -> Any:
        response = await client.get(f"{ARTIFACTS}/{artifact_id}/$metadata")
        assert response.status_code == 200, response.text
        return response.json()

    assert await metadata(ids["workspace"]) == {**METADATA, "exit_code": 1, "stderr": "Traceback: boom"}
    assert await metadata(ids["model"]) == {}
    assert await metadata(await create_artifact(client, [1, 2])) == {}
    problem(await client.get(f"{ARTIFACTS}/{ULID()}/$metadata"), 404, "not-found")
    problem(await client.get(f"{ARTIFACTS}/nope/$metadata"), 400, "invalid-ulid")


async def test_reads_leave_content_out_when_asked_and_keep_it_by_default(client: httpx.AsyncClient) -> None:
    ids = await stored(client)
    child = await create_artifact(client, {"content": "child", "kept": 1}, parent=ids["workspace"])
    left_out = {"model": "model", "reference_prediction": "predictions", "chap_prediction": "content"}
    left_out |= {"workspace": "content", "empty_workspace": "content"}

    listed = {item["id"]: item["data"] for item in (await client.get(ARTIFACTS, params={"content": "false"})).json()}
    for name, member in left_out.items():
        assert member not in listed[ids[name]] and listed[ids[name]].keys() == STORED[name].keys() - {member}
    assert listed[child] == {"kept": 1}
    full = {item["id"]: item["data"] for item in (await client.get(ARTIFACTS)).json()}
    assert full[ids["reference_prediction"]]["predictions"] == FRAME and full[child]["content"] == "child"

    page = (await client.get(ARTIFACTS, params={"page": 1, "size": 2, "content": "false"})).json()
    assert page["total"] == 6 and "model" not in page["items"][0]["data"]

    one = (await client.get(f"{ARTIFACTS}/{ids['chap_prediction']}", params={"content": "false"})).json()
    assert one["data"]["metadata"]["status"] == "success" and "content" not in one["data"]
    assert (await client.get(f"{ARTIFACTS}/{ids['chap_prediction']}")).json()["data"]["content"] == FRAME

    tree = (await client.get(f"{ARTIFACTS}/{ids['workspace']}/$tree", params={"content": "false"})).json()
    assert "content" not in tree["data"] and tree["children"][0]["data"] == {"kept": 1}
    tree = (await client.get(f"{ARTIFACTS}/{ids['workspace']}/$tree")).json()
    assert tree["children"][0]["data"]["content"] == "child"

    expanded = (await client.get(f"{ARTIFACTS}/{ids['model']}/$expand", params={"content": "false"})).json()
    assert expanded["data"] == {"ml_type": "trained_model", "config_id": "c", "model_type": "T"}
    expanded = (await client.get(f"{ARTIFACTS}/{ids['model']}/$expand")).json()
    assert expanded["data"]["model"]["_type"] == "TrainedModel"

    problem(await client.get(ARTIFACTS, params={"content": "maybe"}), 422)


async def test_the_linked_config_still_shows_in_a_tree_without_content(client: httpx.AsyncClient) -> None:
    config = await create_config(client, "linked")
    root = await create_artifact(client, {"content": [1, 2, 3], "label": "x"})
    linked = await client.post(f"/api/v1/configs/{config['id']}/$link-artifact", json={"artifact_id": root})
    assert linked.status_code == 204
    tree = (await client.get(f"{ARTIFACTS}/{root}/$tree", params={"content": "false"})).json()
    assert tree["data"] == {"label": "x"} and tree["config"]["id"] == config["id"]


async def test_what_a_train_and_a_predict_store_downloads(storage_url: str) -> None:
    async with serve(ml_service(storage_url).build()) as client:
        model_id = await trained_model(client, await create_ml_config(client))
        assert pickle.loads(attachment(await download(client, model_id), model_id, "pkl")) == {"slope": 2.0}
        submitted = await predict(client, model_id)
        assert submitted.status_code == 202, submitted.text
        assert (await wait_for_job(client, submitted.json()["job_id"]))["status"] == "completed"
        prediction_id = submitted.json()["prediction_artifact_id"]
        csv = attachment(await download(client, prediction_id), prediction_id, "csv")
        assert pd.read_csv(io.BytesIO(csv)).to_dict(orient="list") == {"x": [4.0, 5.0], "y": [8.0, 10.0]}


async def test_without_read_permission_there_is_no_download_or_metadata() -> None:
    builder = ServiceBuilder(info=ServiceInfo(display_name="Write only")).with_database("memory://")
    builder.with_artifacts(hierarchy=ArtifactHierarchy(name="ml"), allow_read=False)
    async with serve(builder.build()) as client:
        artifact_id = await create_artifact(client, {"content": "secret"})
        for operation in ("$download", "$metadata"):
            response = await client.get(f"{ARTIFACTS}/{artifact_id}/{operation}")
            assert response.status_code == 404 and b"secret" not in response.content
