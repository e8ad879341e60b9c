"""`/docs` and `/redoc` load their scripts from the service itself, never from a CDN; public under auth."""

from __future__ import annotations

import re

from chapkit import BaseServiceBuilder, ServiceInfo
from tests.integration.http.conftest import serve


def service(**auth: object) -> BaseServiceBuilder:
    builder = BaseServiceBuilder(info=ServiceInfo(display_name="Docs")).with_health()
    return builder.with_auth(**auth) if auth else builder  # type: ignore[arg-type]


async def test_docs_pages_reference_only_local_files_and_those_are_served() -> None:
    async with serve(service().build()) as client:
        for page in ("/docs", "/redoc"):
            html = (await client.get(page)).text
            sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
            assert sources, html
            assert all(source.startswith("/") for source in sources), sources  # no http(s):// anywhere
            assert "cdn" not in html.lower()
            for source in sources:
                response = await client.get(source)
                assert response.status_code == 200, source
        assert (await client.get("/docs/oauth2-redirect")).status_code == 200
        assert len((await client.get("/docs/assets/swagger-ui-bundle.js")).content) > 100_000


async def test_docs_assets_are_public_with_the_pages_and_nothing_else_is() -> None:
    async with serve(service(api_keys=["secret-key-1"]).build()) as client:
        assert (await client.get("/docs")).status_code == 200
        assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 200
        assert (await client.get("/api/v1/info")).status_code == 401
    closed = service(api_keys=["secret-key-1"], unauthenticated_paths=["/health"]).build()
    async with serve(closed) as client:
        assert (await client.get("/docs")).status_code == 401
        assert (await client.get("/docs/assets/swagger-ui.css")).status_code == 401
