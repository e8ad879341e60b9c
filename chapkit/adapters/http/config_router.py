"""`ConfigRouter`: config CRUD plus `$link-artifact`, `$unlink-artifact` and `$artifacts` of root artifacts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, Response, status
from pydantic import BaseModel, TypeAdapter

from chapkit.adapters.http.crud import CrudPermissions, CrudRouter, ManagerFactory
from chapkit.adapters.http.utilities import UlidPath, parse_ulid
from chapkit.application.config_manager import ConfigManager
from chapkit.domain.artifact import ArtifactOut
from chapkit.domain.config import BaseConfig, ConfigIn, ConfigOut, LinkArtifactRequest, UnlinkArtifactRequest
from chapkit.domain.config_schema import config_schema_document
from chapkit.domain.errors import NotFoundError

_ARTIFACT_LIST: TypeAdapter[list[ArtifactOut]] = TypeAdapter(list[ArtifactOut])


class ConfigRouter(CrudRouter[ConfigIn[BaseConfig], ConfigOut[BaseConfig]]):
    """CRUD router for Config entities with artifact linking operations."""

    def __init__(
        self,
        prefix: str,
        tags: Sequence[str],
        manager_factory: ManagerFactory,
        entity_in_type: type[ConfigIn[BaseConfig]],
        entity_out_type: type[ConfigOut[BaseConfig]],
        permissions: CrudPermissions | None = None,
        enable_artifact_operations: bool = False,
        **kwargs: Any,
    ) -> None:
        """Initialize config router with entity types and manager factory."""
        self.enable_artifact_operations = enable_artifact_operations
        super().__init__(
            prefix=prefix,
            tags=list(tags),
            entity_in_type=entity_in_type,
            entity_out_type=entity_out_type,
            manager_factory=manager_factory,
            permissions=permissions,
            **kwargs,
        )

    def _register_schema_route(self) -> None:
        """`$schema`: the reference's document (the schema of `ConfigOut`) plus `$defs.ModelConfiguration`.

        `ModelConfiguration` is the config class's own schema without `$ref`, the one chap-core reads
        user options from (D24; see `chapkit.domain.config_schema`). Built once, with the router.
        """
        annotation = self.entity_out_type.model_fields["data"].annotation
        data_cls = annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else BaseConfig
        schema = config_schema_document(self.entity_out_type, data_cls)

        async def get_schema() -> dict[str, Any]:
            return schema

        self.register_collection_operation(
            name="schema", handler=get_schema, http_method="GET", response_model=dict[str, Any], summary="JSON schema"
        )

    def _register_routes(self) -> None:
        """Register config CRUD routes and artifact linking operations."""
        super()._register_routes()
        if not self.enable_artifact_operations:
            return
        manager_factory = self.manager_factory

        async def existing_config(entity_id: str, manager: ConfigManager[BaseConfig]) -> Any:
            config_id = parse_ulid(entity_id)
            if not await manager.exists_by_id(config_id):
                raise NotFoundError(f"Config with id {entity_id} not found")
            return config_id

        async def link_artifact(
            entity_id: UlidPath,
            request: LinkArtifactRequest,
            manager: ConfigManager[BaseConfig] = Depends(manager_factory),
        ) -> Response:
            config_id = await existing_config(entity_id, manager)
            await manager.link_artifact(config_id, request.artifact_id)
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        async def unlink_artifact(
            entity_id: UlidPath,
            request: UnlinkArtifactRequest,
            manager: ConfigManager[BaseConfig] = Depends(manager_factory),
        ) -> Response:
            config_id = await existing_config(entity_id, manager)
            await manager.unlink_artifact(request.artifact_id, config_id=config_id)
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        async def get_linked_artifacts(
            entity_id: UlidPath,
            manager: ConfigManager[BaseConfig] = Depends(manager_factory),
        ) -> Response:
            config_id = await existing_config(entity_id, manager)
            artifacts = await manager.get_linked_artifacts(config_id)
            return Response(_ARTIFACT_LIST.dump_json(artifacts), media_type="application/json")

        self.register_entity_operation(
            "link-artifact",
            link_artifact,
            http_method="POST",
            status_code=status.HTTP_204_NO_CONTENT,
            summary="Link artifact to config",
            description="Link a config to a root artifact (parent_id IS NULL)",
        )
        self.register_entity_operation(
            "unlink-artifact",
            unlink_artifact,
            http_method="POST",
            status_code=status.HTTP_204_NO_CONTENT,
            summary="Unlink artifact from config",
            description="Remove the link between a config and an artifact",
        )
        self.register_entity_operation(
            "artifacts",
            get_linked_artifacts,
            http_method="GET",
            response_model=list[ArtifactOut],
            summary="Get linked artifacts",
            description="Get all root artifacts linked to this config",
        )


__all__ = ["ConfigRouter"]
