"""`BaseServiceBuilder`: composes a FastAPI service from the adapters, one container per built app."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Self

from fastapi import APIRouter, FastAPI

from chapkit.adapters.http.allocator import tune_allocator
from chapkit.adapters.http.app import App, AppLoader
from chapkit.adapters.http.app_mount import LANDING_PAGE_SOURCE, mount_apps
from chapkit.adapters.http.auth import (
    DEFAULT_UNAUTHENTICATED_PATHS,
    APIKeyMiddleware,
    load_api_keys_from_env,
    load_api_keys_from_file,
)
from chapkit.adapters.http.docs import add_offline_docs
from chapkit.adapters.http.errors import add_error_handlers
from chapkit.adapters.http.health import HealthCheck, HealthRouter
from chapkit.adapters.http.info import ServiceInfo, install_info_endpoint, served_info
from chapkit.adapters.http.jobs import JobRouter
from chapkit.adapters.http.middleware import ContextValueMiddleware, add_logging_middleware
from chapkit.adapters.http.monitoring import install_monitoring
from chapkit.adapters.http.openapi import create_openapi_customizer
from chapkit.adapters.http.registration import RegistrationOptions, install_readiness, resolve_registration
from chapkit.adapters.http.request_body import (
    DEFAULT_MAX_BODY_SIZE,
    MAX_BODY_SIZE_ENV,
    RequestBodyMiddleware,
    max_body_size_from_env,
)
from chapkit.adapters.http.startup import StartupFailureMiddleware
from chapkit.adapters.http.system import SystemRouter
from chapkit.bootstrap.containers import ServiceSpec, is_memory_url
from chapkit.bootstrap.dependencies import ServiceAppState, ServiceRuntime, current_scheduler, current_service
from chapkit.bootstrap.jobs_backend import JobsBackend, JobsSettings
from chapkit.bootstrap.service_lifespan import ServiceState, build_lifespan, database_health_check
from chapkit.bootstrap.service_options import (
    AuthOptions,
    DependencyOverride,
    HealthOptions,
    JobOptions,
    LifecycleHook,
    MonitoringOptions,
    SystemOptions,
)
from chapkit.domain.ports import Datastore

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///:memory:"
_HEALTH_CHECK_NAME_CHARS = frozenset("_-")


DEFAULT_POOL: dict[str, Any] = {"pool_size": 5, "max_overflow": 10, "pool_recycle": 3600, "pool_pre_ping": True}


def _with_database_url(spec: ServiceSpec, url: str, pool: dict[str, Any]) -> ServiceSpec:
    """`spec` on the database at `url` with the given pool (memory:// has none)."""
    return replace(spec, url=url, datastore=None, database_options={} if is_memory_url(url) else pool)


class BaseServiceBuilder:
    """Base service builder providing core FastAPI functionality without module dependencies."""

    def __init__(
        self,
        *,
        info: ServiceInfo,
        database_url: str = DEFAULT_DATABASE_URL,
        include_error_handlers: bool = True,
        include_logging: bool = False,
    ) -> None:
        """Initialize base service builder with core options."""
        if info.description is None and info.summary is not None:
            # FastAPI shows the description: keep the summary there when no description is given.
            self.info = info.model_copy(update={"description": info.summary})
        else:
            self.info = info
        self._title = self.info.display_name
        self._app_description = self.info.summary or self.info.description or ""
        self._version = self.info.version
        self._service_spec = _with_database_url(ServiceSpec(), database_url, DEFAULT_POOL)
        """What the `with_*` calls chose so far; `build()` completes it (`_spec`)."""
        self._include_error_handlers = include_error_handlers
        self._include_logging = include_logging
        self._max_body_size: int | None = DEFAULT_MAX_BODY_SIZE
        self._max_body_size_chosen = False  # unchosen: CHAPKIT_MAX_BODY_BYTES, else the default
        self._health_options: HealthOptions | None = None
        self._system_options: SystemOptions | None = None
        self._job_options: JobOptions | None = None
        self._auth_options: AuthOptions | None = None
        self._monitoring_options: MonitoringOptions | None = None
        self._registration_options: RegistrationOptions | None = None
        self._app_configs: list[App] = []
        self._custom_routers: list[APIRouter] = []
        self._dependency_overrides: dict[DependencyOverride, DependencyOverride] = {}
        self._startup_hooks: list[LifecycleHook] = []
        self._shutdown_hooks: list[LifecycleHook] = []

    # ---------------------------------------------------------------- fluent configuration

    def with_database(
        self,
        url_or_instance: str | Datastore | None = None,
        *,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_recycle: int = 3600,
        pool_pre_ping: bool = True,
    ) -> Self:
        """Configure database with URL string, Database instance, or default in-memory SQLite."""
        if url_or_instance is None or isinstance(url_or_instance, str):
            pool = {
                "pool_size": pool_size,
                "max_overflow": max_overflow,
                "pool_recycle": pool_recycle,
                "pool_pre_ping": pool_pre_ping,
            }
            url = DEFAULT_DATABASE_URL if url_or_instance is None else url_or_instance
            self._service_spec = _with_database_url(self._service_spec, url, pool)
        elif isinstance(url_or_instance, Datastore):
            # A pre-configured instance: its owner chose the pool, and disposes of it.
            self._service_spec = replace(self._service_spec, datastore=url_or_instance, database_options={})
        else:
            raise TypeError(
                f"Expected str, Database, or None, got {type(url_or_instance).__name__}. "
                "Use .with_database() for default, .with_database('url') for custom URL, "
                "or .with_database(db_instance) for pre-configured database."
            )
        return self

    def with_landing_page(self) -> Self:
        """Enable landing page at root path."""
        return self.with_app(LANDING_PAGE_SOURCE)

    def with_logging(self, enabled: bool = True) -> Self:
        """Enable structured logging with request tracing."""
        self._include_logging = enabled
        return self

    def with_request_size_limit(self, max_bytes: int | None = DEFAULT_MAX_BODY_SIZE) -> Self:
        """Limit request bodies on every route to `max_bytes` (a 413 problem beyond it); None removes the limit.

        Without this call the limit is `CHAPKIT_MAX_BODY_BYTES` (bytes) when set, else 64 MiB.
        """
        if max_bytes is not None and max_bytes < 1:
            raise ValueError("max_bytes must be positive (or None for no limit)")
        self._max_body_size = max_bytes
        self._max_body_size_chosen = True
        return self

    def with_health(
        self,
        *,
        prefix: str = "/health",
        tags: list[str] | None = None,
        checks: dict[str, HealthCheck] | None = None,
        include_database_check: bool = True,
    ) -> Self:
        """Add health check endpoint with optional custom checks."""
        self._health_options = HealthOptions(
            prefix=prefix,
            tags=list(tags) if tags is not None else ["Observability"],
            checks=dict(checks or {}),
            include_database_check=include_database_check,
        )
        return self

    def with_system(self, *, prefix: str = "/api/v1/system", tags: list[str] | None = None) -> Self:
        """Add system info endpoint."""
        self._system_options = SystemOptions(prefix=prefix, tags=list(tags) if tags is not None else ["Service"])
        return self

    def with_jobs(
        self,
        *,
        prefix: str = "/api/v1/jobs",
        tags: list[str] | None = None,
        max_concurrency: int | None = None,
        backend: JobsBackend | None = None,
        queue: str | None = None,
        heartbeat_interval: float | None = None,
        stale_after: float | None = None,
        record_ttl: float | None = None,
    ) -> Self:
        """Add job scheduler endpoints.

        `backend` chooses where jobs run: `"asyncio"` in this process (the default), `"procrastinate"`
        on a PostgreSQL queue served by `chapkit worker` processes (D22); None reads `CHAPKIT_JOBS_BACKEND`
        (and `queue`, `CHAPKIT_JOBS_QUEUE`) when the service is built. `heartbeat_interval` (default 2) and
        `stale_after` (default 30) say in seconds how often processes heartbeat and after how long a silent
        one's jobs are failed (None reads `CHAPKIT_JOBS_HEARTBEAT_INTERVAL` and `CHAPKIT_JOBS_STALE_AFTER`);
        `record_ttl` (seconds) prunes finished records that long after they finished (None: kept).
        With procrastinate, `max_concurrency` is each worker's default concurrency.
        """
        if max_concurrency is not None and max_concurrency < 1:
            raise ValueError("max_concurrency must be at least 1 (or None for no limit)")
        for name, seconds in (
            ("heartbeat_interval", heartbeat_interval),
            ("stale_after", stale_after),
            ("record_ttl", record_ttl),
        ):
            if seconds is not None and not seconds > 0:
                raise ValueError(f"{name} must be a positive number of seconds (or None for the default)")
        JobsSettings.resolve(backend, queue)  # refuse an unknown backend now, not at start-up
        self._job_options = JobOptions(
            prefix=prefix,
            tags=list(tags) if tags is not None else ["Jobs"],
            max_concurrency=max_concurrency,
            backend=backend,
            queue=queue,
            heartbeat_interval=heartbeat_interval,
            stale_after=stale_after,
            record_ttl=record_ttl,
        )
        return self

    def with_auth(
        self,
        *,
        api_keys: list[str] | None = None,
        api_key_file: str | None = None,
        env_var: str = "CHAPKIT_API_KEYS",
        header_name: str = "X-API-Key",
        unauthenticated_paths: list[str] | None = None,
    ) -> Self:
        """Enable API key authentication (direct keys, else a key file, else an environment variable)."""
        if api_keys is not None:
            keys = {key for key in api_keys if key}
            source = "direct_keys"
        elif api_key_file is not None:
            keys = load_api_keys_from_file(api_key_file)
            source = f"file:{api_key_file}"
        else:
            keys = load_api_keys_from_env(env_var)
            source = f"env:{env_var}"
        if not keys:
            raise ValueError("No API keys configured. Provide api_keys, api_key_file, or set environment variable.")
        self._auth_options = AuthOptions(
            api_keys=keys,
            header_name=header_name,
            unauthenticated_paths=set(unauthenticated_paths)
            if unauthenticated_paths
            else set(DEFAULT_UNAUTHENTICATED_PATHS),
            source=source,
        )
        return self

    def with_monitoring(
        self,
        *,
        prefix: str = "/metrics",
        tags: list[str] | None = None,
        service_name: str | None = None,
        enable_traces: bool = False,
    ) -> Self:
        """Enable OpenTelemetry monitoring with Prometheus endpoint and auto-instrumentation."""
        self._monitoring_options = MonitoringOptions(
            prefix=prefix,
            tags=list(tags) if tags is not None else ["Observability"],
            service_name=service_name,
            enable_traces=enable_traces,
        )
        return self

    def with_registration(
        self,
        *,
        orchestrator_url: str | None = None,
        host: str | None = None,
        port: int | None = None,
        service_key: str | None = None,
        timeout: float = 10.0,
        retry_delay: float = 1.0,
        max_retry_delay: float = 60.0,
        auto_deregister: bool = True,
    ) -> Self:
        """Register with a CHAP orchestrator once served; ping it; deregister on shutdown.

        Unset arguments come from `SERVICEKIT_ORCHESTRATOR_URL` (the register URL; without one nothing
        registers), `SERVICEKIT_HOST` (else the host name), `SERVICEKIT_PORT` (else the port served) and
        `SERVICEKIT_REGISTRATION_KEY` (sent as `X-Service-Key`). Failures are retried after `retry_delay`
        seconds, doubling up to `max_retry_delay`; the service never waits for the orchestrator. The
        environment alone also turns registration on. chap-core sends no API key: it cannot call a
        service built `with_auth`.
        """
        self._registration_options = RegistrationOptions(
            orchestrator_url=orchestrator_url,
            host=host,
            port=port,
            service_key=service_key,
            timeout=timeout,
            retry_delay=retry_delay,
            max_retry_delay=max_retry_delay,
            deregister=auto_deregister,
        )
        return self

    def with_app(self, path: str | Path | tuple[str, str], prefix: str | None = None) -> Self:
        """Register static app from filesystem path or package resource tuple."""
        self._app_configs.append(AppLoader.load(path, prefix=prefix))
        return self

    def with_apps(self, path: str | Path | tuple[str, str]) -> Self:
        """Auto-discover and register all apps in directory."""
        self._app_configs.extend(AppLoader.discover(path))
        return self

    def include_router(self, router: APIRouter) -> Self:
        """Include a custom router."""
        self._custom_routers.append(router)
        return self

    def override_dependency(self, dependency: DependencyOverride, override: DependencyOverride) -> Self:
        """Override a dependency for testing or customization."""
        self._dependency_overrides[dependency] = override
        return self

    def on_startup(self, hook: LifecycleHook) -> Self:
        """Register a startup hook."""
        self._startup_hooks.append(hook)
        return self

    def on_shutdown(self, hook: LifecycleHook) -> Self:
        """Register a shutdown hook."""
        self._shutdown_hooks.append(hook)
        return self

    # ---------------------------------------------------------------- build

    def build(self) -> FastAPI:
        """Build and configure the FastAPI application."""
        self._validate_configuration()
        self._validate_module_configuration()
        # The environment is read once, here: GIT_REVISION, the registration variables, the body limit,
        # the allocator tuning (process-wide: a service parses large bodies on several threads).
        tune_allocator(os.environ)
        info = served_info(self._service_info(), os.environ)
        registration = resolve_registration(self._registration_options, info, os.environ)
        max_body_size = self._resolved_max_body_size()

        state = ServiceState(
            runtime=ServiceRuntime(self._title, self._spec()),
            include_logging=self._include_logging,
            auth=(self._auth_options.source, len(self._auth_options.api_keys)) if self._auth_options else None,
            registration=registration,
            info_warnings=info.chap_core_warnings(),
        )
        app = FastAPI(
            title=self._title,
            description=self._app_description,
            version=self._version,
            lifespan=build_lifespan(state),
            docs_url=None,
            redoc_url=None,
        )
        add_offline_docs(app)
        app.state = ServiceAppState(state.runtime)
        app.state.service_state = state  # what a worker runs the service from (`run_worker`)
        app.state.database_url = self._service_spec.url
        app.openapi = create_openapi_customizer(app, max_body_size=max_body_size)  # type: ignore[method-assign]

        if self._include_error_handlers:
            add_error_handlers(app)
        # Always on (the size limit may be None): bad bodies are refused before anything is stored.
        app.add_middleware(RequestBodyMiddleware, max_body_size=max_body_size)
        if self._auth_options:
            app.add_middleware(
                APIKeyMiddleware,
                api_keys=self._auth_options.api_keys,
                header_name=self._auth_options.header_name,
                unauthenticated_paths=self._auth_options.unauthenticated_paths,
            )
        if self._include_logging:
            # Outside auth and the body limit, so their 401 and 413 answers carry an X-Request-ID too.
            add_logging_middleware(app)
        # Outermost: every other layer (auth, logging, handlers, endpoints) sees this service as current (D6).
        app.add_middleware(ContextValueMiddleware[ServiceRuntime], variable=current_service, value=state.runtime)
        # A start-up that fails for a missing extra is reported as its one line, not a traceback.
        app.add_middleware(StartupFailureMiddleware)

        if self._health_options:
            app.include_router(
                HealthRouter.create(
                    prefix=self._health_options.prefix,
                    tags=self._health_options.tags,
                    checks=self._health_checks(state.runtime),
                )
            )
        if self._system_options:
            app.include_router(SystemRouter.create(prefix=self._system_options.prefix, tags=self._system_options.tags))
        if self._job_options:
            app.include_router(
                JobRouter.create(
                    prefix=self._job_options.prefix,
                    tags=self._job_options.tags,
                    scheduler_factory=current_scheduler,
                )
            )
        if self._monitoring_options:
            install_monitoring(
                app,
                service_name=self._monitoring_options.service_name,
                enable_traces=self._monitoring_options.enable_traces,
                prefix=self._monitoring_options.prefix,
                tags=self._monitoring_options.tags,
            )

        self._register_module_routers(app)
        for router in self._custom_routers:
            app.include_router(router)
        install_info_endpoint(app, info=info)
        if registration is not None:
            install_readiness(app, registration)

        # Apps last: they catch what no route matched, so API routes always win.
        mount_apps(app, self._app_configs)
        state.runtime.app_manager = app.state.app_manager

        # The user's own overrides only: chapkit wires its routers through constructor arguments (D5).
        for dependency, override in self._dependency_overrides.items():
            app.dependency_overrides[dependency] = override
        state.startup_hooks = list(self._startup_hooks)
        state.shutdown_hooks = list(self._shutdown_hooks)
        return app

    # ---------------------------------------------------------------- extension points

    def _validate_module_configuration(self) -> None:
        """Extension point for module-specific validation (override in subclasses)."""

    def _register_module_routers(self, app: FastAPI) -> None:
        """Extension point for registering module-specific routers (override in subclasses)."""

    def _service_info(self) -> ServiceInfo:
        """Extension point: the info the service serves (before build provenance is filled in)."""
        return self.info

    # ---------------------------------------------------------------- helpers

    def _validate_configuration(self) -> None:
        """Validate core configuration."""
        if self._health_options:
            for name in self._health_options.checks:
                if not name or not all(ch.isalnum() or ch in _HEALTH_CHECK_NAME_CHARS for ch in name):
                    raise ValueError(
                        f"Health check name '{name}' contains invalid characters. "
                        "Only alphanumeric characters, underscores, and hyphens are allowed."
                    )

    def _resolved_max_body_size(self) -> int | None:
        """The body limit: `with_request_size_limit`'s, else `CHAPKIT_MAX_BODY_BYTES`, else 64 MiB."""
        if self._max_body_size_chosen:
            return self._max_body_size
        try:
            from_env = max_body_size_from_env(os.environ)
        except ValueError as exc:
            default = f"(or unset {MAX_BODY_SIZE_ENV} for the default of {DEFAULT_MAX_BODY_SIZE})"
            raise ValueError(f"{exc} {default}") from exc
        return from_env if from_env is not None else DEFAULT_MAX_BODY_SIZE

    def _health_checks(self, runtime: ServiceRuntime) -> dict[str, HealthCheck]:
        assert self._health_options is not None
        checks = dict(self._health_options.checks)
        if self._health_options.include_database_check:
            checks["database"] = database_health_check(runtime)
        return checks

    def _spec(self) -> ServiceSpec:
        """The service's spec as built: what the `with_*` calls chose, with the jobs settings completed.

        The environment fills in what `with_jobs` left open (`CHAPKIT_JOBS_*`), read here, once.
        """
        jobs = self._job_options
        if jobs is None:
            return self._service_spec
        settings = JobsSettings.resolve(
            jobs.backend,
            jobs.queue,
            heartbeat_interval=jobs.heartbeat_interval,
            stale_after=jobs.stale_after,
            record_ttl=jobs.record_ttl,
        )
        return replace(self._service_spec, jobs=settings, max_concurrency=jobs.max_concurrency)

    # ---------------------------------------------------------------- convenience

    @classmethod
    def create(cls, *, info: ServiceInfo, **kwargs: Any) -> FastAPI:
        """Create and build a FastAPI application in one call."""
        return cls(info=info, **kwargs).build()


__all__ = ["BaseServiceBuilder", "DependencyOverride", "LifecycleHook"]
