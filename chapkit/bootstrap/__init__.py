"""The composition root: the only package that knows every layer and chooses adapters."""

from chapkit.adapters.http.serving import run_app
from chapkit.bootstrap.base_service_builder import BaseServiceBuilder
from chapkit.bootstrap.containers import (
    MemoryStorage,
    ServiceContainer,
    ServiceSpec,
    SqlStorage,
    build_container,
    create_container,
)
from chapkit.bootstrap.dependencies import (
    get_app_manager,
    get_artifact_manager,
    get_config_manager,
    get_database,
    get_ml_manager,
    get_scheduler,
    get_session,
    get_task_manager,
    manager_dependency,
    set_app_manager,
    set_database,
    set_scheduler,
)
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.bootstrap.service_builder import ServiceBuilder, validate_and_disable_orphaned_tasks

__all__ = [
    "BaseServiceBuilder",
    "MLServiceBuilder",
    "MemoryStorage",
    "ServiceContainer",
    "ServiceSpec",
    "build_container",
    "ServiceBuilder",
    "SqlStorage",
    "create_container",
    "get_app_manager",
    "get_artifact_manager",
    "get_config_manager",
    "get_database",
    "get_ml_manager",
    "get_scheduler",
    "get_session",
    "get_task_manager",
    "manager_dependency",
    "run_app",
    "set_app_manager",
    "set_database",
    "set_scheduler",
    "validate_and_disable_orphaned_tasks",
]
