"""Crashes end to end (D16): a service killed with SIGKILL mid-job, then restarted, on SQLite and PostgreSQL.

Interrupted jobs end `failed`, saying that a stopped process interrupted them: at once when the service
restarts (by the dead process's free owner lock, whatever its heartbeat says), and within `stale_after`
plus a heartbeat while another process of the service runs on the same database, which a restart
later leaves alone. Their promised artifacts stay absent; the shell model's process group dies with the
service; nothing acknowledged before the crash is lost. The jobs tell the test that they run through
marker files (`crash_service`), so the kill always lands mid-job.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from chapkit.domain.ports import INTERRUPTED_ERROR
from tests.conftest import fresh_postgres_database
from tests.support.server import free_port

REPO = Path(__file__).resolve().parents[2]
SERVICE = "tests.e2e.crash_service:app"
HEARTBEAT = 0.2
TERMINAL = {"completed", "failed", "canceled"}
COLUMNS = ["tag", "hold", "fail", "y"]

_T = TypeVar("_T")


@pytest.fixture(params=["sqlite_file", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite_file":
        yield f"sqlite+aiosqlite:///{tmp_path / 'crash.db'}"
    else:
        with fresh_postgres_database() as url:
            yield url


class Service:
    """One process of the crash service, on its own port, logging to `<directory>/service.log`."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        directory.mkdir()
        self.log = directory / "service.log"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "chapkit", "serve", SERVICE, "--port", str(port)]
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(command, cwd=directory, env=env, stdout=output, stderr=subprocess.STDOUT)

    def healthy(self) -> Service:
        """Wait until `/health` answers (a busy machine may take long to import the stack)."""

        def answers() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.base}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        until(answers, "the service to start")
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up of its own runs."""
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        """SIGINT, a clean stop, which must succeed."""
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=30)
        assert self.process.returncode == 0, self.log.read_text()[-3000:]

    def end(self) -> None:
        """Kill the process if the test left it running (a failed assertion)."""
        if self.process.poll() is None:
            self.kill()

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.base}{path}", timeout=30)

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 202) -> dict[str, Any]:
        response = httpx.post(f"{self.base}{path}", json=body, timeout=30)
        assert response.status_code == status, response.text
        accepted: dict[str, Any] = response.json()
        return accepted

    def job(self, job_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/jobs/{job_id}")
        assert response.status_code == 200, response.text
        record: dict[str, Any] = response.json()
        return record

    def finished(self, job_id: str) -> dict[str, Any]:
        return until(lambda: (record := self.job(job_id))["status"] in TERMINAL and record, f"job {job_id} to end")

    def listing(self, what: str) -> dict[str, dict[str, Any]]:
        response = self.get(f"/api/v1/{what}")
        assert response.status_code == 200, response.text
        return {item["id"]: item for item in response.json()}

    def state(self) -> tuple[dict[str, dict[str, Any]], ...]:
        """Every job record, artifact and config the service holds."""
        return self.listing("jobs"), self.listing("artifacts"), self.listing("configs")

    def train(self, config_id: str, tag: str, *, hold: int = 0, fail: int = 0) -> dict[str, Any]:
        frame = {"columns": COLUMNS, "data": [[tag, hold, fail, 1.0], [tag, hold, fail, 3.0]]}
        return self.post("/api/v1/ml/$train", {"config_id": config_id, "data": frame})

    def predict(self, model_id: str, tag: str, *, hold: int = 0) -> dict[str, Any]:
        historic = {"columns": COLUMNS, "data": [[tag, hold, 0, 1.0]]}
        future = {"columns": COLUMNS[:3], "data": [[tag, hold, 0]]}
        return self.post("/api/v1/ml/$predict", {"model_artifact_id": model_id, "historic": historic, "future": future})

    def hold_task(self, tag: str) -> dict[str, Any]:
        task = self.post("/api/v1/tasks", {"command": "hold", "task_type": "python", "parameters": {"tag": tag}}, 201)
        return self.post(f"/api/v1/tasks/{task['id']}/$execute")


def until(condition: Callable[[], _T], what: str, seconds: float = 60.0) -> _T:
    """Poll `condition()` until it returns something truthy; fail naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return found


