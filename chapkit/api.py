"""Service-building names (D1): builders, routers, middleware and helpers arrive with the HTTP adapter."""

from chapkit.adapters.http import (
    App,
    AppInfo,
    AppLoader,
    AppManager,
    AppManifest,
    MetricsRouter,
    SystemInfo,
    SystemRouter,
    install_monitoring,
    landing_page_app,
    mount_apps,
)
from chapkit.adapters.observability import (
    add_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    reset_request_context,
)

__all__ = [
    "App",
    "AppInfo",
    "AppLoader",
    "AppManager",
    "AppManifest",
    "MetricsRouter",
    "SystemInfo",
    "SystemRouter",
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "get_logger",
    "install_monitoring",
    "landing_page_app",
    "mount_apps",
    "reset_request_context",
]
