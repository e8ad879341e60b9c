"""Monitoring: Prometheus metrics at `/metrics`, health checks at `/health`, host facts at `/api/v1/system`.

`with_monitoring()` (extra `chapkit[monitoring]`) instruments every HTTP request (counted and timed
per route) through OpenTelemetry and serves the metrics in Prometheus text format. `with_health` runs
the database check plus this service's own `disk` check: a degraded check turns the overall state
`degraded`, an unhealthy one `unhealthy`. Run from the repository root:

    chapkit serve examples.monitoring.main:app

then `curl http://127.0.0.1:8000/health`, `curl http://127.0.0.1:8000/api/v1/system` and, after a
few requests, `curl http://127.0.0.1:8000/metrics`. Storage: `monitoring.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
import shutil

from chapkit import BaseConfig, HealthState, ServiceBuilder, ServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///monitoring.db")
MIN_FREE_BYTES = 100 * 1024 * 1024


async def disk_check() -> tuple[HealthState, str | None]:
    """Degraded when the working directory's disk has less than 100 MiB free."""
    free = shutil.disk_usage(".").free
    if free < MIN_FREE_BYTES:
        return HealthState.DEGRADED, f"{free // (1024 * 1024)} MiB free"
    return HealthState.HEALTHY, None


app = (
    ServiceBuilder(info=ServiceInfo(display_name="Monitored configs", summary="Metrics, health and system"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health(checks={"disk": disk_check})
    .with_system()
    .with_config(BaseConfig)
    .with_monitoring(service_name="monitored-configs")
    .build()
)
