"""The unit-of-work port on every backend: typed repositories in one transaction, commit or discard (D9, D21)."""

from __future__ import annotations

import pytest
from ulid import ULID

from chapkit import Artifact, ArtifactIn, ArtifactStore, Config, ConfigStore, Repository
from chapkit.embedding import Storage
from tests.support.models import Widget


async def test_a_unit_gives_typed_repositories_that_stay_the_same(storage: Storage) -> None:
    async with storage.unit_of_work() as uow:
        assert isinstance(uow.configs, ConfigStore) and uow.configs is uow.repository(Config)
        assert isinstance(uow.artifacts, ArtifactStore) and uow.artifacts is uow.repository(Artifact)
        widgets = uow.repository(Widget)
        assert isinstance(widgets, Repository) and uow.repository(Widget) is widgets


async def test_commit_makes_every_repository_s_writes_visible(storage: Storage) -> None:
    async with storage.unit_of_work(write=True) as uow:
        config = await uow.configs.save(Config(id=ULID(), name="c", data={"a": 1}))
        artifact = await uow.artifacts.save(Artifact(id=ULID(), data={"w": 1}))
        await uow.configs.link_artifact(config.id, artifact.id)
        widget = await uow.repository(Widget).save(Widget(id=ULID(), name="w"))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert (await uow.configs.find_by_root_artifact_id(artifact.id)) is not None
        assert await uow.repository(Widget).exists_by_id(widget.id)
        assert await uow.artifacts.count() == 1


async def test_leaving_without_commit_discards(storage: Storage) -> None:
    async with storage.unit_of_work(write=True) as uow:
        await uow.configs.save(Config(name="dropped", data={}))
        await uow.repository(Widget).save(Widget(name="dropped"))
    async with storage.unit_of_work() as uow:
        assert await uow.configs.count() == 0 and await uow.repository(Widget).count() == 0


async def test_an_exception_discards_what_the_unit_wrote(storage: Storage) -> None:
    with pytest.raises(LookupError):
        async with storage.unit_of_work(write=True) as uow:
            await uow.configs.save(Config(name="dropped", data={}))
            raise LookupError("boom")
    async with storage.unit_of_work() as uow:
        assert await uow.configs.count() == 0


async def test_rollback_discards_and_the_unit_stays_usable(storage: Storage) -> None:
    async with storage.unit_of_work(write=True) as uow:
        await uow.repository(Widget).save(Widget(name="dropped"))
        await uow.rollback()
        assert await uow.repository(Widget).count() == 0
        await uow.repository(Widget).save(Widget(name="kept"))
        await uow.commit()
    async with storage.unit_of_work() as uow:
        assert [w.name for w in await uow.repository(Widget).find_all()] == ["kept"]


@pytest.mark.concurrent_sessions
async def test_a_unit_s_writes_are_invisible_to_another_until_commit(storage: Storage) -> None:
    async with storage.unit_of_work(write=True) as writer, storage.unit_of_work() as reader:
        await writer.configs.save(Config(name="c", data={}))
        assert await reader.configs.count() == 0
        await writer.commit()
        assert await reader.configs.count() == 1


async def test_a_unit_is_used_inside_async_with_only_once(storage: Storage) -> None:
    uow = storage.unit_of_work()
    with pytest.raises(RuntimeError, match="not open"):
        uow.repository(Widget)
    async with uow:
        pass
    with pytest.raises(RuntimeError, match="entered once"):
        async with uow:
            pass


async def test_a_unit_reads_the_job_records(storage: Storage) -> None:
    assert storage.scheduler is not None
    first = await storage.scheduler.add_job(lambda: 1)
    second = await storage.scheduler.add_job(lambda: 2)
    for job_id in (first, second):
        await storage.scheduler.wait(job_id)
    await storage.scheduler.flush()  # type: ignore[attr-defined]
    async with storage.unit_of_work() as uow:
        assert await uow.jobs.count() == 2
        assert [record.id for record in await uow.jobs.list_records()] == [second, first]
        record = await uow.jobs.get(first)
        assert record is not None and record.status == "completed"
        assert await uow.jobs.get(ULID()) is None


async def test_a_background_job_writes_through_a_unit_of_work_from_the_container(storage: Storage) -> None:
    assert storage.scheduler is not None

    async def train() -> ULID:
        async with storage.unit_of_work(write=True) as uow:
            artifact = await storage.artifact_manager(uow).save(ArtifactIn(data={"trained": True}))
        return artifact.id

    job_id = await storage.scheduler.add_job(train)
    await storage.scheduler.wait(job_id)
    record = await storage.scheduler.get_record(job_id)
    assert record.artifact_id is not None
    async with storage.unit_of_work() as uow:
        stored = await uow.artifacts.find_by_id(record.artifact_id)
    assert stored is not None and stored.data == {"trained": True}
