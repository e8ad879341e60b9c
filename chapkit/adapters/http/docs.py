"""`/docs` and `/redoc` from files in the installed packages, so they work with no internet.

FastAPI's pages load Swagger UI and ReDoc from a CDN: on an offline or firewalled machine, where
model services are often deployed, `/docs` is a blank page. The scripts and styles here come from the
`fastapi-offline` package's static files (a maintained package that ships them), served under
`/docs/assets`; the pages are FastAPI's own HTML pointed at them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_URL = "/docs"
REDOC_URL = "/redoc"
OAUTH2_REDIRECT_URL = "/docs/oauth2-redirect"
DOCS_ASSETS_PREFIX = "/docs/assets"
"""Where the Swagger UI and ReDoc files are served; public whenever `/docs` or `/redoc` is."""


def docs_assets_directory() -> Path:
    """The installed folder holding `swagger-ui-bundle.js`, `swagger-ui.css`, `redoc.standalone.js`, `favicon.png`."""
    return Path(str(files("fastapi_offline") / "static"))


def is_docs_asset(path: str) -> bool:
    """Whether `path` is one of the documentation pages' own files."""
    return path.startswith(DOCS_ASSETS_PREFIX + "/")


def add_offline_docs(app: FastAPI) -> None:
    """Serve `/docs` (with `/docs/oauth2-redirect`) and `/redoc` from local files (build the app with docs_url=None)."""
    app.mount(DOCS_ASSETS_PREFIX, StaticFiles(directory=docs_assets_directory()), name="docs-assets")

    def asset(request: Request, name: str) -> str:
        return f"{request.scope.get('root_path', '')}{DOCS_ASSETS_PREFIX}/{name}"

    def openapi_url(request: Request) -> str:
        return f"{request.scope.get('root_path', '')}{app.openapi_url}"

    @app.get(DOCS_URL, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - Swagger UI",
            oauth2_redirect_url=f"{request.scope.get('root_path', '')}{OAUTH2_REDIRECT_URL}",
            swagger_js_url=asset(request, "swagger-ui-bundle.js"),
            swagger_css_url=asset(request, "swagger-ui.css"),
            swagger_favicon_url=asset(request, "favicon.png"),
        )

    @app.get(OAUTH2_REDIRECT_URL, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get(REDOC_URL, include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(
            openapi_url=openapi_url(request),
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, "redoc.standalone.js"),
            redoc_favicon_url=asset(request, "favicon.png"),
            with_google_fonts=False,
        )


__all__ = ["DOCS_ASSETS_PREFIX", "add_offline_docs", "docs_assets_directory", "is_docs_asset"]
