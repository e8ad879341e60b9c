"""One composition path: the lifespan, the worker, `ChapkitService.open` and `open_storage` all start
`build_container(spec)`, and one spec gives the same service graph whichever path starts it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chapkit import ChapkitService, ServiceInfo
from chapkit.bootstrap import containers
from chapkit.bootstrap.containers import ServiceContainer, ServiceSpec
from chapkit.bootstrap.jobs_backend import JobsSettings
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.bootstrap.worker import run_worker
from chapkit.embedding import open_storage
from tests.integration.http.conftest import serve
from tests.integration.http.ml_support import HIERARCHY, SlopeConfig, slope_runner

RUNNER = slope_runner()


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ServiceContainer]]:
    """Every container `build_container` makes while the test runs."""
    made: list[ServiceContainer] = []
    original = containers.build_container

    def recording(spec: ServiceSpec) -> ServiceContainer:
        container = original(spec)
        made.append(container)
        return container

    monkeypatch.setattr(containers, "build_container", recording)
    yield made


def graph(container: ServiceContainer) -> dict[str, Any]:
    """What a started container serves: its storage, scheduler and bound services, by kind and binding."""
    spec: ServiceSpec = container.spec()
    services = container.services()
    assert services.ml is not None and services.jobs is not None
    return {
        "storage": type(container.storage).__name__,
        "scheduler": type(container.scheduler()).__name__,
        "providers": sorted(container.providers),
        "schema": services.configs.schema,
        "hierarchy": services.artifacts.hierarchy,
        "linking": services.artifacts.include_config,
        "runner": services.ml.manager.runner,
        "requirements": spec.requirements,
        "jobs": spec.jobs,
    }


def builder() -> MLServiceBuilder:
    return MLServiceBuilder(
        info=ServiceInfo(display_name="composed"),
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=RUNNER,
        database_url="memory://",
    )


async def test_every_path_starts_the_same_graph_through_build_container(built: list[ServiceContainer]) -> None:
    app = builder().build()
    async with serve(app):
        served = graph(built[-1])

    with pytest.raises(ValueError, match="no queue for a worker"):  # asyncio jobs: the worker starts, then stops
        await run_worker(builder().build(), install_signal_handlers=False)
    worker = graph(built[-1])

    async with ChapkitService.open(
        "memory://",
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=RUNNER,
        requirements=served["requirements"],
    ):
        embedded = graph(built[-1])

    assert len(built) == 3
    assert served == worker == embedded
    assert served["schema"] is SlopeConfig and served["runner"] is RUNNER
    assert served["jobs"] == JobsSettings()


async def test_open_storage_builds_through_build_container_too(built: list[ServiceContainer]) -> None:
    async with open_storage("memory://") as storage:
        assert built == [storage.container]
        assert storage.services.configs is not None
