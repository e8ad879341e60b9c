"""Configs: the `Config` entity, its link to root artifacts, and the schemas of the config API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_serializer, field_validator
from typing_extensions import TypeVar
from ulid import ULID

from chapkit.domain.data_bounds import MAX_NAME_LENGTH, check_data, check_json_size, check_text
from chapkit.domain.errors import BadRequestError
from chapkit.domain.ids import ULIDValue
from chapkit.domain.schemas import EntityIn, EntityOut


class ArtifactLinkError(BadRequestError, ValueError):
    """A config cannot be linked to this artifact: it does not exist or is not a root (400)."""


@dataclass(kw_only=True, eq=False)
class Config:
    """A named configuration; `data` holds the service's config schema as a JSON object.

    Entities compare by identity (`eq=False`): two objects with the same values are still two objects.
    """

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    id: ULID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        """Store a config schema instance given as `data` as its JSON object."""
        self.data = config_data_json(self.data)


def config_data_json(value: Any) -> dict[str, Any]:
    """The JSON object stored as config data: a pydantic model is dumped in JSON mode, a dict is kept.

    Anything else raises `TypeError`, as assigning it to the reference's `Config.data` does.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, dict):
        return value
    raise TypeError(f"data must be a BaseConfig subclass or dict, got {type(value)}")


@dataclass(kw_only=True, eq=False)
class ConfigArtifact:
    """Link between a config and a root artifact; an artifact is linked to at most one config."""

    config_id: ULID
    artifact_id: ULID


class BaseConfig(BaseModel):
    """Base class for configuration schemas with arbitrary extra fields allowed."""

    model_config = ConfigDict(extra="allow")


DataT = TypeVar("DataT", bound=BaseConfig, default=BaseConfig)


def _bounded(value: Any) -> Any:
    """Reject config data nested too deeply, too large or unencodable before it is validated or stored."""
    check_data(value, what="Config data")
    check_json_size(value, what="Config data")
    return value


class ConfigIn(EntityIn, Generic[DataT]):
    """Input schema for creating or updating configurations."""

    name: str = Field(max_length=MAX_NAME_LENGTH)
    data: DataT

    @field_validator("name")
    @classmethod
    def bound_name(cls, value: str) -> str:
        """Reject a name that no UTF-8 response could carry."""
        return check_text(value, what="Config name")

    @field_validator("data", mode="before")
    @classmethod
    def bound_data(cls, value: Any) -> Any:
        """Reject data nested deeper than `MAX_DATA_DEPTH`, larger than `MAX_CONFIG_DATA_BYTES` or unencodable."""
        return _bounded(value)


class ConfigOut(EntityOut, Generic[DataT]):
    """Output schema for configuration entities."""

    model_config = ConfigDict(ser_json_timedelta="float", ser_json_bytes="base64")

    name: str
    data: DataT

    @field_validator("data", mode="before")
    @classmethod
    def convert_dict_to_model(cls, v: Any, info: ValidationInfo) -> Any:
        """Convert dict to BaseConfig model if data_cls is provided in validation context."""
        if isinstance(v, BaseConfig):
            return v
        if isinstance(v, dict) and info.context and "data_cls" in info.context:
            data_cls: type[BaseConfig] = info.context["data_cls"]
            return data_cls.model_validate(v)
        return v

    @field_serializer("data", when_used="json")
    def serialize_data(self, value: DataT) -> Any:
        """Serialize BaseConfig data to JSON dict."""
        if isinstance(value, BaseModel):
            return value.model_dump(mode="json")
        return value


class LinkArtifactRequest(BaseModel):
    """Request schema for linking an artifact to a config."""

    artifact_id: ULIDValue


class UnlinkArtifactRequest(BaseModel):
    """Request schema for unlinking an artifact from a config."""

    artifact_id: ULIDValue


__all__ = [
    "ArtifactLinkError",
    "BaseConfig",
    "Config",
    "ConfigArtifact",
    "ConfigIn",
    "ConfigOut",
    "DataT",
    "LinkArtifactRequest",
    "UnlinkArtifactRequest",
    "config_data_json",
]
