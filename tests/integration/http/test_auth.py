"""API key authentication: key sources, exact public paths, public app files, 401 problems, log hygiene."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from chapkit import APIKeyMiddleware
from tests.integration.http.conftest import builder, log_events, serve

KEY = "sk-secret-key-0123456789"


async def test_requests_need_a_valid_key_except_on_public_paths() -> None:
    app = builder().with_health().with_system().with_auth(api_keys=[KEY]).build()
    async with serve(app) as client:
        missing = await client.get("/api/v1/info")
        assert missing.status_code == 401
        assert missing.headers["content-type"] == "application/problem+json"
        assert missing.json()["type"] == "urn:chapkit:error:unauthorized"
        assert missing.json()["detail"] == "Missing authentication header: X-API-Key"
        wrong = await client.get("/api/v1/info", headers={"X-API-Key": "sk-wrong"})
        assert wrong.status_code == 401 and wrong.json()["detail"] == "Invalid API key"
        ok = await client.get("/api/v1/info", headers={"X-API-Key": KEY})
        assert ok.status_code == 200
        for public in ("/health", "/docs", "/redoc", "/openapi.json"):
            assert (await client.get(public)).status_code == 200, public
        # exact matching: a path under a public one is not public
        assert (await client.get("/health/$stream")).status_code == 401
        assert (await client.get("/docs/oauth2-redirect")).status_code == 401


async def test_landing_page_files_are_public_but_api_routes_are_not() -> None:
    app = builder().with_landing_page().with_auth(api_keys=[KEY]).build()
    async with serve(app) as client:
        page = await client.get("/")
        assert page.status_code == 200 and "text/html" in page.headers["content-type"]
        assert (await client.get("/index.html")).status_code == 200
        assert (await client.get("/api/v1/info")).status_code == 401


async def test_custom_header_and_unauthenticated_paths() -> None:
    app = (
        builder()
        .with_health()
        .with_auth(api_keys=[KEY], header_name="X-Token", unauthenticated_paths=["/api/v1/info"])
        .build()
    )
    async with serve(app) as client:
        assert (await client.get("/api/v1/info")).status_code == 200
        assert (await client.get("/health")).status_code == 401
        assert (await client.get("/health", headers={"X-Token": KEY})).status_code == 200


async def accepted_keys(builder_with_auth: Any, candidates: list[str]) -> set[str]:
    """The candidate keys the built service accepts."""
    accepted = set()
    async with serve(builder_with_auth.build()) as client:
        for key in candidates:
            if (await client.get("/api/v1/info", headers={"X-API-Key": key})).status_code == 200:
                accepted.add(key)
    return accepted


async def test_key_sources_in_priority_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_file = tmp_path / "keys"
    key_file.write_text("# comment\n\nsk-from-file-1\n  sk-from-file-2  \n")
    monkeypatch.setenv("CHAPKIT_API_KEYS", " sk-env-1 , ,sk-env-2,")
    monkeypatch.setenv("OTHER_KEYS", "sk-other")
    candidates = ["sk-direct", "sk-from-file-1", "sk-from-file-2", "sk-env-1", "sk-env-2", "sk-other", "# comment"]
    direct = builder().with_auth(api_keys=["sk-direct"], api_key_file=str(key_file))
    assert await accepted_keys(direct, candidates) == {"sk-direct"}
    from_file = builder().with_auth(api_key_file=str(key_file))
    assert await accepted_keys(from_file, candidates) == {"sk-from-file-1", "sk-from-file-2"}
    from_env = builder().with_auth()
    assert await accepted_keys(from_env, candidates) == {"sk-env-1", "sk-env-2"}
    other = builder().with_auth(env_var="OTHER_KEYS")
    assert await accepted_keys(other, candidates) == {"sk-other"}


def test_no_keys_and_missing_file_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHAPKIT_API_KEYS", raising=False)
    with pytest.raises(ValueError, match="No API keys configured"):
        builder().with_auth()
    with pytest.raises(ValueError, match="No API keys configured"):
        builder().with_auth(api_keys=[])
    with pytest.raises(FileNotFoundError):
        builder().with_auth(api_key_file=str(tmp_path / "absent"))


async def test_only_a_seven_character_prefix_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    app = builder().with_auth(api_keys=[KEY]).build()
    async with serve(app) as client:
        await client.get("/api/v1/info", headers={"X-API-Key": "sk-wrong-but-long-key"})
        await client.get("/api/v1/info", headers={"X-API-Key": "short"})
        await client.get("/api/v1/info", headers={"X-API-Key": KEY})
    assert [entry["key_prefix"] for entry in log_events(caplog, "auth.invalid_key")] == ["sk-wron", "***"]
    rendered = repr(log_events(caplog)) + caplog.text
    assert "sk-wron" in rendered
    assert "sk-wrong-" not in rendered and "short" not in rendered and KEY not in rendered and KEY[:8] not in rendered


def test_key_comparison_checks_every_key() -> None:
    async def app(scope: object, receive: object, send: object) -> None:
        return None

    middleware = APIKeyMiddleware(app, api_keys={"a" * 20, "b" * 20}, unauthenticated_paths=set())
    assert middleware.is_valid("b" * 20) and middleware.is_valid("a" * 20)
    assert not middleware.is_valid("a" * 19) and not middleware.is_valid("\udcff")


async def test_rejections_carry_the_request_id_when_logging_is_on() -> None:
    app = builder().with_logging().with_auth(api_keys=[KEY]).build()
    async with serve(app) as client:
        response = await client.get("/api/v1/info")
    assert response.status_code == 401
    assert response.json()["trace_id"] == response.headers["x-request-id"]
