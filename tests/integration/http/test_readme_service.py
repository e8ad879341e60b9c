"""The README's config and artifact service, run as written (database URL aside) through its table of requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tests.integration.http.conftest import serve

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_app(url: str) -> Any:
    text = README.read_text()
    section = text[text.index("## A config and artifact service") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1).replace("sqlite+aiosqlite:///forecasts.db", url)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(README), "exec"), namespace)
    return namespace["app"]


async def test_the_readme_service_answers_as_documented(tmp_path: Path) -> None:
    async with serve(readme_app(f"sqlite+aiosqlite:///{tmp_path / 'forecasts.db'}")) as client:
        config = await client.post("/api/v1/configs", json={"name": "weekly", "data": {"lags": 4}})
        assert config.status_code == 201 and config.json()["data"] == {"lags": 4, "horizon": 3}
        assert (await client.post("/api/v1/configs", json={"name": "bad", "data": {}})).status_code == 422
        model = await client.post("/api/v1/artifacts", json={"data": {"weights": [0.1, 0.2]}})
        assert model.status_code == 201 and model.json()["level"] == 0
        model_id = model.json()["id"]
        prediction = await client.post("/api/v1/artifacts", json={"data": [1.5, 2.5], "parent_id": model_id})
        assert prediction.status_code == 201 and prediction.json()["level"] == 1
        prediction_id = prediction.json()["id"]
        config_id = config.json()["id"]
        link = f"/api/v1/configs/{config_id}/$link-artifact"
        assert (await client.post(link, json={"artifact_id": prediction_id})).status_code == 400
        assert (await client.post(link, json={"artifact_id": model_id})).status_code == 204
        tree = (await client.get(f"/api/v1/artifacts/{model_id}/$tree")).json()
        assert tree["level_label"] == "model" and tree["config"]["name"] == "weekly"
        assert tree["children"][0]["level_label"] == "prediction"
        found = await client.get(f"/api/v1/artifacts/{prediction_id}/$config")
        assert found.status_code == 200 and found.json()["id"] == config_id
        assert (await client.delete(f"/api/v1/configs/{config_id}")).status_code == 204
        assert (await client.get("/api/v1/artifacts")).json() == []
        assert (await client.get("/health")).json()["status"] == "healthy"
