"""`CrudRouter` and `CrudPermissions`: REST CRUD routes over a `Manager`, plus `$name` operations."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from fastapi import Depends, Request, Response, status
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter
from starlette.routing import BaseRoute
from ulid import ULID

from chapkit.adapters.http.direct_route import (
    DirectRoute,
    is_request_scoped,
    serve_directly,
    serve_directly_unless_deferred,
    serve_directly_with_body,
)
from chapkit.adapters.http.pagination import PageQuery, SizeQuery, plain_page_and_size
from chapkit.adapters.http.problems import problem_responses
from chapkit.adapters.http.router import Router
from chapkit.adapters.http.utilities import UlidPath, build_location_url, id_path, parse_ulid
from chapkit.application.manager import Manager
from chapkit.application.services import delete_existing, found, insert_new, update_existing
from chapkit.domain.schemas import PaginatedResponse

InSchemaT = TypeVar("InSchemaT", bound=BaseModel)
OutSchemaT = TypeVar("OutSchemaT", bound=BaseModel)

ManagerFactory = Callable[..., Any]
"""A FastAPI dependency that yields or returns the `Manager` a request works with."""

JSON_MEDIA_TYPE = "application/json"
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})


@dataclass(slots=True)
class CrudPermissions:
    """Permissions configuration for CRUD operations."""

    create: bool = True
    read: bool = True
    update: bool = True
    delete: bool = True


class CrudRouter(Router, Generic[InSchemaT, OutSchemaT]):
    """Router base class for standard REST CRUD operations.

    Responses are serialized once, straight from the output schema (the `response_model` only
    documents them), so a request costs one pydantic dump instead of FastAPI's validate-and-dump.
    """

    def __init__(
        self,
        prefix: str,
        tags: list[str],
        entity_in_type: type[InSchemaT],
        entity_out_type: type[OutSchemaT],
        manager_factory: ManagerFactory,
        *,
        permissions: CrudPermissions | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize CRUD router with entity types and manager factory."""
        self.manager_factory = manager_factory
        self.entity_in_type = entity_in_type
        self.entity_out_type = entity_out_type
        self._permissions = permissions or CrudPermissions()
        self._out_adapter: TypeAdapter[Any] = TypeAdapter(entity_out_type)
        self._list_adapter: TypeAdapter[Any] = TypeAdapter(list[entity_out_type])  # type: ignore[valid-type]
        self._page_type: type[PaginatedResponse[Any]] = PaginatedResponse[entity_out_type]  # type: ignore[valid-type]
        super().__init__(prefix=prefix, tags=tags, **kwargs)

    def _register_routes(self) -> None:
        """Register CRUD routes based on permissions."""
        perms = self._permissions
        if perms.create:
            self._register_create_route()
        if perms.read:
            self._register_find_all_route()
            self._register_find_by_id_route()
            self._register_schema_route()
        if perms.update:
            self._register_update_route()
        if perms.delete:
            self._register_delete_route()

    # ---------------------------------------------------------------- custom operations

    def register_entity_operation(
        self,
        name: str,
        handler: Callable[..., Any],
        *,
        http_method: str = "GET",
        response_model: type[Any] | None = None,
        status_code: int | None = None,
        summary: str | None = None,
        description: str | None = None,
    ) -> None:
        """Register a custom entity operation with $ prefix (`/{entity_id}/$name`).

        It is placed before the generic `/{entity_id}` routes, so `/{entity_id}/$validate` matches first.
        Its documentation lists the 400 (bad id or input) and 404 (no such entity) problems, and 409
        (conflict with the stored state) for methods that change something.
        """
        problems = (400, 404) if http_method.upper() == "GET" else (400, 404, 409)
        self._add_operation(
            f"/{{entity_id}}/${name}",
            handler,
            http_method,
            self._first_route_index(lambda path: "{entity_id}" in path and "/$" not in path),
            response_model=response_model,
            status_code=status_code,
            summary=summary,
            description=description,
            responses=problem_responses(*problems),
        )

    def register_collection_operation(
        self,
        name: str,
        handler: Callable[..., Any],
        *,
        http_method: str = "GET",
        response_model: type[Any] | None = None,
        status_code: int | None = None,
        summary: str | None = None,
        description: str | None = None,
    ) -> None:
        """Register a custom collection operation with $ prefix (`/$name`).

        It is placed before every `{entity_id}` route, so `/$stats` is not taken for an id.
        """
        self._add_operation(
            f"/${name}",
            handler,
            http_method,
            self._first_route_index(lambda path: "{entity_id}" in path),
            response_model=response_model,
            status_code=status_code,
            summary=summary,
            description=description,
        )

    def _add_operation(
        self, path: str, handler: Callable[..., Any], http_method: str, index: int, **options: Any
    ) -> None:
        method = http_method.upper()
        if method not in _HTTP_METHODS:
            raise ValueError(f"Unsupported HTTP method: {http_method}")
        route_kwargs = {key: value for key, value in options.items() if value is not None}
        self.router.add_api_route(path, handler, methods=[method], **route_kwargs)
        routes: list[BaseRoute] = self.router.routes
        routes.insert(index, routes.pop())

    def _first_route_index(self, matches: Callable[[str], bool]) -> int:
        for index, route in enumerate(self.router.routes):
            if isinstance(route, APIRoute) and matches(route.path_format):
                return index
        return len(self.router.routes)

    # ---------------------------------------------------------------- standard routes

    def _manager_dependency(self) -> Any:
        return Depends(self.manager_factory)

    def _json(self, adapter: TypeAdapter[Any], value: Any, status_code: int = 200, **headers: str) -> Response:
        return Response(adapter.dump_json(value), status_code=status_code, media_type=JSON_MEDIA_TYPE, headers=headers)

    def _register_create_route(self) -> None:
        manager_dep = self._manager_dependency()
        prefix = self.router.prefix

        async def insert(request: Request, entity_in: BaseModel, manager: Manager[Any, Any, ULID]) -> Response:
            # POST inserts; replacing a stored entity is PUT's job (D14).
            created = await insert_new(manager, entity_in)
            location = build_location_url(request, f"{prefix}/{created.id}")
            return self._json(self._out_adapter, created, status.HTTP_201_CREATED, Location=location)

        async def create(
            entity_in: BaseModel, request: Request, manager: Manager[Any, Any, ULID] = manager_dep
        ) -> Response:
            return await insert(request, entity_in, manager)

        self._add_body_route(
            "",
            create,
            insert,
            methods=["POST"],
            status_code=status.HTTP_201_CREATED,
            response_model=self.entity_out_type,
            summary="Create",
            responses=problem_responses(400, 409, 413),
        )

    def _register_find_all_route(self) -> None:
        """The list, paginated when page and size are given.

        With a `request_scoped` manager factory the route is a `DirectRoute` for plain `page` and `size`
        values (or none); any other query is FastAPI's to read and answer (its 422s included).
        """
        manager_dep = self._manager_dependency()
        out = self.entity_out_type

        async def serve(page: int | None, size: int | None, manager: Manager[Any, Any, ULID]) -> Response:
            # Pagination is opt-in: both page and size must be provided.
            if page is not None and size is not None:
                items, total = await manager.find_paginated(page, size)
                paginated = self._page_type(items=items, total=total, page=page, size=size)
                return Response(paginated.model_dump_json(), media_type=JSON_MEDIA_TYPE)
            return self._json(self._list_adapter, await manager.find_all())

        async def find_all(
            page: PageQuery = None, size: SizeQuery = None, manager: Manager[Any, Any, ULID] = manager_dep
        ) -> Response:
            return await serve(page, size, manager)

        factory = self.manager_factory

        async def handler(request: Request) -> Response | None:
            paging = plain_page_and_size(request.query_params)
            return None if paging is None else await serve(*paging, await factory(request))

        self._add_route(
            "",
            find_all,
            lambda: serve_directly_unless_deferred(find_all, handler),
            methods=["GET"],
            response_model=list[out] | PaginatedResponse[out],  # type: ignore[valid-type]
            summary="List (paginated when page and size are given)",
        )

    def _register_find_by_id_route(self) -> None:
        manager_dep = self._manager_dependency()

        async def find(entity_id: str, manager: Manager[Any, Any, ULID]) -> Response:
            ulid_id = parse_ulid(entity_id)
            return self._json(self._out_adapter, found(await manager.find_by_id(ulid_id), ulid_id))

        async def find_by_id(entity_id: UlidPath, manager: Manager[Any, Any, ULID] = manager_dep) -> Response:
            return await find(entity_id, manager)

        self._add_id_route(
            find_by_id,
            find,
            methods=["GET"],
            response_model=self.entity_out_type,
            summary="Get by id",
            responses=problem_responses(400, 404),
        )

    def _register_update_route(self) -> None:
        manager_dep = self._manager_dependency()
        entity_in_type = self.entity_in_type

        async def replace(request: Request, entity_in: BaseModel, manager: Manager[Any, Any, ULID]) -> Response:
            # PUT updates a stored entity; an unknown id is a 404, as in the reference (D14).
            entity_dict = entity_in.model_dump(exclude_unset=True)
            entity_dict["id"] = parse_ulid(request.path_params["entity_id"])
            saved = await update_existing(manager, entity_in_type.model_validate(entity_dict))
            return self._json(self._out_adapter, saved)

        async def update(
            entity_id: UlidPath, entity_in: BaseModel, request: Request, manager: Manager[Any, Any, ULID] = manager_dep
        ) -> Response:
            return await replace(request, entity_in, manager)

        self._add_body_route(
            id_path("entity_id"),
            update,
            replace,
            methods=["PUT"],
            response_model=self.entity_out_type,
            summary="Update by id",
            responses=problem_responses(400, 404, 405, 409, 413),
        )

    def _register_delete_route(self) -> None:
        manager_dep = self._manager_dependency()

        async def delete(entity_id: str, manager: Manager[Any, Any, ULID]) -> Response:
            await delete_existing(manager, parse_ulid(entity_id))
            return Response(status_code=status.HTTP_204_NO_CONTENT)

        async def delete_by_id(entity_id: UlidPath, manager: Manager[Any, Any, ULID] = manager_dep) -> Response:
            return await delete(entity_id, manager)

        self._add_id_route(
            delete_by_id,
            delete,
            methods=["DELETE"],
            status_code=status.HTTP_204_NO_CONTENT,
            response_class=Response,
            summary="Delete",
            responses=problem_responses(400, 404, 405),
        )

    def _add_id_route(
        self,
        endpoint: Callable[..., Awaitable[Response]],
        serve: Callable[[str, Manager[Any, Any, ULID]], Awaitable[Response]],
        **options: Any,
    ) -> None:
        """Add `/{entity_id}` served by `serve(entity_id, manager)`; `endpoint` documents it.

        With a `request_scoped` manager factory (chapkit's built-in routers) the route is a
        `DirectRoute`: the handler reads the id from the path and calls the factory itself. Any other
        factory is a dependency of the endpoint, solved (and overridable) as FastAPI does.
        """
        factory = self.manager_factory

        async def handler(request: Request) -> Response:
            return await serve(request.path_params["entity_id"], await factory(request))

        self._add_route(id_path("entity_id"), endpoint, lambda: serve_directly(endpoint, handler), **options)

    def _add_body_route(
        self,
        path: str,
        endpoint: Callable[..., Awaitable[Response]],
        serve: Callable[[Request, BaseModel, Manager[Any, Any, ULID]], Awaitable[Response]],
        **options: Any,
    ) -> None:
        """Add `path` taking the input schema as its body, served by `serve(request, body, manager)`.

        `endpoint` documents the route.

        With a `request_scoped` manager factory (chapkit's built-in routers) the route is a
        `DirectRoute`: a JSON body that validates goes to `serve` with the factory's manager; any other
        request, and every request on any other factory, is FastAPI's to solve (its 422s included).
        """
        endpoint.__annotations__["entity_in"] = self.entity_in_type
        factory = self.manager_factory

        async def handler(request: Request, entity_in: BaseModel) -> Response:
            return await serve(request, entity_in, await factory(request))

        def direct() -> object:
            return serve_directly_with_body(endpoint, handler, TypeAdapter(self.entity_in_type))

        self._add_route(path, endpoint, direct, **options)

    def _add_route(self, path: str, endpoint: Callable[..., Any], direct: Callable[[], object], **options: Any) -> None:
        """Add `path`, documented by `endpoint`.

        With a `request_scoped` manager factory (chapkit's built-in routers) the route is a `DirectRoute`,
        served by the handler `direct()` attaches to `endpoint`. Any other factory is a dependency of the
        endpoint, solved (and overridable) as FastAPI does.
        """
        if is_request_scoped(self.manager_factory):
            direct()
            options["route_class_override"] = DirectRoute
        self.router.add_api_route(path, endpoint, **options)

    def _register_schema_route(self) -> None:
        """Register JSON schema endpoint for the entity output type."""
        schema = self.entity_out_type.model_json_schema()

        async def get_schema() -> dict[str, Any]:
            return schema

        self.register_collection_operation(
            name="schema", handler=get_schema, http_method="GET", response_model=dict[str, Any], summary="JSON schema"
        )


__all__ = ["CrudPermissions", "CrudRouter", "ManagerFactory"]
