"""Config and artifact use cases on every backend: tree moves, cascades, pandas and JSON-safe output."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pytest
from ulid import ULID

from chapkit import (
    ArtifactHierarchy,
    ArtifactIn,
    ArtifactManager,
    ArtifactTreeError,
    ConfigIn,
    ConfigManager,
    ConflictError,
    PandasDataFrame,
    TaskIn,
    TaskManager,
    ValidationError,
)
from chapkit.embedding import Storage
from tests.support.artifacts import ModelConfig, TrainedModel, all_artifact_ids

HIERARCHY = ArtifactHierarchy(name="ml", level_labels={0: "train", 1: "predict"})


@dataclass
class Managers:
    configs: ConfigManager[ModelConfig]
    artifacts: ArtifactManager


@pytest.fixture
async def managers(storage: Storage) -> AsyncIterator[Managers]:
    async with storage.unit_of_work() as session:
        config_repo = session.configs
        yield Managers(
            ConfigManager[ModelConfig](config_repo, ModelConfig),
            ArtifactManager(session.artifacts, hierarchy=HIERARCHY, config_repo=config_repo),
        )


async def _add(managers: Managers, data: Any, parent: ULID | None = None) -> ULID:
    return (await managers.artifacts.save(ArtifactIn(data=data, parent_id=parent))).id


async def _levels(managers: Managers, root: ULID) -> dict[Any, int]:
    return {node.data: node.level for node in await managers.artifacts.find_subtree(root)}


async def test_levels_follow_parents(managers: Managers) -> None:
    root = await _add(managers, "root")
    child = await _add(managers, "child", root)
    grandchild = await managers.artifacts.save(ArtifactIn(data="grandchild", parent_id=child, level=7))
    assert grandchild.level == 2
    assert await _levels(managers, root) == {"root": 0, "child": 1, "grandchild": 2}


async def test_moving_an_artifact_relevels_its_descendants(managers: Managers, storage: Storage) -> None:
    root = await _add(managers, "root")
    a = await _add(managers, "a", root)
    b = await _add(managers, "b", a)
    c = await _add(managers, "c", b)
    moved = await managers.artifacts.save(ArtifactIn(id=b, data="b", parent_id=root))
    assert moved.level == 1
    assert await _levels(managers, root) == {"root": 0, "a": 1, "b": 1, "c": 2}
    async with storage.unit_of_work() as session:  # stored, not only seen by this session
        stored = await session.artifacts.find_by_id(c)
    assert stored is not None and stored.level == 2 and stored.parent_id == b


async def test_moving_an_artifact_under_its_own_descendant_is_refused(managers: Managers) -> None:
    root = await _add(managers, "root")
    a = await _add(managers, "a", root)
    b = await _add(managers, "b", a)
    for new_parent in (b, a):
        with pytest.raises(ArtifactTreeError) as raised:
            await managers.artifacts.save(ArtifactIn(id=a, data="a", parent_id=new_parent))
        assert raised.value.status == 409
    tree = await managers.artifacts.build_tree(root)
    assert tree is not None and [child.data for child in tree.children or []] == ["a"]
    assert await _levels(managers, root) == {"root": 0, "a": 1, "b": 2}


async def test_an_unknown_parent_is_a_clear_error(managers: Managers) -> None:
    root = await _add(managers, "root")
    with pytest.raises(ArtifactTreeError, match="not found"):
        await _add(managers, "orphan", ULID())
    with pytest.raises(ArtifactTreeError, match="not found"):
        await managers.artifacts.save(ArtifactIn(id=root, data="root", parent_id=ULID()))
    assert [a.data for a in await managers.artifacts.find_all()] == ["root"]


async def test_a_linked_root_cannot_be_moved_under_a_parent(managers: Managers) -> None:
    config = await managers.configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=1)))
    root = await _add(managers, "root")
    other = await _add(managers, "other")
    await managers.configs.link_artifact(config.id, root)
    with pytest.raises(ConflictError):
        await managers.artifacts.save(ArtifactIn(id=root, data="root", parent_id=other))
    found = await managers.artifacts.find_by_id(root)
    assert found is not None and found.parent_id is None


async def test_dataframes_round_trip_through_the_manager(managers: Managers) -> None:
    frame = pd.DataFrame({"region": ["a", "b"], "cases": [3, 5]})
    raw = await _add(managers, frame)
    wrapped = await _add(managers, PandasDataFrame.from_dataframe(frame).model_dump())
    found_raw = await managers.artifacts.find_by_id(raw)
    found_wrapped = await managers.artifacts.find_by_id(wrapped)
    assert found_raw is not None and found_wrapped is not None
    pd.testing.assert_frame_equal(found_raw.data, frame)
    pd.testing.assert_frame_equal(PandasDataFrame.model_validate(found_wrapped.data).to_dataframe(), frame)


async def test_non_json_data_is_returned_as_json_safe_metadata(managers: Managers) -> None:
    model = TrainedModel([1.0, 2.0])
    artifact_id = await _add(managers, {"model": model, "score": 0.9})
    found = await managers.artifacts.find_by_id(artifact_id)
    assert found is not None and found.data["model"] == model  # Python callers get the object back
    as_json = found.model_dump(mode="json")["data"]
    assert as_json["score"] == 0.9
    assert as_json["model"]["_type"] == "TrainedModel"
    assert as_json["model"]["_module"] == "tests.support.artifacts"
    assert as_json["model"]["_repr"] == "TrainedModel(weights=[1.0, 2.0])"
    assert "_serialization_error" in as_json["model"]
    tree = await managers.artifacts.build_tree(artifact_id)
    assert tree is not None and tree.model_dump(mode="json")["data"]["model"]["_type"] == "TrainedModel"


async def test_tree_expand_and_config_of_the_root(managers: Managers) -> None:
    config = await managers.configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=3)))
    root = await _add(managers, "root")
    child = await _add(managers, "child", root)
    leaf = await _add(managers, "leaf", child)
    await managers.configs.link_artifact(config.id, root)

    tree = await managers.artifacts.build_tree(root)
    assert tree is not None and tree.level_label == "train" and tree.hierarchy == "ml"
    assert tree.config is not None and tree.config.id == config.id
    assert tree.config.model_dump(mode="json")["data"] == {"epochs": 3, "rate": 0.1}
    [child_node] = tree.children or []
    assert child_node.level_label == "predict" and child_node.config is None
    [leaf_node] = child_node.children or []
    assert leaf_node.children == [] and leaf_node.level_label == "level_2"

    expanded = await managers.artifacts.expand_artifact(root)
    assert expanded is not None and expanded.children is None and expanded.config is not None
    assert await managers.artifacts.expand_artifact(ULID()) is None
    assert await managers.artifacts.build_tree(ULID()) is None

    found = await managers.configs.get_config_for_artifact(leaf, managers.artifacts.repo)
    assert found is not None and found.id == config.id and isinstance(found.data, ModelConfig)
    assert await managers.configs.get_config_for_artifact(ULID(), managers.artifacts.repo) is None
    [linked] = await managers.configs.get_linked_artifacts(config.id)
    assert linked.id == root


async def test_tree_json_is_the_built_trees_json_byte_for_byte(managers: Managers) -> None:
    config = await managers.configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=3)))
    root = await _add(managers, {"model": TrainedModel([1.0]), "content": "big", "nan": float("nan")})
    children = [await _add(managers, {"n": n, "when": "now"}, root) for n in range(3)]
    await _add(managers, ["leaf", None], children[1])
    await managers.configs.link_artifact(config.id, root)
    for start in (root, children[1]):  # with the root's config, and a subtree without one
        for content in (True, False):
            built = await managers.artifacts.build_tree(start, content=content)
            assert built is not None
            assert await managers.artifacts.tree_json(start, content=content) == built.model_dump_json().encode()
    assert await managers.artifacts.tree_json(ULID()) is None


async def test_what_a_save_returns_is_what_a_later_read_finds(storage: Storage) -> None:
    # SQL reloads only what the flush may not have written as stored (`refresh_saved`): every save of
    # chapkit's own entities returns the values a fresh unit reads, timestamps included.
    async with storage.unit_of_work() as session:
        configs = ConfigManager[ModelConfig](session.configs, ModelConfig)
        artifacts = ArtifactManager(session.artifacts, hierarchy=HIERARCHY)
        tasks = TaskManager(session.tasks)
        created = await configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=3)))
        config = await configs.save(ConfigIn[ModelConfig](id=created.id, name="d", data=ModelConfig(epochs=4)))
        assert config.updated_at >= created.updated_at and config.created_at == created.created_at
        root = await artifacts.save(ArtifactIn(data={"x": 1.5, "nested": {"list": [1, None]}}))
        child = await artifacts.save(ArtifactIn(data=[1, None], parent_id=root.id))
        moved = await artifacts.save(ArtifactIn(id=child.id, data="moved", parent_id=None))
        [first, second] = await artifacts.save_all([ArtifactIn(data=1), ArtifactIn(data=2, parent_id=root.id)])
        task = await tasks.save(TaskIn(command="echo hi", parameters={"a": [1, 2]}, timeout=1.5))
    async with storage.unit_of_work() as session:
        configs = ConfigManager[ModelConfig](session.configs, ModelConfig)
        artifacts = ArtifactManager(session.artifacts, hierarchy=HIERARCHY)
        assert await configs.find_by_id(config.id) == config
        for saved in (root, moved, first, second):
            assert await artifacts.find_by_id(saved.id) == saved
        assert moved.data == "moved" and second.level == 1
        assert await TaskManager(session.tasks).find_by_id(task.id) == task


async def test_config_data_is_an_instance_of_the_schema(managers: Managers) -> None:
    saved = await managers.configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=2, extra="x")))
    assert isinstance(saved.data, ModelConfig) and saved.data.epochs == 2
    found = await managers.configs.find_by_name("c")
    assert found is not None and found.model_dump(mode="json")["data"] == {"epochs": 2, "rate": 0.1, "extra": "x"}
    updated = await managers.configs.save(ConfigIn[ModelConfig](id=saved.id, name="d", data=ModelConfig(epochs=4)))
    assert updated.name == "d" and updated.data.epochs == 4 and updated.created_at == saved.created_at


async def test_data_that_does_not_fit_the_schema_is_refused(managers: Managers) -> None:
    with pytest.raises(ValidationError, match="epochs"):
        await managers.configs.save(ConfigIn(name="bad", data={"rate": 0.5}))
    assert await managers.configs.count() == 0


async def test_deleting_a_config_through_the_manager_deletes_its_trees(managers: Managers, storage: Storage) -> None:
    config = await managers.configs.save(ConfigIn[ModelConfig](name="c", data=ModelConfig(epochs=1)))
    root = await _add(managers, "root")
    await _add(managers, "child", root)
    kept = await _add(managers, "kept")
    await managers.configs.link_artifact(config.id, root)
    await managers.configs.delete_by_id(config.id)
    assert await all_artifact_ids(storage) == [kept]
    assert await managers.configs.find_by_id(config.id) is None


async def test_deleting_an_artifact_through_the_manager_deletes_its_subtree(managers: Managers) -> None:
    root = await _add(managers, "root")
    child = await _add(managers, "child", root)
    await _add(managers, "leaf", child)
    await managers.artifacts.delete_by_id(child)
    assert [a.data for a in await managers.artifacts.find_all()] == ["root"]
