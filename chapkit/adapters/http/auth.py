"""API key authentication: the middleware and the key loaders (environment variable, secrets file)."""

from __future__ import annotations

import hmac
import os
from collections.abc import Set
from pathlib import Path

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from chapkit.adapters.http.app_mount import is_public_app_path
from chapkit.adapters.http.docs import DOCS_URL, REDOC_URL, is_docs_asset
from chapkit.adapters.http.problems import problem_response
from chapkit.adapters.observability import get_logger
from chapkit.domain.errors import ErrorType

logger = get_logger(__name__)

DEFAULT_UNAUTHENTICATED_PATHS = frozenset({"/docs", "/redoc", "/openapi.json", "/health", "/"})
KEY_PREFIX_LENGTH = 7


def key_prefix(api_key: str) -> str:
    """The only part of a key that may be logged: its first 7 characters (`***` for shorter keys)."""
    return api_key[:KEY_PREFIX_LENGTH] if len(api_key) >= KEY_PREFIX_LENGTH else "***"


def load_api_keys_from_env(env_var: str = "CHAPKIT_API_KEYS") -> set[str]:
    """Load comma-separated keys from an environment variable (trimmed, empties dropped)."""
    return {key.strip() for key in os.environ.get(env_var, "").split(",") if key.strip()}


def load_api_keys_from_file(file_path: str | Path) -> set[str]:
    """Load one key per line from a file (blank lines and `#` comments skipped); a missing file is an error."""
    path = Path(file_path)
    if not path.is_file():
        raise FileNotFoundError(f"API key file not found: {file_path}")
    keys = set()
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keys.add(stripped)
    return keys


class APIKeyMiddleware:
    """Middleware for API key authentication via X-API-Key header.

    Paths in `unauthenticated_paths` match exactly; a static app mounted at one of them is public with
    all its files, while API routes under the same prefix still need a key (D19). Keys are compared in
    constant time and only a 7-character prefix ever reaches the log.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_keys: Set[str],
        header_name: str = "X-API-Key",
        unauthenticated_paths: Set[str],
    ) -> None:
        """Initialize API key middleware."""
        self.app = app
        self.api_keys = api_keys
        self.header_name = header_name
        self.unauthenticated_paths = unauthenticated_paths
        self._encoded_keys = [key.encode() for key in api_keys]

    def is_public(self, scope: Scope) -> bool:
        """Return whether the request is served without a key: an exact path, or a public app's file (D19)."""
        path = scope["path"]
        if path in self.unauthenticated_paths:
            return True
        if is_docs_asset(path):  # the documentation pages' own scripts: public when a page is
            return DOCS_URL in self.unauthenticated_paths or REDOC_URL in self.unauthenticated_paths
        return is_public_app_path(scope, self.unauthenticated_paths)

    def is_valid(self, api_key: str) -> bool:
        """Compare the key with every configured key in constant time (no early exit on a match)."""
        candidate = api_key.encode("utf-8", "surrogatepass")
        matched = False
        for key in self._encoded_keys:
            matched |= hmac.compare_digest(candidate, key)
        return matched

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Let public paths and valid keys through; answer 401 problem+json otherwise."""
        if scope["type"] != "http" or self.is_public(scope):
            await self.app(scope, receive, send)
            return
        api_key = Headers(scope=scope).get(self.header_name)
        if not api_key:
            logger.warning("auth.missing_key", path=scope["path"], method=scope["method"])
            detail = f"Missing authentication header: {self.header_name}"
        elif not self.is_valid(api_key):
            prefix = key_prefix(api_key)
            logger.warning("auth.invalid_key", key_prefix=prefix, path=scope["path"], method=scope["method"])
            detail = "Invalid API key"
        else:
            scope.setdefault("state", {})["api_key_prefix"] = key_prefix(api_key)
            await self.app(scope, receive, send)
            return
        response = problem_response(
            Request(scope),
            status=401,
            title="Unauthorized",
            detail=detail,
            type_uri=ErrorType.UNAUTHORIZED,
            auth_header=self.header_name,  # where a client (the landing page) sends the key
        )
        await response(scope, receive, send)


__all__ = [
    "APIKeyMiddleware",
    "DEFAULT_UNAUTHENTICATED_PATHS",
    "key_prefix",
    "load_api_keys_from_env",
    "load_api_keys_from_file",
]
