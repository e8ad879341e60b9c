"""JobRouter on the service's AIOJobScheduler: list, filter, paginate, schema, get, delete, SSE stream."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi import FastAPI
from ulid import ULID

from chapkit import JobStatus, get_scheduler
from tests.integration.http.conftest import builder, emptied_postgres_url, serve

JOBS = "/api/v1/jobs"


def jobs_app(url: str = "memory://") -> FastAPI:
    return builder(url).with_jobs(max_concurrency=4).build()


async def quick(value: int) -> int:
    return value


async def boom() -> None:
    raise ValueError("boom")


def sse_events(body: str) -> list[Any]:
    assert body.endswith("\n\n")
    return [json.loads(chunk.removeprefix("data: ")) for chunk in body.strip().split("\n\n")]


@pytest.mark.parametrize("url", ["memory://", "sqlite+aiosqlite:///:memory:", "sqlite_file"])
async def test_list_get_and_filter_jobs(url: str, sqlite_file: str) -> None:
    app = jobs_app(sqlite_file if url == "sqlite_file" else url)
    async with serve(app) as client:
        scheduler = get_scheduler()
        ok = await scheduler.add_job(quick, 1)
        bad = await scheduler.add_job(boom)
        await scheduler.wait(ok)
        with pytest.raises(ValueError, match="boom"):  # wait re-raises the job's own error
            await scheduler.wait(bad)
        listed = (await client.get(JOBS)).json()
        assert {job["id"] for job in listed} == {str(ok), str(bad)}
        failed = (await client.get(JOBS, params={"status_filter": "failed"})).json()
        assert [job["id"] for job in failed] == [str(bad)]
        assert failed[0]["error"] == "ValueError: boom"
        record = (await client.get(f"{JOBS}/{ok}")).json()
        assert record["status"] == "completed" and record["id"] == str(ok)
        assert record["submitted_at"].endswith(("Z", "+00:00"))
        bad_filter = await client.get(JOBS, params={"status_filter": "sleeping"})
        assert bad_filter.status_code == 422


async def test_jobs_pagination() -> None:
    async with serve(jobs_app()) as client:
        scheduler = get_scheduler()
        ids = [await scheduler.add_job(quick, n) for n in range(5)]
        for job_id in ids:
            await scheduler.wait(job_id)
        page = (await client.get(JOBS, params={"page": 2, "size": 2})).json()
        assert (page["total"], page["page"], page["size"], page["pages"]) == (5, 2, 2, 3)
        assert len(page["items"]) == 2
        assert (await client.get(JOBS, params={"page": 0, "size": 2})).status_code == 422
        assert (await client.get(JOBS, params={"page": 1, "size": 101})).status_code == 422


async def test_jobs_schema() -> None:
    async with serve(jobs_app()) as client:
        schema = (await client.get(f"{JOBS}/$schema")).json()
    assert schema["type"] == "array"


async def test_job_errors_are_problems() -> None:
    async with serve(jobs_app()) as client:
        for method, suffix in (("GET", ""), ("DELETE", ""), ("GET", "/$stream")):
            invalid = await client.request(method, f"{JOBS}/nope{suffix}")
            assert invalid.status_code == 400 and invalid.json()["type"] == "urn:chapkit:error:invalid-ulid"
            missing = await client.request(method, f"{JOBS}/{ULID()}{suffix}")
            assert missing.status_code == 404
            assert missing.headers["content-type"] == "application/problem+json"
            assert missing.json()["type"] == "urn:chapkit:error:not-found"


async def test_delete_cancels_and_forgets_the_job() -> None:
    async with serve(jobs_app()) as client:
        scheduler = get_scheduler()
        job_id = await scheduler.add_job(asyncio.sleep, 30)
        response = await client.delete(f"{JOBS}/{job_id}")
        assert response.status_code == 204 and response.content == b""
        assert (await client.get(f"{JOBS}/{job_id}")).status_code == 404


async def test_stream_ends_on_terminal_state() -> None:
    async with serve(jobs_app()) as client:
        scheduler = get_scheduler()
        gate = asyncio.Event()

        async def gated() -> str:
            await gate.wait()
            return "done"

        job_id = await scheduler.add_job(gated)
        asyncio.get_running_loop().call_later(0.2, gate.set)
        response = await client.get(f"{JOBS}/{job_id}/$stream", params={"poll_interval": 0.05})
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        assert response.headers["x-accel-buffering"] == "no"
        events = sse_events(response.text)
        assert events[-1]["status"] == "completed"
        assert all(event["status"] in {"pending", "running"} for event in events[:-1])
        assert len(events) >= 2


async def test_stream_reports_a_deleted_job(monkeypatch: pytest.MonkeyPatch) -> None:
    async with serve(jobs_app()) as client:
        scheduler = get_scheduler()
        job_id = await scheduler.add_job(asyncio.sleep, 30)
        streaming = asyncio.Event()
        get_record = type(scheduler).get_record

        async def observed_get_record(self: Any, wanted: ULID) -> Any:
            record = await get_record(self, wanted)
            streaming.set()  # the stream has found the job: deleting it now must end the stream
            return record

        monkeypatch.setattr(type(scheduler), "get_record", observed_get_record)

        async def delete_once_streaming() -> None:
            await streaming.wait()
            await scheduler.delete(job_id)

        deleter = asyncio.create_task(delete_once_streaming())
        response = await client.get(f"{JOBS}/{job_id}/$stream", params={"poll_interval": 0.05})
        await deleter
        assert response.text.endswith('data: {"status": "deleted"}\n\n')


async def test_scheduler_is_shut_down_with_the_service() -> None:
    app = jobs_app()
    async with serve(app):
        scheduler = get_scheduler()
        job_id = await scheduler.add_job(asyncio.sleep, 30)
    assert (await scheduler.get_record(job_id)).status == JobStatus.canceled


async def test_filtered_pagination() -> None:
    async with serve(jobs_app()) as client:
        scheduler = get_scheduler()
        ids = [await scheduler.add_job(quick, n) for n in range(3)]
        failing = await scheduler.add_job(boom)
        for job_id in ids:
            await scheduler.wait(job_id)
        with pytest.raises(ValueError):
            await scheduler.wait(failing)
        page = (await client.get(JOBS, params={"page": 1, "size": 2, "status_filter": "completed"})).json()
        assert (page["total"], len(page["items"])) == (3, 2)
        assert {item["status"] for item in page["items"]} == {"completed"}


async def test_max_concurrency_reaches_the_scheduler() -> None:
    app = builder("memory://").with_jobs(max_concurrency=1).build()
    async with serve(app) as client:
        scheduler = get_scheduler()
        gate = asyncio.Event()
        first = await scheduler.add_job(gate.wait)
        second = await scheduler.add_job(gate.wait)
        await asyncio.sleep(0.05)
        statuses = {job["id"]: job["status"] for job in (await client.get(JOBS)).json()}
        assert sorted(statuses.values()) == ["pending", "running"]
        gate.set()
        await scheduler.wait(first)
        await scheduler.wait(second)


async def test_no_scheduler_runs_without_jobs() -> None:
    app = builder("memory://").build()
    async with serve(app):
        assert app.state.scheduler is None
        assert app.state.service_runtime.scheduler is None


@pytest.mark.parametrize("backend", ["sqlite_file", "postgres"])
async def test_a_job_running_when_the_service_stops_is_listed_canceled_after_a_restart(
    request: pytest.FixtureRequest, backend: str
) -> None:
    url = await emptied_postgres_url(request) if backend == "postgres" else request.getfixturevalue("sqlite_file")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    async with serve(jobs_app(url)) as client:
        running = await get_scheduler().add_job(forever)
        done = await get_scheduler().add_job(quick, 7)
        await asyncio.wait_for(started.wait(), 5)
        await get_scheduler().wait(done)
        listed = {job["id"]: job["status"] for job in (await client.get(JOBS)).json()}
        assert listed == {str(running): "running", str(done): "completed"}

    async with serve(jobs_app(url)) as client:
        listed = {job["id"]: job["status"] for job in (await client.get(JOBS)).json()}
        assert listed == {str(running): "canceled", str(done): "completed"}
        record = (await client.get(f"{JOBS}/{running}")).json()
        assert record["status"] == "canceled" and record["finished_at"] is not None
