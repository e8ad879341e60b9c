"""The README's model service, run as written (database URL aside): train, predict, read the predictions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import ML, frame, wait_for_job

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_model_app(url: str) -> Any:
    text = README.read_text()
    section = text[text.index("## Writing a model service") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1).replace("sqlite+aiosqlite:///mean.db", url)
    namespace: dict[str, Any] = {"__name__": "readme"}
    exec(compile(source, str(README), "exec"), namespace)
    return namespace["app"]


async def test_the_readme_model_service_trains_and_predicts(tmp_path: Path) -> None:
    async with serve(readme_model_app(f"sqlite+aiosqlite:///{tmp_path / 'mean.db'}")) as client:
        config = (await client.post("/api/v1/configs", json={"name": "c", "data": {"window": 2}})).json()["id"]
        data = frame(["time_period", "disease_cases"], [["2024-01", 10], ["2024-02", 20], ["2024-03", 40]])
        trained = (await client.post(f"{ML}/$train", json={"config_id": config, "data": data})).json()
        assert (await wait_for_job(client, trained["job_id"]))["status"] == "completed"
        future = frame(["time_period"], [["2024-04"]])
        body = {"model_artifact_id": trained["model_artifact_id"], "historic": data, "future": future}
        predicted = (await client.post(f"{ML}/$predict", json=body)).json()
        record = await wait_for_job(client, predicted["job_id"])
        assert record["status"] == "completed", record
        stored = (await client.get(f"/api/v1/artifacts/{record['artifact_id']}")).json()["data"]["predictions"]
        assert stored == {"columns": ["time_period", "disease_cases"], "data": [["2024-04", 30.0]]}