def environment(database_url: str, tmp_path: Path, runner: str, stale_after: float) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("CHAPKIT_")}
    (tmp_path / "markers").mkdir()
    (tmp_path / "tmp").mkdir()
    env.update(
        DATABASE_URL=database_url,
        CRASH_RUNNER=runner,
        CHAPKIT_E2E_MARKERS=str(tmp_path / "markers"),
        CHAPKIT_JOBS_HEARTBEAT_INTERVAL=str(HEARTBEAT),
        CHAPKIT_JOBS_STALE_AFTER=str(stale_after),
        TMPDIR=str(tmp_path / "tmp"),  # the shell runner's workspaces, where the test can see them
        PYTHONPATH=str(REPO),
        LOG_LEVEL="WARNING",
    )
    return env


def running(tmp_path: Path, tag: str) -> dict[str, int]:
    """Wait for the marker of the job tagged `tag`, which it writes once it runs; return its process ids."""
    marker = tmp_path / "markers" / tag
    until(marker.exists, f"the job {tag!r} to run")
    ids: dict[str, int] = json.loads(marker.read_text())
    return ids


def workspaces(tmp_path: Path) -> list[str]:
    """The shell runner's working directories in the services' temporary directory."""
    root = tmp_path / "tmp" / f"chapkit-workspaces-{os.getuid()}"
    return sorted(name for name in os.listdir(root) if not name.startswith(".")) if root.exists() else []


