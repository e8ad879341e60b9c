"""`ConfigManager`: config use cases, with data validated into the service's config schema."""

from __future__ import annotations

from typing import Any, Generic

from pydantic import ValidationError as PydanticValidationError
from ulid import ULID

from chapkit.application.manager import BaseManager
from chapkit.domain.artifact import ArtifactOut
from chapkit.domain.config import STORED_CONFIG, Config, ConfigIn, ConfigOut, DataT
from chapkit.domain.errors import ConflictError, ValidationError
from chapkit.domain.ports.artifact_store import ArtifactStore
from chapkit.domain.ports.config_store import ConfigStore


class ConfigManager(BaseManager[Config, ConfigIn[DataT], ConfigOut[DataT], ULID], Generic[DataT]):
    """Manager for Config entities with artifact linking operations."""

    def __init__(self, repo: ConfigStore, data_cls: type[DataT]) -> None:
        """Initialize config manager with repository and data class."""
        out_schema: type[ConfigOut[DataT]] = ConfigOut[data_cls]  # type: ignore[valid-type]
        super().__init__(repo, Config, out_schema)
        self.repo: ConfigStore = repo
        self.data_cls = data_cls

    async def find_by_name(self, name: str) -> ConfigOut[DataT] | None:
        """Find the oldest config with this name (names are not unique, D17)."""
        config = await self.repo.find_by_name(name)
        return None if config is None else self._to_output_schema(config)

    async def link_artifact(self, config_id: ULID, artifact_id: ULID) -> None:
        """Link a config to a root artifact."""
        async with self._rolled_back_on_error():
            await self.repo.link_artifact(config_id, artifact_id)
            await self.repo.commit()

    async def unlink_artifact(self, artifact_id: ULID, *, config_id: ULID | None = None) -> None:
        """Unlink an artifact from its config; with `config_id`, only when it is linked to that config.

        An artifact linked to another config raises `ConflictError` (409); one linked to none is left alone.
        """
        if config_id is not None:
            linked = await self.repo.find_by_root_artifact_id(artifact_id)
            if linked is not None and linked.id != config_id:
                raise ConflictError(f"Artifact {artifact_id} is linked to config {linked.id}, not to {config_id}")
        async with self._rolled_back_on_error():
            await self.repo.unlink_artifact(artifact_id)
            await self.repo.commit()

    async def get_config_for_artifact(self, artifact_id: ULID, artifact_repo: ArtifactStore) -> ConfigOut[DataT] | None:
        """Get the config for an artifact by going to its root (two queries, whatever the depth).

        Only the root's id is read, not the root (often a trained model, whose data can be large).
        """
        root_id = await artifact_repo.root_id_of(artifact_id)
        if root_id is None:
            return None
        config = await self.repo.find_by_root_artifact_id(root_id)
        return None if config is None else self._to_output_schema(config)

    async def get_linked_artifacts(self, config_id: ULID) -> list[ArtifactOut]:
        """Get all root artifacts linked to a config."""
        artifacts = await self.repo.find_artifacts_for_config(config_id)
        return [ArtifactOut.model_validate(artifact, from_attributes=True) for artifact in artifacts]

    # ---------------------------------------------------------------- lifecycle

    async def pre_save(self, entity: Config, data: ConfigIn[DataT]) -> None:
        """Store the data as the JSON object of the service's schema."""
        entity.data = self._stored_data(data.data)

    async def pre_update(self, entity: Config, data: ConfigIn[DataT], old_values: dict[str, object]) -> None:
        """Store the data as the JSON object of the service's schema."""
        entity.data = self._stored_data(data.data)

    def _stored_data(self, data: Any) -> dict[str, Any]:
        """Validate `data` into the schema and return its JSON form, checked to read back into the schema.

        Data that would be stored but could not be read back (every later read would fail) is refused.
        """
        try:
            raw = data.model_dump(mode="json") if hasattr(data, "model_dump") else data
            stored: dict[str, Any] = self.data_cls.model_validate(raw).model_dump(mode="json")
            self.data_cls.model_validate(stored, context={STORED_CONFIG: True})
        except PydanticValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(part) for part in item['loc']) or 'data'}: {item['msg']}" for item in error.errors()
            )
            raise ValidationError(f"Config data does not fit {self.data_cls.__name__}: {problems}") from error
        return stored

    def _to_output_schema(self, entity: Config) -> ConfigOut[DataT]:
        """Convert a stored config to the output schema, `data` as an instance of the service's schema."""
        context = {"data_cls": self.data_cls, STORED_CONFIG: True}
        return self.out_schema_cls.model_validate(entity, from_attributes=True, context=context)


__all__ = ["ConfigManager"]
