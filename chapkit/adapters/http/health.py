"""Health checks: `HealthState`, `CheckResult`, `HealthStatus` and `HealthRouter` (+ `/$stream`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Query
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from chapkit.adapters.http.router import Router
from chapkit.adapters.http.sse import SSE_HEADERS, SSE_MEDIA_TYPE, format_sse_model_event


class HealthState(StrEnum):
    """Health state of a service or of one check."""

    HEALTHY = "healthy"
    DEGRADED = "degraded"
    UNHEALTHY = "unhealthy"


class CheckResult(BaseModel):
    """Result of one health check."""

    state: HealthState = Field(description="State reported by the check")
    message: str | None = Field(default=None, description="Explanation, when the check gives one")


class HealthStatus(BaseModel):
    """Overall health and, when checks are configured, the result of each."""

    status: HealthState = Field(description="Overall state")
    checks: dict[str, CheckResult] | None = Field(default=None, description="Result of each check")


HealthCheck = Callable[[], Awaitable[tuple[HealthState, str | None]]]
"""An async callable returning `(state, message or None)`."""

_SEVERITY = {HealthState.HEALTHY: 0, HealthState.DEGRADED: 1, HealthState.UNHEALTHY: 2}


async def run_health_checks(checks: dict[str, HealthCheck]) -> HealthStatus:
    """Run every check; the worst state wins and a check that raises counts as unhealthy."""
    if not checks:
        return HealthStatus(status=HealthState.HEALTHY)
    results: dict[str, CheckResult] = {}
    overall = HealthState.HEALTHY
    for name, check in checks.items():
        try:
            state, message = await check()
            result = CheckResult(state=HealthState(state), message=message)
        except Exception as error:
            result = CheckResult(state=HealthState.UNHEALTHY, message=f"Check failed: {error}")
        results[name] = result
        if _SEVERITY[result.state] > _SEVERITY[overall]:
            overall = result.state
    return HealthStatus(status=overall, checks=results)


class HealthRouter(Router):
    """Health check router for service health monitoring."""

    default_response_model_exclude_none = True

    def __init__(
        self,
        prefix: str,
        tags: list[str],
        checks: dict[str, HealthCheck] | None = None,
        **kwargs: Any,
    ) -> None:
        """Initialize health router with optional health checks."""
        self.checks = checks or {}
        super().__init__(prefix=prefix, tags=tags, **kwargs)

    def _register_routes(self) -> None:
        """Register the health endpoint and its SSE stream."""
        checks = self.checks
        exclude_none = self.default_response_model_exclude_none

        @self.router.get(
            "", summary="Health check", response_model=HealthStatus, response_model_exclude_none=exclude_none
        )
        async def health_check() -> HealthStatus:
            return await run_health_checks(checks)

        @self.router.get(
            "/$stream",
            summary="Stream health status updates via SSE",
            description="Real-time Server-Sent Events stream of health status at regular intervals",
            response_class=StreamingResponse,
            responses={200: {"content": {SSE_MEDIA_TYPE: {"schema": {"type": "string"}}}}},
        )
        async def stream_health_status(
            poll_interval: Annotated[float, Query(gt=0, le=3600, description="Seconds between events")] = 1.0,
        ) -> StreamingResponse:
            async def event_stream() -> AsyncIterator[bytes]:
                while True:
                    status = await run_health_checks(checks)
                    yield format_sse_model_event(status, exclude_none=exclude_none)
                    await asyncio.sleep(poll_interval)

            return StreamingResponse(event_stream(), media_type=SSE_MEDIA_TYPE, headers=SSE_HEADERS)


__all__ = ["CheckResult", "HealthCheck", "HealthRouter", "HealthState", "HealthStatus", "run_health_checks"]
