"""The artifact repository port's contract, run unchanged on memory, SQLite (memory, file) and PostgreSQL."""

from __future__ import annotations

import pandas as pd
import pytest
from ulid import ULID

from chapkit import (
    Artifact,
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactManager,
    BaseConfig,
    Config,
    ConfigIn,
    ConfigManager,
    ConflictError,
)
from chapkit.domain.artifact import ArtifactRow
from chapkit.embedding import Storage
from tests.support.artifacts import TrainedModel, all_artifact_ids, chain, save_artifacts


class LoadCounter:
    """Data that counts how often it is unpickled."""

    loads = 0

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return _loaded, ()


def _loaded() -> LoadCounter:
    LoadCounter.loads += 1
    return LoadCounter()


async def _tree(storage: Storage) -> dict[str, ULID]:
    """root -> (a -> (a1, a2 -> a2x), b); other is a separate root. Ids sort in this order."""
    names = ["root", "a", "a1", "a2", "a2x", "b", "other"]
    ids = dict(zip(names, sorted(ULID() for _ in names), strict=True))
    parents = {"a": "root", "a1": "a", "a2": "a", "a2x": "a2", "b": "root"}
    levels = {"root": 0, "a": 1, "a1": 2, "a2": 2, "a2x": 3, "b": 1, "other": 0}
    await save_artifacts(
        storage,
        *[
            Artifact(id=ids[n], parent_id=ids[parents[n]] if n in parents else None, level=levels[n], data=n)
            for n in names
        ],
    )
    return ids


async def test_data_holds_any_picklable_object(storage: Storage) -> None:
    model = TrainedModel([0.5, 1.5])
    [saved] = await save_artifacts(storage, Artifact(data={"model": model, "n": 1}))
    [empty] = await save_artifacts(storage, Artifact(data=None))
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        found = await repo.find_by_id(saved.id)  # type: ignore[arg-type]
        assert found is not None and found.data == {"model": model, "n": 1}
        assert found.level == 0 and found.parent_id is None
        none = await repo.find_by_id(empty.id)  # type: ignore[arg-type]
        assert none is not None and none.data is None


async def test_dataframes_round_trip(storage: Storage) -> None:
    frame = pd.DataFrame({"x": [1, 2, 3], "y": ["a", "b", "c"], "z": [0.5, None, 2.0]})
    [saved] = await save_artifacts(storage, Artifact(data=frame))
    async with storage.unit_of_work() as session:
        found = await session.artifacts.find_by_id(saved.id)  # type: ignore[arg-type]
    assert found is not None
    pd.testing.assert_frame_equal(found.data, frame)


async def test_replacing_a_dataframe_updates_it(storage: Storage) -> None:
    [saved] = await save_artifacts(storage, Artifact(data=pd.DataFrame({"x": [1]})))
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        loaded = await repo.find_by_id(saved.id)  # type: ignore[arg-type]
        assert loaded is not None
        loaded.data = pd.DataFrame({"x": [2, 3]})
        await repo.save(loaded)
        await repo.commit()
    async with storage.unit_of_work() as session:
        found = await session.artifacts.find_by_id(saved.id)  # type: ignore[arg-type]
    assert found is not None
    pd.testing.assert_frame_equal(found.data, pd.DataFrame({"x": [2, 3]}))


async def test_find_subtree_returns_the_artifact_and_its_descendants_in_id_order(storage: Storage) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        assert [a.id for a in await repo.find_subtree(ids["a"])] == [ids["a"], ids["a1"], ids["a2"], ids["a2x"]]
        assert [a.data for a in await repo.find_subtree(ids["root"])] == ["root", "a", "a1", "a2", "a2x", "b"]
        assert [a.id for a in await repo.find_subtree(ids["a2x"])] == [ids["a2x"]]
        assert await repo.find_subtree(ULID()) == []


async def test_subtree_rows_hold_the_same_values_and_see_the_sessions_own_changes(storage: Storage) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        tracked = await repo.find_subtree(ids["a"])
        rows = await repo.find_subtree_rows(ids["a"])
        assert rows == [ArtifactRow.of(artifact) for artifact in tracked]
        assert all(isinstance(row.id, str) and type(row.parent_id) in (str, type(None)) for row in rows)
        added = await repo.save(Artifact(data="new", parent_id=ids["a2x"], level=4))
        await repo.delete_by_id(ids["a1"])
        seen = await repo.find_subtree_rows(ids["a"])
        assert [row.id for row in seen] == [str(ids["a"]), str(ids["a2"]), str(ids["a2x"]), str(added.id)]
        assert seen[-1].data == "new" and seen[-1].level == 4
        assert await repo.find_subtree_rows(ULID()) == []
        await repo.rollback()
    assert len(await all_artifact_ids(storage)) == 7


async def test_get_root_artifact_walks_to_the_root(storage: Storage) -> None:
    ids = await chain(storage, 60)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        for start in (ids[-1], ids[30], ids[0]):
            root = await repo.get_root_artifact(start)
            assert root is not None and root.id == ids[0] and root.parent_id is None
        assert await repo.get_root_artifact(ULID()) is None
        assert [await repo.root_id_of(start) for start in (ids[-1], ids[30], ids[0])] == [ids[0]] * 3
        assert await repo.root_id_of(ULID()) is None


