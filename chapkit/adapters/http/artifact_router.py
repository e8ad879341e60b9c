"""`ArtifactRouter`: artifact CRUD plus `$expand`, `$tree` and, with config linking, `$config`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Depends, Response

from chapkit.adapters.http.crud import CrudPermissions, CrudRouter, ManagerFactory
from chapkit.adapters.http.utilities import UlidPath, parse_ulid
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.domain.artifact import ArtifactIn, ArtifactOut, ArtifactTreeNode
from chapkit.domain.artifact_tree import dump_tree_json
from chapkit.domain.config import BaseConfig, ConfigOut
from chapkit.domain.errors import NotFoundError

JSON_MEDIA_TYPE = "application/json"


class ArtifactRouter(CrudRouter[ArtifactIn, ArtifactOut]):
    """CRUD router for Artifact entities with tree operations and config access.

    `$config` needs the service's config manager: pass its FastAPI dependency as
    `config_manager_factory` (the service builder does) when `enable_config_access` is on (D5).
    """

    def __init__(
        self,
        prefix: str,
        tags: Sequence[str],
        manager_factory: ManagerFactory,
        entity_in_type: type[ArtifactIn],
        entity_out_type: type[ArtifactOut],
        permissions: CrudPermissions | None = None,
        enable_config_access: bool = False,
        config_manager_factory: ManagerFactory | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize artifact router with entity types and manager factory."""
        if enable_config_access and config_manager_factory is None:
            raise ValueError("enable_config_access needs config_manager_factory (the config manager dependency)")
        self.enable_config_access = enable_config_access
        self.config_manager_factory = config_manager_factory
        super().__init__(
            prefix=prefix,
            tags=list(tags),
            entity_in_type=entity_in_type,
            entity_out_type=entity_out_type,
            manager_factory=manager_factory,
            permissions=permissions,
            **kwargs,
        )

    def _register_routes(self) -> None:
        """Register artifact CRUD routes and tree operations."""
        super()._register_routes()
        manager_factory = self.manager_factory

        def artifact_not_found(entity_id: str) -> NotFoundError:
            return NotFoundError(f"Artifact with id {entity_id} not found")

        async def expand_artifact(entity_id: UlidPath, manager: ArtifactManager = Depends(manager_factory)) -> Response:
            expanded = await manager.expand_artifact(parse_ulid(entity_id))
            if expanded is None:
                raise artifact_not_found(entity_id)
            return Response(expanded.model_dump_json(), media_type=JSON_MEDIA_TYPE)

        async def build_tree(entity_id: UlidPath, manager: ArtifactManager = Depends(manager_factory)) -> Response:
            tree = await manager.build_tree(parse_ulid(entity_id))
            if tree is None:
                raise artifact_not_found(entity_id)
            # Encoded without recursion: a chain of artifacts may be deeper than pydantic serializes.
            return Response(dump_tree_json(tree), media_type=JSON_MEDIA_TYPE)

        self.register_entity_operation(
            "expand",
            expand_artifact,
            response_model=ArtifactTreeNode,
            summary="Expand artifact",
            description="Get artifact with hierarchy metadata but without children",
        )
        self.register_entity_operation(
            "tree",
            build_tree,
            response_model=ArtifactTreeNode,
            summary="Build artifact tree",
            description="Build hierarchical tree structure rooted at the given artifact",
        )

        if not self.enable_config_access:
            return
        config_manager_factory = self.config_manager_factory

        async def get_config(
            entity_id: UlidPath,
            artifact_manager: ArtifactManager = Depends(manager_factory),
            config_manager: ConfigManager[BaseConfig] = Depends(config_manager_factory),
        ) -> Response:
            artifact_id = parse_ulid(entity_id)
            config = await config_manager.get_config_for_artifact(artifact_id, artifact_manager.repo)
            if config is None:
                if not await artifact_manager.exists_by_id(artifact_id):
                    raise artifact_not_found(entity_id)
                # D17: a tree without a config is a 404 problem, not a `null` body.
                raise NotFoundError(f"No config is linked to the tree of artifact {entity_id}")
            return Response(config.model_dump_json(), media_type=JSON_MEDIA_TYPE)

        self.register_entity_operation(
            "config",
            get_config,
            http_method="GET",
            response_model=ConfigOut[BaseConfig],
            summary="Get artifact config",
            description="Get the config for an artifact by walking up the tree to find the root's config",
        )


__all__ = ["ArtifactRouter"]
