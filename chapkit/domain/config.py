"""Configs: the `Config` entity, its link to root artifacts, and the schemas of the config API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Generic

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializeAsAny,
    TypeAdapter,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic import ValidationError as PydanticValidationError
from typing_extensions import TypeVar
from ulid import ULID

from chapkit.domain.data_bounds import MAX_CONFIG_DATA_BYTES, MAX_NAME_LENGTH, check_data, check_json_size, check_text
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


PREDICTION_PERIODS = "prediction_periods"
"""Reserved config key (newer contract): how many periods a forecast covers, a positive integer."""
ADDITIONAL_CONTINUOUS_COVARIATES = "additional_continuous_covariates"
"""Reserved config key (newer contract): extra covariate columns the model reads, a list of names."""
USER_OPTION_VALUES = "user_option_values"
"""Key of chap-core's nested option values, hoisted to top-level keys by `BaseConfig`."""

_RESERVED_FIELDS: dict[str, TypeAdapter[Any]] = {
    # Strict: a value is stored as posted or refused, never converted (chap-core compares what it
    # sent with what comes back and stops at any difference).
    PREDICTION_PERIODS: TypeAdapter(Annotated[int, Field(strict=True, ge=1)]),
    ADDITIONAL_CONTINUOUS_COVARIATES: TypeAdapter(Annotated[list[str], Field(strict=True)]),
}
RESERVED_CONFIG_KEYS: tuple[str, ...] = tuple(_RESERVED_FIELDS)
"""Config keys the newer contract reserves: chap-core supplies them itself, they are no user options."""
STORED_CONFIG = "chapkit_stored_config"
"""Validation context key: the data is read back from storage, where the rules for input were applied
when it was stored. Readers that validate it with another class than the service's (plain
`BaseConfig` in artifact trees) then see it as stored."""


class BaseConfig(BaseModel):
    """Base class for configuration schemas with arbitrary extra fields allowed."""

    # (The docstring is the schema's `description` in `$schema`: kept as the reference has it.)
    # Speaks both generations of the config contract (D24). The reference's configs are unchanged:
    # nothing is added to what was posted. For chap-core, the reserved keys `prediction_periods` (a
    # positive integer) and `additional_continuous_covariates` (a list of strings) are validated when
    # present, strictly, and never added when absent; the entries of a nested `user_option_values`
    # object are hoisted to top-level keys (a top-level key of the same name wins) and the key itself
    # is dropped (`null` is dropped too). A subclass that declares one of these names as a field of
    # its own keeps its own rules for it.

    model_config = ConfigDict(extra="allow")

    @model_validator(mode="before")
    @classmethod
    def read_chap_core_keys(cls, data: Any, info: ValidationInfo) -> Any:
        """Hoist `user_option_values` and check the reserved keys the class does not declare itself."""
        if not isinstance(data, dict) or (isinstance(info.context, dict) and info.context.get(STORED_CONFIG)):
            return data
        fields = cls.model_fields
        if USER_OPTION_VALUES not in fields and USER_OPTION_VALUES in data:
            nested = data[USER_OPTION_VALUES]
            if isinstance(nested, dict):
                hoisted = {key: value for key, value in data.items() if key != USER_OPTION_VALUES}
                data = {**hoisted, **{key: value for key, value in nested.items() if key not in hoisted}}
            elif nested is None:
                data = {key: value for key, value in data.items() if key != USER_OPTION_VALUES}
        for key, adapter in _RESERVED_FIELDS.items():
            if key in data and key not in fields:
                try:
                    adapter.validate_python(data[key])
                except PydanticValidationError as error:
                    problem = error.errors()[0]
                    where = "".join(f"[{part}]" for part in problem["loc"])
                    raise ValueError(f"{key}{where}: {problem['msg']}") from None
        return data


DataT = TypeVar("DataT", bound=BaseConfig, default=BaseConfig)


def _bounded(value: Any) -> Any:
    """Reject config data nested too deeply, too large or with text that cannot be stored, before it is used."""
    check_data(value, what="Config data", max_bytes=MAX_CONFIG_DATA_BYTES)  # cheap: refuses huge data unencoded
    check_json_size(value, what="Config data")
    return value


class ConfigIn(EntityIn, Generic[DataT]):
    """Input schema for creating or updating configurations."""

    name: str = Field(max_length=MAX_NAME_LENGTH)
    data: DataT

    @field_validator("name")
    @classmethod
    def bound_name(cls, value: str) -> str:
        """Reject a name that cannot be stored (a NUL) or that no UTF-8 response could carry."""
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
    data: SerializeAsAny[DataT]
    """The service's config; serialized as the class it is (a service's schema under `ConfigOut[BaseConfig]`)."""

    @field_validator("data", mode="before")
    @classmethod
    def convert_dict_to_model(cls, v: Any, info: ValidationInfo) -> Any:
        """Convert dict to BaseConfig model if data_cls is provided in validation context."""
        if isinstance(v, BaseConfig):
            return v
        if isinstance(v, dict) and info.context and "data_cls" in info.context:
            data_cls: type[BaseConfig] = info.context["data_cls"]
            if data_cls is cls.__pydantic_fields__["data"].annotation:
                return v  # validated as that class by pydantic itself, with the same context
            return data_cls.model_validate(v, context=info.context)
        return v

    def serialize_data(self, value: DataT) -> Any:
        """Serialize BaseConfig data to JSON dict (the reference's method; `data` is written so by pydantic itself)."""
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
    "ADDITIONAL_CONTINUOUS_COVARIATES",
    "PREDICTION_PERIODS",
    "RESERVED_CONFIG_KEYS",
    "STORED_CONFIG",
    "USER_OPTION_VALUES",
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
