"""The README's task service, run as written (database URL aside) through its table of requests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ulid import ULID

from tests.integration.http.conftest import serve

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_app(url: str) -> Any:
    text = README.read_text()
    section = text[text.index("## A task service") :]
    code = re.search(r"```python\n(.*?)```", section, re.S)
    assert code is not None
    source = code.group(1).replace("sqlite+aiosqlite:///tasks.db", url)
    namespace: dict[str, Any] = {}
    exec(compile(source, str(README), "exec"), namespace)
    return namespace["app"]


async def test_the_readme_task_service_answers_as_documented(tmp_path: Path) -> None:
    app = readme_app(f"sqlite+aiosqlite:///{tmp_path / 'tasks.db'}")
    async with serve(app) as client:

        async def run(task_id: str) -> Any:
            accepted = await client.post(f"/api/v1/tasks/{task_id}/$execute")
            assert accepted.status_code == 202
            job_id = accepted.json()["job_id"]
            await app.state.scheduler.wait(ULID.from_str(job_id))
            job = (await client.get(f"/api/v1/jobs/{job_id}")).json()
            assert job["status"] == "completed"
            return (await client.get(f"/api/v1/artifacts/{job['artifact_id']}")).json()["data"]

        shell = await client.post("/api/v1/tasks", json={"command": "echo hello", "timeout": 30})
        assert shell.status_code == 201
        data = await run(shell.json()["id"])
        assert (data["stdout"], data["exit_code"]) == ("hello\n", 0)
        scale = {"command": "scale", "task_type": "python", "parameters": {"values": [1, 2]}}
        python = await client.post("/api/v1/tasks", json=scale)
        assert python.status_code == 201
        assert (await run(python.json()["id"]))["result"] == [2.0, 4.0]
        counting = await client.post("/api/v1/tasks", json={"command": "count_tasks", "task_type": "python"})
        assert (await run(counting.json()["id"]))["result"] == 3
        piped = await client.post("/api/v1/tasks", json={"command": "echo a b | wc -w; >&2 echo note"})
        assert (await run(piped.json()["id"]))["stdout"].strip() == "2"
        redirected = await run(piped.json()["id"])
        assert redirected["stderr"] == "note\n"
        unknown = await client.post(f"/api/v1/tasks/{ULID()}/$execute")
        assert unknown.status_code == 400
        assert (await client.get("/api/v1/tasks", params={"enabled": "false"})).json() == []