def group_members(pgid: int) -> list[int]:
    """The live (not zombie) processes of process group `pgid`."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            members.append(int(stat.parent.name))
    return members


def assert_interrupted(service: Service, accepted: list[dict[str, Any]]) -> None:
    """Each accepted job failed as interrupted; its promised artifact (if any) is absent."""
    for item in accepted:
        record = service.job(item["job_id"])
        assert (record["status"], record["error"]) == ("failed", INTERRUPTED_ERROR), record
        assert record["artifact_id"] is None
        if "artifact_id" in item:
            assert service.get(f"/api/v1/artifacts/{item['artifact_id']}").status_code == 404


def assert_kept(before: tuple[dict[str, dict[str, Any]], ...], after: tuple[dict[str, dict[str, Any]], ...]) -> None:
    """Nothing acknowledged before the crash is lost or changed: finished records, artifacts, configs."""
    jobs_before, artifacts_before, configs_before = before
    jobs_after, artifacts_after, configs_after = after
    assert artifacts_after == artifacts_before
    assert configs_after == configs_before
    assert set(jobs_after) == set(jobs_before)
    for job_id, record in jobs_before.items():
        if record["status"] in TERMINAL:
            assert jobs_after[job_id] == record


@pytest.mark.slow
def test_a_restart_fails_the_killed_services_jobs_at_once_and_keeps_what_it_acknowledged(
    database_url: str, tmp_path: Path
) -> None:
    """Shell model: a train and a predict (each a script with a child) and a task, killed mid-run; restart at once.

    `stale_after` is a minute, so only the dead process's free lock can tell the restart that it died.
    """
    env = environment(database_url, tmp_path, runner="shell", stale_after=60)
    with ExitStack() as cleanup:
        first = Service(tmp_path / "first", env)
        cleanup.callback(first.end)
        first.healthy()
        config_id = first.post("/api/v1/configs", {"name": "crash", "data": {}}, 201)["id"]
        trained = first.train(config_id, "trained")
        assert first.finished(trained["job_id"])["status"] == "completed"
        broken = first.train(config_id, "broken", fail=1)
        assert first.finished(broken["job_id"])["status"] == "failed"
        predicted = first.predict(trained["model_artifact_id"], "predicted")
        assert first.finished(predicted["job_id"])["status"] == "completed"

        held = [
            first.train(config_id, "held-train", hold=1),
            first.predict(trained["model_artifact_id"], "held-predict", hold=1),
            first.hold_task("held-task"),
        ]
        groups = [running(tmp_path, tag)["pgid"] for tag in ("held-train", "held-predict")]
        running(tmp_path, "held-task")
        before = first.state()
        assert {before[0][item["job_id"]]["status"] for item in held} == {"running"}
        assert first.get(f"/api/v1/artifacts/{broken['artifact_id']}").status_code == 200  # its workspace

        first.kill()
        for pgid in groups:  # each script and the child it started die with the service
            until(lambda pgid=pgid: not group_members(pgid), f"process group {pgid} to end", seconds=30)
        left = workspaces(tmp_path)
        assert [name.split("_")[2] for name in left] == sorted(["train", "predict"])

        second = Service(tmp_path / "second", env)
        cleanup.callback(second.end)
        second.healthy()
        assert workspaces(tmp_path) == []  # start-up removed the dead process's working directories
        assert_interrupted(second, held)
        after = second.state()
        assert_kept(before, after)
        for job_id in (trained["job_id"], predicted["job_id"], broken["job_id"]):
            assert after[0][job_id] == before[0][job_id]

        again = second.train(config_id, "after-restart")  # the restarted service works as before
        assert second.finished(again["job_id"])["status"] == "completed"
        second.stop()


@pytest.mark.slow
def test_a_live_neighbour_fails_the_killed_processs_jobs_and_a_later_restart_spares_its_own(
    database_url: str, tmp_path: Path
) -> None:
    """Two processes on one database; one, with the Python model, is killed mid-train, mid-predict and mid-task.

    Nobody restarts: the neighbour's housekeeping fails the dead process's jobs within `stale_after` plus a
    heartbeat. A restart after that fails nothing of the live neighbour's (a shell model), whose job runs on
    in its working directory.

    Only the neighbour judges silence after 2 s: the others wait a minute. A live process's heartbeats
    can lag 2 s on a busy machine, and a restart (or the victim) would then fail the neighbour's live job.
    """
    stale_after = 2.0
    env = environment(database_url, tmp_path, runner="python", stale_after=60)
    with ExitStack() as cleanup:
        neighbour_env = {**env, "CRASH_RUNNER": "shell", "CHAPKIT_JOBS_STALE_AFTER": str(stale_after)}
        neighbour = Service(tmp_path / "neighbour", neighbour_env)
        cleanup.callback(neighbour.end)
        victim = Service(tmp_path / "victim", env)
        cleanup.callback(victim.end)
        neighbour.healthy()
        victim.healthy()
        config_id = victim.post("/api/v1/configs", {"name": "crash", "data": {}}, 201)["id"]
        trained = victim.train(config_id, "trained")
        assert victim.finished(trained["job_id"])["status"] == "completed"
        alive = neighbour.train(config_id, "neighbour-held", hold=1)
        held = [
            victim.train(config_id, "held-train", hold=1),
            victim.predict(trained["model_artifact_id"], "held-predict", hold=1),
            victim.hold_task("held-task"),
        ]
        for tag in ("neighbour-held", "held-train", "held-predict", "held-task"):
            running(tmp_path, tag)
        before = neighbour.state()

        victim.kill()
        until(
            lambda: all(neighbour.job(item["job_id"])["status"] == "failed" for item in held),
            "the live neighbour to fail the killed process's jobs",
            seconds=stale_after + HEARTBEAT + 20,  # the bound, with room for a busy machine
        )
        assert_interrupted(neighbour, held)

        in_use = workspaces(tmp_path)
        assert len(in_use) == 1  # the neighbour's shell run
        restarted = Service(tmp_path / "restarted", env)
        cleanup.callback(restarted.end)
        restarted.healthy()
        assert restarted.job(alive["job_id"])["status"] == "running"
        assert workspaces(tmp_path) == in_use
        assert_interrupted(restarted, held)
        assert_kept(before, restarted.state())

        neighbour.stop()  # a clean stop cancels the job it ran, and says so
        assert restarted.job(alive["job_id"])["status"] == "canceled"
        assert workspaces(tmp_path) == []
        assert restarted.get(f"/api/v1/artifacts/{alive['artifact_id']}").status_code == 404
        restarted.stop()
