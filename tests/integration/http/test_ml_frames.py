"""ML routes read their frames column by column: models get the DataFrames rows would give, errors stay FastAPI's."""

from __future__ import annotations

from typing import Any

import pandas as pd

from chapkit import BaseConfig, FunctionalModelRunner
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import ML, create_config, ml_service, wait_for_job

COLUMNS = ["time_period", "location", "x", "y", "note", "flag", "mixed"]
ROWS = [
    ["2024-01", "oslo", 1.5, 2, "a", True, 1],
    ["2024-02", "oslo", None, 4, None, False, "b"],
    ["2024-03", "bergen", 3, None, "c", True, [1, 2]],
]


async def test_models_get_the_dataframes_rows_would_give() -> None:
    seen: dict[str, pd.DataFrame] = {}

    def on_train(config: BaseConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, int]:
        seen["data"] = data
        return {"rows": len(data)}

    def on_predict(
        config: BaseConfig, model: Any, historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
    ) -> pd.DataFrame:
        seen["historic"], seen["future"] = historic, future
        return future[["time_period", "location"]].assign(y=1.0)

    runner = FunctionalModelRunner(on_train=on_train, on_predict=on_predict)
    frame = {"columns": COLUMNS, "data": ROWS}
    async with serve(ml_service("memory://", runner=runner).build()) as client:
        config_id = await create_config(client)
        submitted = (await client.post(f"{ML}/$train", json={"config_id": config_id, "data": frame})).json()
        assert (await wait_for_job(client, submitted["job_id"]))["status"] == "completed"
        body = {"model_artifact_id": submitted["model_artifact_id"], "historic": frame, "future": frame}
        predicted = (await client.post(f"{ML}/$predict", json=body)).json()
        assert (await wait_for_job(client, predicted["job_id"]))["status"] == "completed"
        checked = await client.post(f"{ML}/$validate", json={"type": "predict", **body})
        assert checked.status_code == 200 and checked.json()["valid"] is True
    expected = pd.DataFrame(ROWS, columns=COLUMNS)
    for name in ("data", "historic", "future"):
        pd.testing.assert_frame_equal(seen[name], expected)


async def test_bodies_that_are_no_json_are_refused_as_before() -> None:
    async with serve(ml_service("memory://").build()) as client:
        garbage = await client.post(f"{ML}/$train", content=b"not json", headers={"content-type": "application/json"})
        assert garbage.status_code == 422
        assert garbage.json()["detail"][0]["type"] == "json_invalid"
        undecodable = await client.post(
            f"{ML}/$train", content=b'{"a": "\xff"}', headers={"content-type": "application/json"}
        )
        assert undecodable.status_code == 400
        as_text = await client.post(f"{ML}/$train", content=b'{"config_id": 1}', headers={"content-type": "text/plain"})
        assert as_text.status_code == 422
        irregular = {"config_id": "01K0000000000000000000000Z", "data": {"columns": ["x", "x"], "data": [[1, 2]]}}
        repeated = await client.post(f"{ML}/$train", json=irregular)
        assert repeated.status_code == 422 and "column names must be unique (repeated: x)" in repeated.text
        assert (await client.get("/api/v1/jobs")).json() == []
