"""The HTTP adapter (FastAPI): routers, CRUD, health, jobs, auth, logging, errors, OpenAPI, apps, system, monitoring."""

from chapkit.adapters.http.app import App, AppInfo, AppLoader, AppManager, AppManifest
from chapkit.adapters.http.app_mount import (
    LANDING_PAGE_SOURCE,
    AppStaticFiles,
    deduplicate_apps,
    is_public_app_path,
    landing_page_app,
    mount_apps,
    serving_app,
)
from chapkit.adapters.http.artifact_router import ArtifactRouter
from chapkit.adapters.http.auth import APIKeyMiddleware, load_api_keys_from_env, load_api_keys_from_file
from chapkit.adapters.http.config_router import ConfigRouter
from chapkit.adapters.http.crud import CrudPermissions, CrudRouter, ManagerFactory
from chapkit.adapters.http.errors import (
    add_error_handlers,
    chapkit_exception_handler,
    database_error_handler,
    validation_error_handler,
)
from chapkit.adapters.http.health import CheckResult, HealthCheck, HealthRouter, HealthState, HealthStatus
from chapkit.adapters.http.info import ServiceInfo
from chapkit.adapters.http.jobs import JobRouter
from chapkit.adapters.http.middleware import RequestLoggingMiddleware, add_logging_middleware
from chapkit.adapters.http.monitoring import MetricsRouter, get_service_metrics, install_monitoring
from chapkit.adapters.http.openapi import clean_generic_schema_names, create_openapi_customizer
from chapkit.adapters.http.pagination import PaginationParams, create_paginated_response
from chapkit.adapters.http.router import Router
from chapkit.adapters.http.sse import SSE_HEADERS, format_sse_event, format_sse_model_event
from chapkit.adapters.http.system import SystemInfo, SystemRouter, app_manager_from_state, current_system_info
from chapkit.adapters.http.task_router import TaskRouter
from chapkit.adapters.http.utilities import build_location_url

__all__ = [
    "LANDING_PAGE_SOURCE",
    "SSE_HEADERS",
    "APIKeyMiddleware",
    "ArtifactRouter",
    "ConfigRouter",
    "App",
    "AppInfo",
    "AppLoader",
    "AppManager",
    "AppManifest",
    "AppStaticFiles",
    "CheckResult",
    "CrudPermissions",
    "CrudRouter",
    "HealthCheck",
    "HealthRouter",
    "HealthState",
    "HealthStatus",
    "JobRouter",
    "ManagerFactory",
    "MetricsRouter",
    "PaginationParams",
    "RequestLoggingMiddleware",
    "Router",
    "TaskRouter",
    "ServiceInfo",
    "SystemInfo",
    "SystemRouter",
    "add_error_handlers",
    "add_logging_middleware",
    "app_manager_from_state",
    "build_location_url",
    "chapkit_exception_handler",
    "clean_generic_schema_names",
    "create_openapi_customizer",
    "create_paginated_response",
    "current_system_info",
    "database_error_handler",
    "deduplicate_apps",
    "format_sse_event",
    "format_sse_model_event",
    "get_service_metrics",
    "install_monitoring",
    "is_public_app_path",
    "landing_page_app",
    "load_api_keys_from_env",
    "load_api_keys_from_file",
    "mount_apps",
    "serving_app",
    "validation_error_handler",
]
