"""The registrar against a small in-test orchestrator: back-off, TTL pings, re-registration, deregistration, lock."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from structlog.testing import capture_logs

from chapkit.adapters.http.registration import DEFAULT_PING_INTERVAL, Registrar, RegistrationSettings
from chapkit.adapters.http.registration_lock import RegistrationLock

REGISTER = "http://chap.test/v2/services/$register"


@dataclass
class Orchestrator:
    """chap-core's registry protocol in miniature: register, ping (404 once forgotten), deregister."""

    ttl: Any = 30
    up: bool = True
    refuse_with: int | None = None
    absolute_ping_url: bool = False
    registrations: list[dict[str, Any]] = field(default_factory=list)
    pings: list[str] = field(default_factory=list)
    deletes: list[str] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)
    known: set[str] = field(default_factory=set)

    def handle(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused", request=request)
        self.keys.append(request.headers.get("x-service-key"))
        path = request.url.path
        if request.method == "POST" and path == "/v2/services/$register":
            if self.refuse_with is not None:
                return httpx.Response(self.refuse_with, json={"detail": "info.period_type: field required"})
            body = json.loads(request.content)
            self.registrations.append(body)
            service_id = body["info"]["id"]
            self.known.add(service_id)
            ping = f"/v2/services/{service_id}/$ping"
            answer = {"id": service_id, "status": "registered", "ttl_seconds": self.ttl, "message": "ok"}
            answer["ping_url"] = f"http://chap.test{ping}" if self.absolute_ping_url else ping
            return httpx.Response(200, json=answer)
        if request.method == "PUT" and path.endswith("/$ping"):
            self.pings.append(path)
            service_id = path.split("/")[3]
            if service_id not in self.known:
                return httpx.Response(404, json={"detail": f"Service {service_id} not found"})
            return httpx.Response(200, json={"id": service_id, "status": "alive"})
        if request.method == "DELETE":
            self.deletes.append(path)
            service_id = path.rsplit("/", 1)[1]
            if service_id not in self.known:
                return httpx.Response(404)
            self.known.discard(service_id)
            return httpx.Response(204)
        return httpx.Response(405)


class Clock:
    """Stands in for asyncio.sleep: records every wait and returns at once."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(0)


def settings(tmp_path: Path, **changes: Any) -> RegistrationSettings:
    base = RegistrationSettings(
        register_url=REGISTER,
        service_id="malaria-model",
        info={"id": "malaria-model", "display_name": "Malaria model", "period_type": "monthly"},
        host="model.internal",
        service_key="s3cret",
        retry_delay=0.5,
        max_retry_delay=4.0,
        lock_directory=tmp_path,
    )
    return replace(base, **changes)


def registrar(
    orchestrator: Orchestrator, clock: Clock, config: RegistrationSettings, port: int | None = 8123
) -> Registrar:
    async def find_port() -> int | None:
        return port

    return Registrar(
        config,
        readiness_token="token",
        transport=httpx.MockTransport(orchestrator.handle),
        find_port=find_port,
        sleep=clock.sleep,
    )


async def until(condition: Callable[[], bool]) -> None:
    """Let the registrar's task run (its waits return at once) until `condition` holds."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


async def stop(task: asyncio.Task[None], registrar: Registrar) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await registrar.close()


async def test_registers_with_the_info_then_pings_every_third_of_the_ttl(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(ttl=30), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: len(orchestrator.pings) >= 3)
    await stop(task, subject)

    assert orchestrator.registrations == [
        {
            "id": "malaria-model",
            "url": "http://model.internal:8123",
            "info": {"id": "malaria-model", "display_name": "Malaria model", "period_type": "monthly"},
        }
    ]
    assert set(orchestrator.pings) == {"/v2/services/malaria-model/$ping"}
    assert clock.waits[:3] == [10.0, 10.0, 10.0]
    assert set(orchestrator.keys) == {"s3cret"}


async def test_an_absolute_ping_url_is_used_as_given_and_no_ttl_means_the_default_interval(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(ttl=None, absolute_ping_url=True), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: len(orchestrator.pings) >= 2)
    await stop(task, subject)
    assert subject.ping_url == "http://chap.test/v2/services/malaria-model/$ping"
    assert clock.waits[:2] == [DEFAULT_PING_INTERVAL, DEFAULT_PING_INTERVAL]


async def test_an_orchestrator_that_is_down_is_retried_with_capped_backoff(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(up=False, ttl=3), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    with capture_logs() as logs:
        task = asyncio.create_task(subject.run())
        await until(lambda: len(clock.waits) >= 6)
        assert not subject.registered and orchestrator.registrations == []
        orchestrator.up = True
        await until(lambda: subject.registered)
        await stop(task, subject)

    failed = [entry for entry in logs if entry["event"] == "registration.failed"]
    delays = [entry["retry_in"] for entry in failed]
    assert delays[:6] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(entry["log_level"] == "warning" and "ConnectError" in entry["reason"] for entry in failed)
    assert len(orchestrator.registrations) == 1


async def test_a_refused_registration_is_retried_and_its_reason_logged(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(refuse_with=422), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    with capture_logs() as logs:
        task = asyncio.create_task(subject.run())
        await until(lambda: len(clock.waits) >= 2)
        orchestrator.refuse_with = None
        await until(lambda: subject.registered)
        await stop(task, subject)
    reasons = [entry["reason"] for entry in logs if entry["event"] == "registration.failed"]
    assert reasons and reasons[0].startswith("HTTP 422") and "period_type" in reasons[0]


async def test_a_ping_answered_404_registers_again(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(ttl=3), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: len(orchestrator.pings) >= 1)
    orchestrator.known.clear()  # evicted: the TTL passed, or an operator deleted it
    await until(lambda: len(orchestrator.registrations) == 2 and len(orchestrator.pings) >= 3)
    await stop(task, subject)
    assert orchestrator.registrations[0] == orchestrator.registrations[1]
    assert set(clock.waits) == {1.0}  # only the ping interval: after the 404 it registered again at once


async def test_failed_pings_are_retried_sooner_but_never_later_than_the_interval(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(ttl=6), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: len(orchestrator.pings) >= 1)
    orchestrator.up = False
    await until(lambda: len(clock.waits) >= 5)
    orchestrator.up = True
    await until(lambda: len(orchestrator.pings) >= 2)
    await stop(task, subject)
    # The interval is 2 s; after a failure 0.5 s, then 1 s, then capped at the interval.
    first_retry = clock.waits.index(0.5)
    assert clock.waits[:first_retry] == [2.0] * first_retry
    assert clock.waits[first_retry : first_retry + 3] == [0.5, 1.0, 2.0] and max(clock.waits) == 2.0


async def test_close_deregisters_with_the_key_and_is_quiet_when_the_orchestrator_is_gone(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: subject.registered)
    await stop(task, subject)
    assert orchestrator.deletes == ["/v2/services/malaria-model"] and orchestrator.known == set()
    assert orchestrator.keys[-1] == "s3cret" and not subject.registered

    gone, clock = Orchestrator(), Clock()
    subject = registrar(gone, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: subject.registered)
    gone.up = False
    with capture_logs() as logs:
        await stop(task, subject)
    assert [entry["event"] for entry in logs] == ["registration.deregister_failed"]


async def test_close_deregisters_nothing_it_did_not_register(tmp_path: Path) -> None:
    down, clock = Orchestrator(up=False), Clock()
    subject = registrar(down, clock, settings(tmp_path))
    task = asyncio.create_task(subject.run())
    await until(lambda: len(clock.waits) >= 2)
    down.up = True
    await stop(task, subject)
    assert down.deletes == []

    orchestrator = Orchestrator()
    subject = registrar(orchestrator, Clock(), settings(tmp_path, deregister=False))
    task = asyncio.create_task(subject.run())
    await until(lambda: subject.registered)
    await stop(task, subject)
    assert orchestrator.deletes == [] and orchestrator.known == {"malaria-model"}


async def test_registration_waits_until_the_service_is_served_and_advertises_that_port(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(), Clock()
    answers = iter([None, None, 9311])

    async def find_port() -> int | None:
        return next(answers, 9311)

    subject = Registrar(
        settings(tmp_path),
        readiness_token="token",
        transport=httpx.MockTransport(orchestrator.handle),
        find_port=find_port,
        sleep=clock.sleep,
    )
    task = asyncio.create_task(subject.run())
    await until(lambda: subject.registered)
    await stop(task, subject)
    assert clock.waits[:2] == [0.05, 0.1]
    assert orchestrator.registrations[0]["url"] == "http://model.internal:9311"

    explicit = registrar(Orchestrator(), Clock(), settings(tmp_path, port=443), port=9311)
    task = asyncio.create_task(explicit.run())
    await until(lambda: explicit.registered)
    await stop(task, explicit)
    assert explicit.service_url == "http://model.internal:443"


async def test_one_registrar_per_host_registers_and_another_takes_over_when_it_stops(tmp_path: Path) -> None:
    orchestrator = Orchestrator()
    first = registrar(orchestrator, Clock(), settings(tmp_path))
    second_clock = Clock()
    second = registrar(orchestrator, second_clock, settings(tmp_path))
    with capture_logs() as logs:
        first_task = asyncio.create_task(first.run())
        await until(lambda: first.registered)
        second_task = asyncio.create_task(second.run())
        await until(lambda: any(entry["event"] == "registration.standby" for entry in logs))
        await until(lambda: len(second_clock.waits) >= 3)
        assert len(orchestrator.registrations) == 1 and not second.registered
        assert second_clock.waits[:3] == [4.0, 4.0, 4.0]  # standing by, trying the lock now and then

        await stop(first_task, first)
        await until(lambda: second.registered)
        await stop(second_task, second)
    assert len(orchestrator.registrations) == 2
    assert "registration.takeover" in [entry["event"] for entry in logs]


def test_the_lock_is_held_by_one_object_at_a_time_and_freed_on_release(tmp_path: Path) -> None:
    first, second = RegistrationLock("k", directory=tmp_path), RegistrationLock("k", directory=tmp_path)
    other = RegistrationLock("another service", directory=tmp_path)
    assert first.try_acquire() and first.held and first.try_acquire()
    assert not second.try_acquire() and not second.held
    assert other.try_acquire()
    first.release()
    assert not first.held and second.try_acquire()
    second.release()
    other.release()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://chap:8000/v2/services/$register", "http://chap:8000/v2/services/malaria-model"),
        ("http://chap:8000/v2/services/$register/", "http://chap:8000/v2/services/malaria-model"),
        ("https://orchestrator/services/register", "https://orchestrator/services/malaria-model"),
    ],
)
def test_the_deregister_url_is_the_register_collection_and_the_id(tmp_path: Path, url: str, expected: str) -> None:
    assert settings(tmp_path, register_url=url).deregister_url == expected


async def test_a_service_nobody_serves_is_never_registered_and_the_wait_is_logged_once(tmp_path: Path) -> None:
    orchestrator, clock = Orchestrator(), Clock()
    subject = registrar(orchestrator, clock, settings(tmp_path, readiness_timeout=0.0), port=None)
    with capture_logs() as logs:
        task = asyncio.create_task(subject.run())
        await until(lambda: len(clock.waits) >= 20)
        await stop(task, subject)
    assert orchestrator.registrations == [] and orchestrator.deletes == []
    assert [entry["event"] for entry in logs] == ["registration.not_served"]
    assert max(clock.waits) == 1.0
