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


__all__ = [
    "AuthOptions",
    "DependencyOverride",
    "HealthOptions",
    "JobOptions",
    "LifecycleHook",
    "MonitoringOptions",
    "SystemOptions",
]
