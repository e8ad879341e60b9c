"""FastAPI adapter: routers, static apps hosting, system information and monitoring."""

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
from chapkit.adapters.http.monitoring import MetricsRouter, get_service_metrics, install_monitoring
from chapkit.adapters.http.system import SystemInfo, SystemRouter, app_manager_from_state, current_system_info

__all__ = [
    "LANDING_PAGE_SOURCE",
    "App",
    "AppInfo",
    "AppLoader",
    "AppManager",
    "AppManifest",
    "AppStaticFiles",
    "MetricsRouter",
    "SystemInfo",
    "SystemRouter",
    "app_manager_from_state",
    "current_system_info",
    "deduplicate_apps",
    "get_service_metrics",
    "install_monitoring",
    "is_public_app_path",
    "landing_page_app",
    "mount_apps",
    "serving_app",
]
