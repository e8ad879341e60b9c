"""Mounting static apps on a FastAPI application, after its routes, and the bundled landing page."""

import stat
from collections.abc import Collection

import anyio.to_thread
from fastapi import FastAPI
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from chapkit.adapters.http.app import App, AppLoader, AppManager
from chapkit.adapters.observability import get_logger

logger = get_logger(__name__)

LANDING_PAGE_SOURCE: tuple[str, str] = ("chapkit.adapters.http", "apps/landing")
"""Package resource of the bundled landing page (manifest prefix `/`, entry `index.html`)."""


class AppStaticFiles(StaticFiles):
    """Serves one app's directory; the prefix root serves the manifest's entry file."""

    def __init__(self, app: App) -> None:
        super().__init__(directory=str(app.directory), html=True)
        self.static_app = app

    async def get_response(self, path: str, scope: Scope) -> Response:
        """Serve the entry file at the root, anything else as static files do.

        A path that a route serves for other methods is a 405, as without the app: a mount at `/`
        otherwise takes `GET` of a POST-only route (`$train`) and answers 404.
        """
        if _route_serves_other_methods(scope):
            raise StarletteHTTPException(405)
        if path in ("", ".") and scope["method"] in ("GET", "HEAD"):
            full_path, stat_result = await anyio.to_thread.run_sync(self.lookup_path, self.static_app.manifest.entry)
            if stat_result is not None and stat.S_ISREG(stat_result.st_mode):
                return self.file_response(full_path, stat_result, scope)
        return await super().get_response(path, scope)


def _route_serves_other_methods(scope: Scope) -> bool:
    routes = getattr(getattr(scope.get("app"), "router", None), "routes", [])
    return any(
        route.matches(scope)[0] is Match.PARTIAL
        for route in routes
        if not (isinstance(route, Mount) and isinstance(route.app, StaticFiles))
    )


def landing_page_app() -> App:
    """The bundled landing page: shows the service's name, version and description from /api/v1/info."""
    return AppLoader.load(LANDING_PAGE_SOURCE)


def deduplicate_apps(apps: list[App]) -> list[App]:
    """Keep the last app registered for each prefix (logging a warning for each one replaced)."""
    last_index: dict[str, int] = {}
    for index, app in enumerate(apps):
        if app.prefix in last_index:
            replaced = apps[last_index[app.prefix]]
            logger.warning(
                "app.prefix.override",
                prefix=app.prefix,
                replaced_app=replaced.manifest.name,
                new_app=app.manifest.name,
            )
        last_index[app.prefix] = index
    return [apps[index] for index in sorted(last_index.values())]


def mount_apps(app: FastAPI, apps: list[App]) -> None:
    """Mount static apps behind every route already on `app`, so API routes win; same prefix: last wins.

    Call it after all routes are included. The resulting `AppManager` is stored as `app.state.app_manager`.
    """
    kept = deduplicate_apps(apps)
    # A mount matches every path under its prefix, so deeper prefixes go first (`/` last of all).
    for static_app in sorted(kept, key=lambda a: len(a.prefix.rstrip("/")), reverse=True):
        bare = static_app.prefix.rstrip("/")
        if bare:
            # Under a mount at `/` the router never reaches its trailing-slash redirect, so add it here.
            app.router.add_route(bare, _redirect_to_slash, methods=["GET", "HEAD"], include_in_schema=False)
        app.mount(static_app.prefix, AppStaticFiles(static_app), name=f"app_{static_app.manifest.name}")
        logger.info(
            "app.mounted",
            name=static_app.manifest.name,
            prefix=static_app.prefix,
            directory=str(static_app.directory),
            is_package=static_app.is_package,
        )
    app.state.app_manager = AppManager(kept)


def serving_app(scope: Scope) -> App | None:
    """The mounted app that will answer this request, or None when a route (or nothing) answers it.

    Routing is resolved exactly as Starlette will resolve it, so a path an API route owns never
    counts as an app's file, even under an app mounted at `/`.
    """
    application = scope.get("app")
    routes: list[BaseRoute] | None = getattr(getattr(application, "router", None), "routes", None)
    if routes is None:
        return None
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.FULL:
            return _mounted_app(route)
        if match is Match.PARTIAL and partial is None:
            partial = route
    return _mounted_app(partial) if partial is not None else None


def is_public_app_path(scope: Scope, unauthenticated_paths: Collection[str]) -> bool:
    """True when the request is served by a mounted app whose prefix is unauthenticated (D19).

    Paths under `/api` are never an app's (no app may be mounted there), so they are answered at once:
    API requests pay nothing for this check, and without a key an unknown API path gets the same
    401 as a known one instead of revealing which exist.
    """
    path: str = scope.get("path", "")
    if path == "/api" or path.startswith("/api/"):
        return False
    manager = getattr(getattr(scope.get("app"), "state", None), "app_manager", None)
    if not isinstance(manager, AppManager) or not any(a.prefix in unauthenticated_paths for a in manager.list()):
        return False
    static_app = serving_app(scope)
    return static_app is not None and static_app.prefix in unauthenticated_paths


async def _redirect_to_slash(request: Request) -> RedirectResponse:
    return RedirectResponse(request.url.replace(path=request.url.path + "/"), status_code=307)


def _mounted_app(route: BaseRoute) -> App | None:
    if isinstance(route, Mount) and isinstance(route.app, AppStaticFiles):
        return route.app.static_app
    return None


__all__ = [
    "LANDING_PAGE_SOURCE",
    "AppStaticFiles",
    "deduplicate_apps",
    "is_public_app_path",
    "landing_page_app",
    "mount_apps",
    "serving_app",
]
