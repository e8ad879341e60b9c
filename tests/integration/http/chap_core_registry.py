"""chap-core's own service registry (its v2 services router and orchestrator), served for chapkit's tests.

Run with chap-core's Python, not chapkit's: `python chap_core_registry.py PORT REDIS_URL TTL_SECONDS`. The
router runs as chap-core runs it, except that its database session is an in-memory SQLite database with
chap-core's tables (the template sync after a registration writes there) and its orchestrator uses the
given Redis URL (a database of its own) and TTL (chap-core's is 30 s; tests need seconds).
"""

import sys
from collections.abc import Iterator

# Imported for their side effects: the tables are declared, and the template sync a registration runs is
# loaded before the first registration (chap-core's app loads it at start-up; loading it on the first
# request would take longer than a test's TTL).
import chap_core.database.model_templates_and_config_tables
import chap_core.database.tables
import chap_core.rest_api.v1.routers.crud  # noqa: F401
import uvicorn
from chap_core.rest_api.services.orchestrator import Orchestrator
from chap_core.rest_api.v1.routers.dependencies import get_session
from chap_core.rest_api.v2.dependencies import get_orchestrator
from chap_core.rest_api.v2.routers import services
from fastapi import FastAPI
from redis import Redis
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, SQLModel, create_engine


def main(port: int, redis_url: str, ttl_seconds: int) -> None:
    """Serve chap-core's `/v2/services` routes on 127.0.0.1:`port` until interrupted."""
    engine = create_engine("sqlite://", connect_args={"check_same_thread": False}, poolclass=StaticPool)
    SQLModel.metadata.create_all(engine)
    redis = Redis.from_url(redis_url)

    def session() -> Iterator[Session]:
        with Session(engine) as opened:
            yield opened

    app = FastAPI()
    app.include_router(services.router, prefix="/v2")
    app.dependency_overrides[get_orchestrator] = lambda: Orchestrator(redis_client=redis, ttl_seconds=ttl_seconds)
    app.dependency_overrides[get_session] = session
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="info")


if __name__ == "__main__":
    main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
