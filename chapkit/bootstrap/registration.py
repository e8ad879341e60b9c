"""Registration with a CHAP orchestrator, as the builder and the lifespan see it.

A service registers when an orchestrator URL is known: `with_registration(orchestrator_url=...)`, else
`SERVICEKIT_ORCHESTRATOR_URL` (the variable chap-core deployments already set; `chapkit serve --register
URL` sets it), read when the service is built. The advertised address is `host`/`SERVICEKIT_HOST` (default:
the host name) and `port`/`SERVICEKIT_PORT` (default: the port the service is served on);
`SERVICEKIT_REGISTRATION_KEY` is sent as `X-Service-Key`. Arguments win over the environment.

Also here: what the builder fills into an `MLServiceInfo` (`git_revision` from `GIT_REVISION`,
`chapkit_version` from the installed package) and the warnings the service logs at start-up about what
chap-core will miss.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI

from chapkit.adapters.http.info import ServiceInfo, service_id_of
from chapkit.adapters.http.registration import Registrar, RegistrationSettings
from chapkit.adapters.http.self_probe import ReadinessMiddleware
from chapkit.adapters.observability import get_logger
from chapkit.bootstrap.service_options import RegistrationOptions

logger = get_logger(__name__)

ORCHESTRATOR_URL_ENV = "SERVICEKIT_ORCHESTRATOR_URL"
HOST_ENV = "SERVICEKIT_HOST"
PORT_ENV = "SERVICEKIT_PORT"
REGISTRATION_KEY_ENV = "SERVICEKIT_REGISTRATION_KEY"
GIT_REVISION_ENV = "GIT_REVISION"

AUTH_WARNING = (
    "this service requires an API key, and chap-core sends none: chap-core can register it but cannot call it"
)


@dataclass(frozen=True, slots=True)
class Registration:
    """A service's registration, resolved when it is built: the settings and its readiness token."""

    settings: RegistrationSettings
    readiness_token: str


def served_info(info: ServiceInfo, environ: Mapping[str, str]) -> ServiceInfo:
    """The info a service serves: an `MLServiceInfo` gets its build provenance filled in where unset."""
    return info.with_build_provenance(
        git_revision=environ.get(GIT_REVISION_ENV) or None, chapkit_version=_installed_chapkit_version()
    )


def info_warnings(info: ServiceInfo) -> list[str]:
    """What chap-core will miss in `info` (nothing for a plain `ServiceInfo`: chap-core drives ML services)."""
    return info.chap_core_warnings()


def resolve_registration(
    options: RegistrationOptions | None, info: ServiceInfo, environ: Mapping[str, str]
) -> Registration | None:
    """The service's registration, or None when no orchestrator URL is known; a malformed setting raises."""
    options = options or RegistrationOptions()
    url = options.orchestrator_url or environ.get(ORCHESTRATOR_URL_ENV) or None
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"the orchestrator URL {url!r} is not an http(s) URL (e.g. http://chap:8000/v2/services/$register)"
        )
    port = options.port if options.port is not None else _port(environ.get(PORT_ENV), PORT_ENV)
    body = info.model_dump(mode="json")
    service_id = service_id_of(info)
    body.setdefault("id", service_id)
    settings = RegistrationSettings(
        register_url=url,
        service_id=service_id,
        info=body,
        host=options.host or environ.get(HOST_ENV) or socket.gethostname(),
        port=port,
        service_key=options.service_key or environ.get(REGISTRATION_KEY_ENV) or None,
        timeout=options.timeout,
        retry_delay=options.retry_delay,
        max_retry_delay=options.max_retry_delay,
        deregister=options.deregister,
        candidate_ports=tuple(p for p in (port, _port_or_none(environ.get("PORT"))) if p is not None),
    )
    # The same for every worker process of one service, so any of them answers another's probe.
    token = hashlib.sha256(json.dumps([url, service_id, body], sort_keys=True).encode()).hexdigest()[:32]
    return Registration(settings=settings, readiness_token=token)


def install_readiness(app: FastAPI, registration: Registration) -> None:
    """Answer the registrar's readiness probes outside every other layer, middleware added later included."""
    build_stack = app.build_middleware_stack

    def build_with_readiness() -> Any:
        return ReadinessMiddleware(build_stack(), token=registration.readiness_token)

    app.build_middleware_stack = build_with_readiness  # type: ignore[method-assign]


@asynccontextmanager
async def registered(registration: Registration | None, *, auth_on: bool) -> AsyncIterator[None]:
    """Keep the service registered while the block runs (in the background); deregister when it ends."""
    if registration is None:
        yield
        return
    if auth_on:
        logger.warning("registration.auth", message=AUTH_WARNING)
    registrar = Registrar(registration.settings, readiness_token=registration.readiness_token)
    task = asyncio.create_task(registrar.run(), name=f"chapkit-registration-{registration.settings.service_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await registrar.close()


def _port(value: str | None, name: str) -> int | None:
    if not value:
        return None
    port = _port_or_none(value)
    if port is None:
        raise ValueError(f"{name}={value!r} is not a port number")
    return port


def _port_or_none(value: str | None) -> int | None:
    try:
        port = int(value or "")
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


def _installed_chapkit_version() -> str | None:
    try:
        return version("chapkit")
    except PackageNotFoundError:
        return None


__all__ = [
    "AUTH_WARNING",
    "GIT_REVISION_ENV",
    "HOST_ENV",
    "ORCHESTRATOR_URL_ENV",
    "PORT_ENV",
    "REGISTRATION_KEY_ENV",
    "Registration",
    "info_warnings",
    "install_readiness",
    "registered",
    "resolve_registration",
    "served_info",
]
