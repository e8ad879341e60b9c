"""`InMemoryConfigStore`: configs and their artifact links in memory, with SQL's rules (D10)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ulid import ULID

from chapkit.adapters.memory.artifact_store import delete_subtrees
from chapkit.adapters.memory.repository import InMemoryRepository
from chapkit.adapters.memory.session import InMemorySession, id_key, materialize
from chapkit.domain.artifact import Artifact
from chapkit.domain.config import ArtifactLinkError, Config, ConfigArtifact, config_data_json
from chapkit.domain.errors import ConflictError, NotFoundError
from chapkit.domain.ports.config_store import ConfigStore


class InMemoryConfigStore(InMemoryRepository[Config, ULID], ConfigStore):
    """Config repository over an in-memory session; links are rows keyed by the artifact's id."""

    def __init__(self, session: InMemorySession) -> None:
        """Bind the repository to a session."""
        super().__init__(session, Config)

    async def save(self, entity: Config) -> Config:
        """Stage the config; `data` given as a schema instance is stored as its JSON object."""
        entity.data = config_data_json(entity.data)
        return await super().save(entity)

    async def find_by_name(self, name: str) -> Config | None:
        """Return the oldest config with this name."""
        rows = self.s.rows(Config)
        keys = [key for key, snapshot in rows.items() if snapshot.get("name") == name]
        return None if not keys else materialize(Config, rows[min(keys)])

    async def link_artifact(self, config_id: ULID, artifact_id: ULID) -> None:
        """Stage a link from the config to a root artifact."""
        config_key, artifact_key = id_key(config_id), id_key(artifact_id)
        if self.s.find(Config, config_key) is None:
            raise NotFoundError(f"Config {config_id} not found")
        artifact = self.s.find(Artifact, artifact_key)
        if artifact is None:
            raise ArtifactLinkError(f"Artifact {artifact_id} not found")
        parent_id = artifact.get("parent_id")
        if parent_id is not None:
            raise ArtifactLinkError(f"Artifact {artifact_id} is not a root artifact (parent_id={parent_id})")
        link = self.s.find(ConfigArtifact, artifact_key)
        if link is not None:
            if link["config_id"] == config_key:
                return
            raise ConflictError(f"Artifact {artifact_id} is already linked to config {link['config_id']}")
        self.s.stage(ConfigArtifact, artifact_key, {"config_id": config_key, "artifact_id": artifact_key})

    async def unlink_artifact(self, artifact_id: ULID) -> None:
        """Stage the removal of the artifact's link, if any."""
        key = id_key(artifact_id)
        if self.s.find(ConfigArtifact, key) is not None:
            self.s.stage(ConfigArtifact, key, None)

    async def find_by_root_artifact_id(self, artifact_id: ULID) -> Config | None:
        """Return the config linked to this root artifact."""
        link = self.s.find(ConfigArtifact, id_key(artifact_id))
        snapshot = None if link is None else self.s.find(Config, link["config_id"])
        return None if snapshot is None else materialize(Config, snapshot)

    async def find_artifacts_for_config(self, config_id: ULID) -> Sequence[Artifact]:
        """Return the root artifacts linked to the config, ordered by id."""
        keys = sorted(self._linked_roots([id_key(config_id)]))
        return [materialize(Artifact, snapshot) for key in keys if (snapshot := self.s.find(Artifact, key))]

    # ---------------------------------------------------------------- deletes take linked trees along (D17)

    async def delete(self, entity: Config) -> None:
        """Stage the deletion of the config and every artifact tree linked to it."""
        if entity.id is not None:
            await self.delete_by_id(entity.id)

    async def delete_by_id(self, id: ULID) -> None:
        """Stage the deletion of the config and every artifact tree linked to it."""
        self._delete_configs([id_key(id)])

    async def delete_all_by_id(self, ids: Sequence[ULID]) -> None:
        """Stage the deletion of these configs and every artifact tree linked to them."""
        self._delete_configs([id_key(i) for i in ids])

    async def delete_all(self) -> None:
        """Stage the deletion of every config and every linked artifact tree."""
        self._delete_configs(list(self.s.rows(Config)))

    def _delete_configs(self, keys: Iterable[Any]) -> None:
        wanted = set(keys)
        delete_subtrees(self.s, self._linked_roots(wanted))
        for key in wanted:
            self.s.stage(Config, key, None)

    def _linked_roots(self, config_keys: Iterable[Any]) -> list[Any]:
        wanted = set(config_keys)
        return [key for key, link in self.s.rows(ConfigArtifact).items() if link["config_id"] in wanted]


__all__ = ["InMemoryConfigStore"]
