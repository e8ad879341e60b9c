"""System information router: host facts and the installed static apps."""

import platform
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, TypeAdapter

from chapkit.adapters.http.app import AppInfo, AppManager


class SystemInfo(BaseModel):
    """System information of the host running the service."""

    current_time: datetime = Field(description="Current time in UTC")
    timezone: str = Field(description="Local timezone of the host")
    python_version: str = Field(description="Python version (major.minor.micro)")
    platform: str = Field(description="Platform description")
    hostname: str = Field(description="Host name")


def app_manager_from_state(request: Request) -> AppManager:
    """The app manager `mount_apps` stored on the application (no apps when none were mounted)."""
    manager = getattr(request.app.state, "app_manager", None)
    return manager if isinstance(manager, AppManager) else AppManager([])


def current_system_info() -> SystemInfo:
    """Collect the system information of this process's host."""
    return SystemInfo(
        current_time=datetime.now(UTC),
        timezone=str(datetime.now().astimezone().tzinfo),
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}",
        platform=platform.platform(),
        hostname=platform.node(),
    )


class SystemRouter:
    """System information router."""

    default_response_model_exclude_none: bool = False

    def __init__(
        self,
        prefix: str,
        tags: Sequence[str],
        *,
        app_manager_factory: Callable[..., AppManager] = app_manager_from_state,
        **kwargs: Any,
    ) -> None:
        """Initialize router with prefix, tags and the dependency that yields the app manager."""
        self.app_manager_factory = app_manager_factory
        self.router = APIRouter(prefix=prefix, tags=list(tags), **kwargs)
        self._register_routes()

    @classmethod
    def create(cls, prefix: str, tags: Sequence[str], **kwargs: Any) -> APIRouter:
        """Create a router instance and return the FastAPI router."""
        return cls(prefix=prefix, tags=tags, **kwargs).router

    def _register_routes(self) -> None:
        """Register system info endpoint."""
        app_manager_factory = self.app_manager_factory
        apps_schema = TypeAdapter(list[AppInfo]).json_schema()

        @self.router.get("", summary="System information", response_model=SystemInfo)
        async def get_system_info() -> SystemInfo:
            return current_system_info()

        @self.router.get("/apps", summary="List installed apps", response_model=list[AppInfo])
        async def list_apps(app_manager: Annotated[AppManager, Depends(app_manager_factory)]) -> list[AppInfo]:
            """List all installed apps with their metadata."""
            return [AppInfo.from_app(app) for app in app_manager.list()]

        @self.router.get("/apps/$schema", summary="Get apps list schema", response_model=dict[str, Any])
        async def get_apps_schema() -> dict[str, Any]:
            """Get JSON schema for apps list response."""
            return apps_schema


__all__ = ["SystemInfo", "SystemRouter", "app_manager_from_state", "current_system_info"]
