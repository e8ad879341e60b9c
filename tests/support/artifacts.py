"""Helpers for the config and artifact suites: a picklable non-JSON object and tree builders."""

from __future__ import annotations

from typing import Any

from ulid import ULID

from chapkit import Artifact, BaseConfig
from chapkit.embedding import Storage


class TrainedModel:
    """A stand-in for a trained model: picklable, comparable, and not JSON-encodable."""

    def __init__(self, weights: list[float]) -> None:
        self.weights = weights

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TrainedModel) and other.weights == self.weights

    def __hash__(self) -> int:
        return hash(tuple(self.weights))

    def __repr__(self) -> str:
        return f"TrainedModel(weights={self.weights})"


class ModelConfig(BaseConfig):
    """A service's config schema."""

    epochs: int
    rate: float = 0.1


async def save_artifacts(storage: Storage, *artifacts: Artifact) -> list[Artifact]:
    """Store artifacts as given (ids, parents, levels) in one commit and return them reloaded."""
    async with storage.unit_of_work() as session:
        repo = session.artifacts
        saved = list(await repo.save_all(artifacts))
        await repo.commit()
        await repo.refresh_many(saved)
        return saved


async def chain(storage: Storage, depth: int, data: Any = None) -> list[ULID]:
    """Store a chain root -> ... of `depth` + 1 artifacts; return their ids from the root down."""
    ids = sorted(ULID() for _ in range(depth + 1))
    nodes = [Artifact(id=ids[i], parent_id=ids[i - 1] if i else None, level=i, data=data) for i in range(depth + 1)]
    await save_artifacts(storage, *nodes)
    return ids


async def all_artifact_ids(storage: Storage) -> list[ULID]:
    """The ids of every stored artifact, in order."""
    async with storage.unit_of_work() as session:
        return [a.id for a in await session.artifacts.find_all() if a.id is not None]
