"""`ServiceInfo` and the `GET /api/v1/info` endpoint that returns it."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

INFO_PATH = "/api/v1/info"


class ServiceInfo(BaseModel):
    """Service metadata for FastAPI application."""

    model_config = ConfigDict(extra="forbid")

    display_name: str
    version: str = "1.0.0"
    summary: str | None = None
    description: str | None = None
    contact: dict[str, str] | None = None
    license_info: dict[str, str] | None = None


def install_info_endpoint(app: FastAPI, *, info: ServiceInfo, path: str = INFO_PATH) -> None:
    """Serve `info` (in its own type, e.g. `MLServiceInfo`) at `GET /api/v1/info`."""
    info_type = type(info)

    async def get_info() -> ServiceInfo:
        return info

    app.add_api_route(
        path, get_info, methods=["GET"], tags=["Service"], response_model=info_type, summary="Service info"
    )


__all__ = ["INFO_PATH", "ServiceInfo", "install_info_endpoint"]
