"""The HTTP adapter (FastAPI): routers, CRUD, health, jobs, auth, request logging, errors, OpenAPI."""

from chapkit.adapters.http.auth import APIKeyMiddleware, load_api_keys_from_env, load_api_keys_from_file
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
from chapkit.adapters.http.openapi import clean_generic_schema_names, create_openapi_customizer
from chapkit.adapters.http.pagination import PaginationParams, create_paginated_response
from chapkit.adapters.http.router import Router
from chapkit.adapters.http.sse import SSE_HEADERS, format_sse_event, format_sse_model_event
from chapkit.adapters.http.utilities import build_location_url

__all__ = [
    "APIKeyMiddleware",
    "CheckResult",
    "CrudPermissions",
    "CrudRouter",
    "HealthCheck",
    "HealthRouter",
    "HealthState",
    "HealthStatus",
    "JobRouter",
    "ManagerFactory",
    "PaginationParams",
    "RequestLoggingMiddleware",
    "Router",
    "SSE_HEADERS",
    "ServiceInfo",
    "add_error_handlers",
    "add_logging_middleware",
    "build_location_url",
    "chapkit_exception_handler",
    "clean_generic_schema_names",
    "create_openapi_customizer",
    "create_paginated_response",
    "database_error_handler",
    "format_sse_event",
    "format_sse_model_event",
    "load_api_keys_from_env",
    "load_api_keys_from_file",
    "validation_error_handler",
]
