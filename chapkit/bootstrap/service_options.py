"""The options a `BaseServiceBuilder` collects before `build()` (one dataclass per fluent method)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from chapkit.adapters.http.health import HealthCheck

LifecycleHook = Callable[[FastAPI], Awaitable[None]]
"""A startup or shutdown hook: an async callable taking the app."""
DependencyOverride = Callable[..., Any]
"""A FastAPI dependency (or its replacement)."""


@dataclass(slots=True)
class HealthOptions:
    """What `with_health` was given."""

    prefix: str
    tags: list[str]
    checks: dict[str, HealthCheck]
    include_database_check: bool


@dataclass(slots=True)
class SystemOptions:
    """What `with_system` was given."""

    prefix: str
    tags: list[str]


@dataclass(slots=True)
class JobOptions:
    """What `with_jobs` was given."""

    prefix: str
    tags: list[str]
    max_concurrency: int | None
    backend: str | None = None
    queue: str | None = None
    heartbeat_interval: float | None = None
    stale_after: float | None = None
    record_ttl: float | None = None


@dataclass(slots=True)
class AuthOptions:
    """What `with_auth` resolved: the keys and where they came from."""

    api_keys: set[str]
    header_name: str
    unauthenticated_paths: set[str]
    source: str


@dataclass(slots=True)
class MonitoringOptions:
    """What `with_monitoring` was given."""

    prefix: str
    tags: list[str]
    service_name: str | None
    enable_traces: bool


@dataclass(slots=True)
class RegistrationOptions:
    """What `with_registration` was given (None: the environment decides, when the service is built)."""

    orchestrator_url: str | None = None
    host: str | None = None
    port: int | None = None
    service_key: str | None = None
    timeout: float = 10.0
    retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    deregister: bool = True

    def __post_init__(self) -> None:
        """Refuse settings that could never work, when `with_registration` is called."""
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"port must be a TCP port number (1-65535), not {self.port}")
        for name in ("timeout", "retry_delay", "max_retry_delay"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.max_retry_delay < self.retry_delay:
            raise ValueError("max_retry_delay must not be shorter than retry_delay")


__all__ = [
    "AuthOptions",
    "DependencyOverride",
    "HealthOptions",
    "JobOptions",
    "LifecycleHook",
    "MonitoringOptions",
    "RegistrationOptions",
    "SystemOptions",
]
