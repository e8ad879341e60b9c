"""Smoke tests of the service examples: configs, artifacts, a custom entity, jobs with SSE, tasks."""

from __future__ import annotations

import json
from pathlib import Path

from tests.examples.support import covers, serving, wait_for_job


@covers("config_api")
def test_config_api_validates_config_data(tmp_path: Path) -> None:
    with serving("config_api", tmp_path) as client:
        created = client.post("/api/v1/configs", json={"name": "weekly", "data": {"lags": 4}})
        assert created.status_code == 201, created.text
        assert created.json()["data"] == {"lags": 4, "horizon": 3, "covariates": ["rainfall", "mean_temperature"]}
        refused = client.post("/api/v1/configs", json={"name": "bad", "data": {"lags": -1}})
        assert refused.status_code == 422
        assert "lags" in json.dumps(refused.json()["detail"])  # FastAPI's validation list names the field
        assert [config["name"] for config in client.get("/api/v1/configs").json()] == ["weekly"]
        schema = client.get("/api/v1/configs/$schema").json()
        assert "lags" in json.dumps(schema)
    assert (tmp_path / "config_api.db").is_file()  # the default database is in the working directory


@covers("artifacts")
def test_artifacts_build_a_tree_linked_to_a_config(tmp_path: Path) -> None:
    with serving("artifacts", tmp_path) as client:
        config = client.post("/api/v1/configs", json={"name": "weekly", "data": {"lags": 4}}).json()
        model = client.post("/api/v1/artifacts", json={"data": {"weights": [0.1, 0.2]}})
        assert model.status_code == 201, model.text
        model_id = model.json()["id"]
        prediction = client.post("/api/v1/artifacts", json={"data": [1.5, 2.5], "parent_id": model_id})
        assert prediction.status_code == 201, prediction.text
        assert prediction.json()["level"] == 1
        linked = client.post(f"/api/v1/configs/{config['id']}/$link-artifact", json={"artifact_id": model_id})
        assert linked.status_code == 204, linked.text
        not_root = {"artifact_id": prediction.json()["id"]}
        assert client.post(f"/api/v1/configs/{config['id']}/$link-artifact", json=not_root).status_code == 400

        tree = client.get(f"/api/v1/artifacts/{model_id}/$tree").json()
        assert tree["level_label"] == "model" and tree["data"] == {"weights": [0.1, 0.2]}
        assert tree["config"]["id"] == config["id"]
        assert [(child["level_label"], child["data"]) for child in tree["children"]] == [("prediction", [1.5, 2.5])]
        assert client.get(f"/api/v1/artifacts/{prediction.json()['id']}/$config").json()["id"] == config["id"]


@covers("custom_entity")
def test_custom_entity_has_crud_and_its_own_operations(tmp_path: Path) -> None:
    with serving("custom_entity", tmp_path) as client:
        ids = []
        for station, value in [("north", 2.0), ("south", 4.0), ("north", 6.0)]:
            created = client.post("/api/v1/readings", json={"station": station, "value": value})
            assert created.status_code == 201, created.text
            ids.append(created.json()["id"])
        summary = client.get("/api/v1/readings/$summary")
        assert summary.status_code == 200, summary.text
        assert summary.json() == {"count": 3, "mean": 4.0, "stations": ["north", "south"], "flagged": 0}

        flagged = client.post(f"/api/v1/readings/{ids[1]}/$flag")
        assert flagged.status_code == 200, flagged.text
        assert flagged.json()["flagged"] is True and flagged.json()["station"] == "south"
        assert client.get(f"/api/v1/readings/{ids[1]}").json()["flagged"] is True
        assert client.get("/api/v1/readings/$summary").json()["flagged"] == 1

        missing = client.post("/api/v1/readings/01K00000000000000000000000/$flag")
        assert missing.status_code == 404
        assert missing.headers["content-type"].startswith("application/problem+json")
        assert client.post("/api/v1/readings/not-an-id/$flag").status_code == 400
        assert client.delete(f"/api/v1/readings/{ids[0]}").status_code == 204
        assert client.get("/api/v1/readings/$summary").json()["count"] == 2


@covers("jobs_sse")
def test_jobs_sse_streams_a_job_until_it_completes(tmp_path: Path) -> None:
    with serving("jobs_sse", tmp_path) as client:
        submitted = client.post("/api/v1/countdowns", json={"steps": 3, "delay": 0.2})
        assert submitted.status_code == 202, submitted.text
        job_id = submitted.json()["job_id"]
        assert submitted.json()["stream_url"] == f"/api/v1/jobs/{job_id}/$stream"

        statuses = []
        with client.stream("GET", f"/api/v1/jobs/{job_id}/$stream", params={"poll_interval": 0.1}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            for line in stream.iter_lines():
                if line.startswith("data: "):
                    statuses.append(json.loads(line.removeprefix("data: "))["status"])
        # The stream ends by itself after the terminal event.
        assert statuses[-1] == "completed" and "completed" not in statuses[:-1], statuses
        assert set(statuses) <= {"pending", "running", "completed"}

        result = client.get(f"/api/v1/countdowns/{job_id}")
        assert result.status_code == 200, result.text
        assert result.json() == {"job_id": job_id, "result": [3, 2, 1]}
        assert client.get("/api/v1/countdowns/01K00000000000000000000000").status_code == 404


@covers("tasks")
def test_tasks_run_python_functions_and_shell_commands(tmp_path: Path) -> None:
    with serving("tasks", tmp_path) as client:

        def run(task: dict[str, object]) -> dict[str, object]:
            created = client.post("/api/v1/tasks", json=task)
            assert created.status_code == 201, created.text
            executed = client.post(f"/api/v1/tasks/{created.json()['id']}/$execute")
            assert executed.status_code == 202, executed.text
            record = wait_for_job(client, executed.json()["job_id"])
            assert record["status"] == "completed", record
            artifact = client.get(f"/api/v1/artifacts/{record['artifact_id']}")
            assert artifact.status_code == 200, artifact.text
            data: dict[str, object] = artifact.json()["data"]
            return data

        scaled = run({"command": "scale", "task_type": "python", "parameters": {"values": [1, 2.5], "factor": 3}})
        assert scaled["result"] == [3.0, 7.5] and scaled["error"] is None

        shell = run({"command": "echo hello from a task", "timeout": 60})
        assert shell["exit_code"] == 0 and str(shell["stdout"]).strip() == "hello from a task"

        counted = run({"command": "count_artifacts", "task_type": "python", "parameters": {"level": 0}})
        assert counted["result"] == {"artifacts": 2}  # the two runs before this one (injected ArtifactManager)
