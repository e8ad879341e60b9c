"""The config repository port's contract, run unchanged on memory, SQLite (memory, file) and PostgreSQL."""

from __future__ import annotations

import pytest
from ulid import ULID

from chapkit import Artifact, ArtifactLinkError, Config, ConflictError, NotFoundError
from chapkit.embedding import Storage
from tests.support.artifacts import all_artifact_ids, chain, save_artifacts


async def _configs(storage: Storage, *names: str) -> list[ULID]:
    async with storage.unit_of_work() as session:
        repo = session.configs
        saved = list(await repo.save_all([Config(name=name, data={"name": name}) for name in names]))
        await repo.commit()
        await repo.refresh_many(saved)
        return [c.id for c in saved if c.id is not None]


async def _link(storage: Storage, config_id: ULID, *artifact_ids: ULID) -> None:
    async with storage.unit_of_work() as session:
        repo = session.configs
        for artifact_id in artifact_ids:
            await repo.link_artifact(config_id, artifact_id)
        await repo.commit()


async def test_configs_store_json_data(storage: Storage) -> None:
    [config_id] = await _configs(storage, "a")
    async with storage.unit_of_work() as session:
        found = await session.configs.find_by_id(config_id)
    assert found is not None and found.name == "a" and found.data == {"name": "a"}
    assert found.created_at is not None and found.created_at == found.updated_at


async def test_find_by_name_returns_the_oldest_of_equal_names(storage: Storage) -> None:
    first, _other, _second = await _configs(storage, "same", "other", "same")
    async with storage.unit_of_work() as session:
        repo = session.configs
        found = await repo.find_by_name("same")
        assert found is not None and found.id == first
        assert await repo.find_by_name("missing") is None


async def test_link_find_and_unlink(storage: Storage) -> None:
    [config_id, other_id] = await _configs(storage, "c", "d")
    first = await chain(storage, 2)
    second = await chain(storage, 0)
    await _link(storage, config_id, second[0], first[0])
    async with storage.unit_of_work() as session:
        repo = session.configs
        assert [a.id for a in await repo.find_artifacts_for_config(config_id)] == sorted([first[0], second[0]])
        assert await repo.find_artifacts_for_config(other_id) == []
        linked = await repo.find_by_root_artifact_id(first[0])
        assert linked is not None and linked.id == config_id
        assert await repo.find_by_root_artifact_id(first[1]) is None
        await repo.unlink_artifact(first[0])
        await repo.unlink_artifact(ULID())  # nothing linked: not an error
        await repo.commit()
        assert [a.id for a in await repo.find_artifacts_for_config(config_id)] == [second[0]]
        assert await repo.find_by_root_artifact_id(first[0]) is None


async def test_linking_the_same_pair_twice_changes_nothing(storage: Storage) -> None:
    [config_id] = await _configs(storage, "c")
    [root] = await chain(storage, 0)
    await _link(storage, config_id, root)
    await _link(storage, config_id, root)
    async with storage.unit_of_work() as session:
        assert len(await session.configs.find_artifacts_for_config(config_id)) == 1


async def test_linking_a_non_root_is_refused(storage: Storage) -> None:
    [config_id] = await _configs(storage, "c")
    ids = await chain(storage, 1)
    async with storage.unit_of_work() as session:
        repo = session.configs
        with pytest.raises(ArtifactLinkError, match="not a root") as raised:
            await repo.link_artifact(config_id, ids[1])
        assert isinstance(raised.value, ValueError) and raised.value.status == 400
        with pytest.raises(ArtifactLinkError, match="not found"):
            await repo.link_artifact(config_id, ULID())
        with pytest.raises(NotFoundError):
            await repo.link_artifact(ULID(), ids[0])
        await repo.commit()
        assert await repo.find_artifacts_for_config(config_id) == []


async def test_a_root_artifact_has_at_most_one_config(storage: Storage) -> None:
    [first, second] = await _configs(storage, "first", "second")
    [root] = await chain(storage, 0)
    await _link(storage, first, root)
    async with storage.unit_of_work() as session:
        repo = session.configs
        with pytest.raises(ConflictError):
            await repo.link_artifact(second, root)
        owner = await repo.find_by_root_artifact_id(root)
        assert owner is not None and owner.id == first


@pytest.mark.concurrent_sessions
async def test_two_sessions_linking_one_root_to_two_configs_conflict(storage: Storage) -> None:
    [first, second] = await _configs(storage, "first", "second")
    [root] = await chain(storage, 0)
    async with storage.unit_of_work() as one, storage.unit_of_work() as two:
        repo_one, repo_two = one.configs, two.configs
        await repo_one.link_artifact(first, root)
        await repo_two.link_artifact(second, root)
        await repo_one.commit()
        with pytest.raises(ConflictError):
            await repo_two.commit()
    async with storage.unit_of_work() as session:
        owner = await session.configs.find_by_root_artifact_id(root)
    assert owner is not None and owner.id == first