async def test_level_of_reads_the_stored_or_staged_level(storage: Storage) -> None:
    ids = await chain(storage, 3)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        assert [await repo.level_of(i) for i in ids] == [0, 1, 2, 3]
        assert await repo.level_of(ULID()) is None
        staged = await repo.save(Artifact(id=ULID(), data="new", parent_id=ids[3], level=4))
        assert staged.id is not None and await repo.level_of(staged.id) == 4
        held = await repo.find_by_id(ids[1])
        assert held is not None
        held.level = 7  # a change this unit has made and not flushed yet
        await repo.save(held)
        assert await repo.level_of(ids[1]) == 7


async def test_a_new_childs_level_does_not_load_its_parents_data(storage: Storage) -> None:
    [parent] = await save_artifacts(storage, Artifact(data=LoadCounter()))
    LoadCounter.loads = 0
    async with storage.unit_of_work() as session:
        manager = ArtifactManager(session.artifacts, hierarchy=ArtifactHierarchy(name="counted"))
        child = await manager.save(ArtifactIn(data="prediction", parent_id=parent.id))
    assert child.level == 1
    assert LoadCounter.loads == 0  # the parent (a model, say) was not unpickled for its level


async def test_an_artifacts_config_is_found_without_loading_its_root(storage: Storage) -> None:
    [model] = await save_artifacts(storage, Artifact(data=LoadCounter()))
    [prediction] = await save_artifacts(storage, Artifact(data="prediction", parent_id=model.id, level=1))
    assert model.id is not None and prediction.id is not None
    async with storage.unit_of_work() as session:
        config = await ConfigManager[BaseConfig](session.configs, BaseConfig).save(ConfigIn(name="c", data={}))
        await session.configs.link_artifact(config.id, model.id)
        await session.commit()
    LoadCounter.loads = 0
    async with storage.unit_of_work() as session:
        configs = ConfigManager[BaseConfig](session.configs, BaseConfig)
        for artifact_id in (prediction.id, model.id):
            found = await configs.get_config_for_artifact(artifact_id, session.artifacts)
            assert found is not None and found.id == config.id
        assert await configs.get_config_for_artifact(ULID(), session.artifacts) is None
    assert LoadCounter.loads == 0  # the model was not unpickled to learn its id


async def test_saving_under_an_unknown_parent_conflicts(storage: Storage) -> None:
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        with pytest.raises(ConflictError):
            await repo.save(Artifact(data="orphan", parent_id=ULID(), level=1))
            await repo.commit()
    assert await all_artifact_ids(storage) == []


@pytest.mark.parametrize("how", ["delete", "delete_by_id", "delete_all_by_id"])
async def test_deleting_an_artifact_deletes_its_subtree_only(storage: Storage, how: str) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        if how == "delete":
            loaded = await repo.find_by_id(ids["a"])
            assert loaded is not None
            await repo.delete(loaded)
        elif how == "delete_by_id":
            await repo.delete_by_id(ids["a"])
        else:
            await repo.delete_all_by_id([ids["a"], ids["other"]])
        await repo.commit()
        assert await repo.find_by_id(ids["a2x"]) is None
    expected = [ids["root"], ids["b"]] + ([ids["other"]] if how != "delete_all_by_id" else [])
    assert await all_artifact_ids(storage) == expected


async def test_deleting_inside_a_session_hides_the_subtree_from_that_session(storage: Storage) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        child = await repo.find_by_id(ids["a1"])
        assert child is not None
        await repo.delete_by_id(ids["a"])
        assert await repo.find_by_id(ids["a1"]) is None
        assert not await repo.exists_by_id(ids["a2x"])
        assert [a.id for a in await repo.find_subtree(ids["root"])] == [ids["root"], ids["b"]]
        await repo.rollback()
    assert len(await all_artifact_ids(storage)) == 7


async def test_deleting_an_artifact_removes_its_config_link(storage: Storage) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        configs = session.configs
        config = await configs.save(Config(name="c", data={}))
        await configs.commit()
        assert config.id is not None
        await configs.link_artifact(config.id, ids["root"])
        await configs.commit()
        artifacts = session.artifacts
        assert await artifacts.linked_config_id(ids["root"]) == config.id
        await artifacts.delete_by_id(ids["root"])
        await artifacts.commit()
        assert await artifacts.linked_config_id(ids["root"]) is None
        assert await configs.find_artifacts_for_config(config.id) == []
        assert await configs.find_by_root_artifact_id(ids["root"]) is None
        assert await configs.exists_by_id(config.id)


async def test_delete_all_removes_every_artifact_and_link(storage: Storage) -> None:
    ids = await _tree(storage)
    async with storage.unit_of_work() as session:
        configs = session.configs
        config = await configs.save(Config(name="c", data={}))
        await configs.commit()
        assert config.id is not None
        await configs.link_artifact(config.id, ids["other"])
        artifacts = session.artifacts
        await artifacts.delete_all()
        await artifacts.commit()
        assert await artifacts.count() == 0
        assert await configs.find_artifacts_for_config(config.id) == []
        assert await configs.count() == 1
