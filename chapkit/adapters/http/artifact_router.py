"""`ArtifactRouter`: artifact CRUD, `$expand`, `$tree`, `$download`, `$metadata` and, with config linking, `$config`.

Reads speak both generations of the contract (D24): the list, `GET /{id}`, `$tree` and `$expand`
return the whole data by default, as the reference does, and leave the content out with
`?content=false` (what content is: `chapkit.domain.artifact_content`); `$download` and `$metadata`
are the newer generation's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import Depends, Query, Response
from pydantic import TypeAdapter

from chapkit.adapters.http.crud import JSON_MEDIA_TYPE, CrudPermissions, CrudRouter, ManagerFactory
from chapkit.adapters.http.pagination import PageQuery, SizeQuery
from chapkit.adapters.http.problems import problem_responses
from chapkit.adapters.http.utilities import UlidPath, id_path, parse_ulid
from chapkit.application.artifact_manager import ArtifactManager
from chapkit.application.config_manager import ConfigManager
from chapkit.application.services import found
from chapkit.domain.artifact import ArtifactIn, ArtifactOut, ArtifactTreeNode
from chapkit.domain.artifact_content import TableFormat, parse_table_format, without_content
from chapkit.domain.config import BaseConfig, ConfigOut
from chapkit.domain.errors import NotFoundError
from chapkit.domain.schemas import PaginatedResponse

ContentQuery = Annotated[
    bool,
    Query(
        description="false leaves each artifact's content out of its data: `content`, and in the reference's "
        "ML shapes a trained model's `model` and a prediction's `predictions`"
    ),
]
FormatQuery = Annotated[
    str | None,
    Query(
        alias="format",
        description="Tables only (predictions, data frames): csv, json (records) or parquet (needs the "
        "`parquet` extra). Default: by the content type, else csv. Anything else is a 400 problem",
        # Documented as the enum it is but read as text, so a bad value is a 400 problem naming the
        # formats rather than FastAPI's request-validation 422.
        json_schema_extra={"enum": [item.value for item in TableFormat]},
    ),
]


def _summaries(artifacts: list[ArtifactOut]) -> list[ArtifactOut]:
    """The artifacts with their content left out of their data."""
    return [artifact.model_copy(update={"data": without_content(artifact.data)}) for artifact in artifacts]


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

    def _register_find_all_route(self) -> None:
        """The list, paginated when page and size are given; `?content=false` leaves content out."""
        manager_factory = self.manager_factory

        async def find_all(
            page: PageQuery = None,
            size: SizeQuery = None,
            content: ContentQuery = True,
            manager: ArtifactManager = Depends(manager_factory),
        ) -> Response:
            if page is not None and size is not None:
                items, total = await manager.find_paginated(page, size)
                paginated = self._page_type(
                    items=items if content else _summaries(items), total=total, page=page, size=size
                )
                return Response(paginated.model_dump_json(), media_type=JSON_MEDIA_TYPE)
            artifacts = await manager.find_all()
            return self._json(self._list_adapter, artifacts if content else _summaries(artifacts))

        self.router.add_api_route(
            "",
            find_all,
            methods=["GET"],
            response_model=list[ArtifactOut] | PaginatedResponse[ArtifactOut],
            summary="List (paginated when page and size are given)",
        )

    def _register_find_by_id_route(self) -> None:
        """One artifact; `?content=false` leaves its content out."""
        manager_factory = self.manager_factory

        async def find_by_id(
            entity_id: UlidPath, content: ContentQuery = True, manager: ArtifactManager = Depends(manager_factory)
        ) -> Response:
            artifact_id = parse_ulid(entity_id)
            artifact = found(await manager.find_by_id(artifact_id), artifact_id)
            return self._json(self._out_adapter, artifact if content else _summaries([artifact])[0])

        self.router.add_api_route(
            id_path("entity_id"),
            find_by_id,
            methods=["GET"],
            response_model=ArtifactOut,
            summary="Get by id",
            responses=problem_responses(400, 404),
        )

    def _register_routes(self) -> None:
        """Register artifact CRUD routes and tree operations."""
        super()._register_routes()
        manager_factory = self.manager_factory

        def artifact_not_found(entity_id: str) -> NotFoundError:
            return NotFoundError(f"Artifact with id {entity_id} not found")

        async def expand_artifact(
            entity_id: UlidPath, content: ContentQuery = True, manager: ArtifactManager = Depends(manager_factory)
        ) -> Response:
            expanded = await manager.expand_artifact(parse_ulid(entity_id), content=content)
            if expanded is None:
                raise artifact_not_found(entity_id)
            return Response(expanded.model_dump_json(), media_type=JSON_MEDIA_TYPE)

        async def build_tree(
            entity_id: UlidPath, content: ContentQuery = True, manager: ArtifactManager = Depends(manager_factory)
        ) -> Response:
            tree = await manager.tree_json(parse_ulid(entity_id), content=content)
            if tree is None:
                raise artifact_not_found(entity_id)
            return Response(tree, media_type=JSON_MEDIA_TYPE)

        async def download(
            entity_id: UlidPath, table_format: FormatQuery = None, manager: ArtifactManager = Depends(manager_factory)
        ) -> Response:
            artifact_id = parse_ulid(entity_id)
            file = await manager.download(artifact_id, parse_table_format(table_format))
            if file is None:
                raise artifact_not_found(entity_id)
            disposition = f"attachment; filename=artifact_{artifact_id}.{file.extension}"
            return Response(file.body, media_type=file.media_type, headers={"Content-Disposition": disposition})

        async def metadata(entity_id: UlidPath, manager: ArtifactManager = Depends(manager_factory)) -> Response:
            found = await manager.metadata(parse_ulid(entity_id))
            if found is None:
                raise artifact_not_found(entity_id)
            return self._json(_METADATA, found)

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
        # Like the list and GET by id, and unlike the reference's `$tree`/`$expand`, the newer
        # generation's reads are served only where reading is permitted.
        if self._permissions.read:
            self._add_download_operation(download)
            self.register_entity_operation(
                "metadata",
                metadata,
                response_model=dict[str, Any],
                summary="Get artifact metadata",
                description="The `metadata` object of the artifact's data (the newer contract's ML artifacts), "
                "`{}` when it has none",
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

    def _add_download_operation(self, handler: Any) -> None:
        """`$download`, documented with the media types it sends and its 400, 404 and 406 problems."""
        self._add_operation(
            "/{entity_id}/$download",
            handler,
            "GET",
            self._first_route_index(lambda path: "{entity_id}" in path and "/$" not in path),
            response_class=Response,
            summary="Download artifact content",
            description="The artifact's content as a file (`Content-Disposition: attachment`): a table (predictions, "
            "a data frame) as CSV, JSON records or Parquet (`format`), a trained model as a pickle, bytes (a "
            "workspace zip) as they are, anything else as JSON",
            responses={
                200: {
                    "description": "The file",
                    "content": {
                        "text/csv": {},
                        "application/json": {},
                        "application/vnd.apache.parquet": {},
                        "application/x-pickle": {},
                        "application/octet-stream": {},
                    },
                },
                **problem_responses(400, 404, 406),
            },
        )


_METADATA: TypeAdapter[dict[str, Any]] = TypeAdapter(dict[str, Any])

__all__ = ["ArtifactRouter"]