@pytest.mark.parametrize("how", ["delete", "delete_by_id", "delete_all_by_id", "delete_all"])
async def test_deleting_a_config_deletes_its_linked_trees(storage: Storage, how: str) -> None:
    [config_id, keep_id] = await _configs(storage, "doomed", "kept")
    doomed_tree = await chain(storage, 3)
    doomed_root = await chain(storage, 0)
    kept_tree = await chain(storage, 2)
    unlinked = await chain(storage, 1)
    await _link(storage, config_id, doomed_tree[0], doomed_root[0])
    await _link(storage, keep_id, kept_tree[0])
    async with storage.unit_of_work() as session:
        repo = session.configs
        if how == "delete":
            loaded = await repo.find_by_id(config_id)
            assert loaded is not None
            await repo.delete(loaded)
        elif how == "delete_by_id":
            await repo.delete_by_id(config_id)
        elif how == "delete_all_by_id":
            await repo.delete_all_by_id([config_id, ULID()])
        else:
            await repo.delete_all()
        await repo.commit()
        remaining_configs = [c.id for c in await repo.find_all()]
    if how == "delete_all":
        assert remaining_configs == []
        assert await all_artifact_ids(storage) == unlinked
    else:
        assert remaining_configs == [keep_id]
        assert await all_artifact_ids(storage) == sorted(kept_tree + unlinked)
        async with storage.unit_of_work() as session:
            kept = await session.configs.find_artifacts_for_config(keep_id)
        assert [a.id for a in kept] == [kept_tree[0]]


async def test_a_new_link_to_a_linked_tree_is_visible_in_the_same_session(storage: Storage) -> None:
    [config_id] = await _configs(storage, "c")
    async with storage.unit_of_work() as session:
        artifacts = session.artifacts
        root = await artifacts.save(Artifact(data="root"))
        await artifacts.commit()
        root_id = root.id
        assert root_id is not None
        configs = session.configs
        await configs.link_artifact(config_id, root_id)
        linked = await configs.find_by_root_artifact_id(root_id)
        assert linked is not None and linked.id == config_id
        await configs.rollback()
        assert await configs.find_by_root_artifact_id(root_id) is None


async def test_linking_an_artifact_staged_in_the_same_unit(storage: Storage) -> None:
    """A job stores its model and links it in one unit: the same rules as for a stored artifact."""
    first, second = await _configs(storage, "one", "two")
    [stored] = await save_artifacts(storage, Artifact(data="stored"))
    root_id, child_id = ULID(), ULID()
    async with storage.unit_of_work() as session:
        await session.artifacts.save(Artifact(id=root_id, data="root"))
        await session.artifacts.save(Artifact(id=child_id, data="child", parent_id=stored.id, level=1))
        with pytest.raises(ArtifactLinkError, match="not a root"):
            await session.configs.link_artifact(first, child_id)
        with pytest.raises(NotFoundError):
            await session.configs.link_artifact(ULID(), root_id)
        await session.configs.link_artifact(first, root_id)
        await session.configs.link_artifact(first, root_id)  # the same pair again: nothing changes
        with pytest.raises(ConflictError):
            await session.configs.link_artifact(second, root_id)
        await session.commit()
    async with storage.unit_of_work() as session:
        linked = await session.configs.find_by_root_artifact_id(root_id)
        assert linked is not None and linked.id == first
        assert [a.id for a in await session.configs.find_artifacts_for_config(first)] == [root_id]
        assert await session.configs.find_artifacts_for_config(second) == []

    staged_link_id = ULID()
    async with storage.unit_of_work() as session:
        await session.artifacts.save(Artifact(id=staged_link_id, data="root"))
        await session.configs.link_artifact(second, staged_link_id)
        with pytest.raises(ConflictError):
            await session.configs.link_artifact(first, staged_link_id)


async def test_unknown_ids_are_harmless(storage: Storage) -> None:
    await save_artifacts(storage, Artifact(data=1))
    async with storage.unit_of_work() as session:
        repo = session.configs
        await repo.delete_by_id(ULID())
        await repo.delete_all_by_id([])
        await repo.commit()
        assert await repo.find_artifacts_for_config(ULID()) == []
        assert await repo.find_by_root_artifact_id(ULID()) is None
    assert len(await all_artifact_ids(storage)) == 1


async def test_schema_instances_given_as_data_are_stored_as_json(storage: Storage) -> None:
    from datetime import date

    from chapkit import BaseConfig

    class Dated(BaseConfig):
        start: date

    async with storage.unit_of_work() as session:
        repo = session.configs
        built = await repo.save(Config(name="built", data=Dated(start=date(2026, 1, 2))))  # type: ignore[arg-type]
        assigned = Config(name="assigned")
        assigned.data = Dated(start=date(2026, 3, 4))  # type: ignore[assignment]
        await repo.save(assigned)
        await repo.commit()
        ids = [built.id, assigned.id]
    async with storage.unit_of_work() as session:
        found = await session.configs.find_all_by_id([i for i in ids if i is not None])
    assert [c.data for c in found] == [{"start": "2026-01-02"}, {"start": "2026-03-04"}]
    with pytest.raises(TypeError, match="data must be"):
        Config(name="bad", data=[1, 2])  # type: ignore[arg-type]
