"""`ServiceInfo` and the `GET /api/v1/info` endpoint that returns it."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict

from chapkit.domain.ml_checks import ModelRequirements

INFO_PATH = "/api/v1/info"

SERVICE_ID_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")
"""What a service id looks like (chap-core's slug): lowercase words of letters and digits joined by `-`."""


# Letters Unicode does not decompose into a base letter and an accent (NFKD handles "å", "é", "ü", ...).
GIT_REVISION_ENV = "GIT_REVISION"
"""The commit a service is built from, served as its info's `git_revision`."""

_SPELLED_OUT = str.maketrans({"æ": "ae", "ø": "o", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th"})


class ServiceInfo(BaseModel):
    """Service metadata for FastAPI application."""

    model_config = ConfigDict(extra="forbid")

    display_name: str
    version: str = "1.0.0"
    summary: str | None = None
    description: str | None = None
    contact: dict[str, str] | None = None
    license_info: dict[str, str] | None = None

    def requirements(self) -> ModelRequirements:
        """What the service requires of train and predict requests (nothing here; `MLServiceInfo` declares it)."""
        return ModelRequirements()

    def chap_core_warnings(self) -> list[str]:
        """What chap-core will miss in this info (nothing: chap-core drives ML services, `MLServiceInfo`)."""
        return []

    def with_build_provenance(self, *, git_revision: str | None, chapkit_version: str | None) -> ServiceInfo:
        """Return the info with build provenance filled in where it has fields for it (a plain info has none)."""
        del git_revision, chapkit_version
        return self


def service_id_from(display_name: str) -> str:
    """A service id derived from a display name: `"Malaria model (v2)"` gives `malaria-model-v2`.

    Letters lose their accents (`ø` becomes `o`), every run of other characters becomes one `-`; an id
    that would not start with a letter is prefixed with `service-` (`"2024 model"` gives
    `service-2024-model`), an empty one is `service`.
    """
    spelled = display_name.lower().translate(_SPELLED_OUT)
    ascii_name = unicodedata.normalize("NFKD", spelled).encode("ascii", "ignore").decode("ascii")
    words = re.findall(r"[a-z0-9]+", ascii_name.lower())
    slug = "-".join(words)
    if not slug:
        return "service"
    return slug if slug[0].isalpha() else f"service-{slug}"


def service_id_of(info: ServiceInfo) -> str:
    """The id a service registers under: its own `id` when its info has one, else derived from its name."""
    own = getattr(info, "id", None)
    return own if isinstance(own, str) and own else service_id_from(info.display_name)


def served_info(info: ServiceInfo, environ: Mapping[str, str]) -> ServiceInfo:
    """The info a service serves: an `MLServiceInfo` gets its build provenance filled in where unset.

    `git_revision` from `GIT_REVISION`, `chapkit_version` from the installed package.
    """
    try:
        installed: str | None = version("chapkit")
    except PackageNotFoundError:
        installed = None
    return info.with_build_provenance(git_revision=environ.get(GIT_REVISION_ENV) or None, chapkit_version=installed)


def install_info_endpoint(app: FastAPI, *, info: ServiceInfo, path: str = INFO_PATH) -> None:
    """Serve `info` (in its own type, e.g. `MLServiceInfo`) at `GET /api/v1/info`."""
    info_type = type(info)

    async def get_info() -> ServiceInfo:
        return info

    app.add_api_route(
        path, get_info, methods=["GET"], tags=["Service"], response_model=info_type, summary="Service info"
    )


__all__ = [
    "GIT_REVISION_ENV",
    "INFO_PATH",
    "SERVICE_ID_PATTERN",
    "ServiceInfo",
    "install_info_endpoint",
    "service_id_from",
    "service_id_of",
    "served_info",
]
