"""`ConfigRepository`: configs on SQL, their links to root artifacts, and deletes that take linked trees along."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from ulid import ULID

from chapkit.adapters.sql.artifact_repository import delete_subtrees
from chapkit.adapters.sql.errors import translated
from chapkit.adapters.sql.repository import BaseRepository
from chapkit.adapters.sql.schema.entities import artifacts_table, config_artifacts_table, configs_table, map_entities
from chapkit.domain.artifact import Artifact
from chapkit.domain.config import ArtifactLinkError, Config, ConfigArtifact, config_data_json
from chapkit.domain.errors import ConflictError, NotFoundError
from chapkit.domain.ports.config_store import ConfigStore

_configs = configs_table.c
_artifacts = artifacts_table.c
_links = config_artifacts_table.c
_SYNC_FETCH: dict[str, Any] = {"synchronize_session": "fetch"}


def _staged_new_artifact(session: AsyncSession, artifact_id: ULID) -> Artifact | None:
    """The artifact with this id when this session stages it as new (to be inserted) and no link to it, else None.

    Staged as new by `save`, it is not stored yet (`save` found no row with its id), so nothing links
    to it outside this session.
    """
    found: Artifact | None = None
    for obj in session.new:
        if isinstance(obj, ConfigArtifact) and obj.artifact_id == artifact_id:
            return None
        if isinstance(obj, Artifact) and obj.id == artifact_id:
            found = obj
    return found


class ConfigRepository(BaseRepository[Config, ULID], ConfigStore):
    """Repository for Config entities with artifact linking operations."""

    def __init__(self, session: AsyncSession) -> None:
        """Initialize config repository with database session."""
        map_entities()  # a session of users' own engine works too
        super().__init__(session, Config)

    async def save(self, entity: Config) -> Config:
        """Stage the config; `data` given as a schema instance is stored as its JSON object."""
        entity.data = config_data_json(entity.data)
        return await super().save(entity)

    @translated
    async def find_by_name(self, name: str) -> Config | None:
        """Find the oldest config with this name (names are not unique, D17)."""
        query = select(Config).where(_configs.name == name).order_by(_configs.id).limit(1)
        return (await self.s.scalars(query)).first()

    @translated
    async def link_artifact(self, config_id: ULID, artifact_id: ULID) -> None:
        """Link a config to a root artifact."""
        # An artifact staged as new in this session (a job storing its model) is known without asking
        # for it or its link; looked up before the first query flushes it.
        staged = _staged_new_artifact(self.s, artifact_id)
        if await self.s.scalar(select(_configs.id).where(_configs.id == config_id)) is None:
            raise NotFoundError(f"Config {config_id} not found")
        if staged is not None:
            if staged.parent_id is not None:
                raise ArtifactLinkError(f"Artifact {artifact_id} is not a root artifact (parent_id={staged.parent_id})")
            self.s.add(ConfigArtifact(config_id=config_id, artifact_id=artifact_id))
            return
        artifact = (
            await self.s.execute(select(_artifacts.id, _artifacts.parent_id).where(_artifacts.id == artifact_id))
        ).first()
        if artifact is None:
            raise ArtifactLinkError(f"Artifact {artifact_id} not found")
        if artifact.parent_id is not None:
            raise ArtifactLinkError(f"Artifact {artifact_id} is not a root artifact (parent_id={artifact.parent_id})")
        linked = await self.s.scalar(select(_links.config_id).where(_links.artifact_id == artifact_id))
        if linked == config_id:
            return
        if linked is not None:
            raise ConflictError(f"Artifact {artifact_id} is already linked to config {linked}")
        self.s.add(ConfigArtifact(config_id=config_id, artifact_id=artifact_id))

    @translated
    async def unlink_artifact(self, artifact_id: ULID) -> None:
        """Unlink an artifact from its config."""
        unlinked = delete(ConfigArtifact).where(_links.artifact_id == artifact_id)
        await self.s.execute(unlinked, execution_options=_SYNC_FETCH)

    @translated
    async def find_by_root_artifact_id(self, artifact_id: ULID) -> Config | None:
        """Find the config linked to a root artifact."""
        query = select(Config).join(config_artifacts_table, _links.config_id == _configs.id)
        return (await self.s.scalars(query.where(_links.artifact_id == artifact_id))).first()

    @translated
    async def find_artifacts_for_config(self, config_id: ULID) -> Sequence[Artifact]:
        """Find all root artifacts linked to a config, ordered by id."""
        query = select(Artifact).join(config_artifacts_table, _links.artifact_id == _artifacts.id)
        return (await self.s.scalars(query.where(_links.config_id == config_id).order_by(_artifacts.id))).all()

    # ---------------------------------------------------------------- deletes take linked trees along (D17)

    async def delete(self, entity: Config) -> None:
        """Delete the config and every artifact tree linked to it."""
        if entity.id is not None:
            await self.delete_by_id(entity.id)

    @translated
    async def delete_by_id(self, id: ULID) -> None:
        """Delete a config and cascade delete all linked artifact trees."""
        await self._delete_where(_configs.id == id, _links.config_id == id)

    @translated
    async def delete_all_by_id(self, ids: Sequence[ULID]) -> None:
        """Delete these configs and every artifact tree linked to them."""
        if ids:
            await self._delete_where(_configs.id.in_(list(ids)), _links.config_id.in_(list(ids)))

    @translated
    async def delete_all(self) -> None:
        """Delete every config and every linked artifact tree."""
        await self._delete_where(None, None)

    async def _delete_where(self, configs: Any, links: Any) -> None:
        linked_roots = select(_links.artifact_id)
        if links is not None:
            linked_roots = linked_roots.where(links)
        await delete_subtrees(self.s, _artifacts.id.in_(linked_roots))
        statement = delete(Config) if configs is None else delete(Config).where(configs)
        await self.s.execute(statement, execution_options=_SYNC_FETCH)


__all__ = ["ConfigRepository"]
