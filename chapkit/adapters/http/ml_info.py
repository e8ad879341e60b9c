"""`MLServiceInfo`, `ModelMetadata` and `AssessedStatus`: the metadata of an ML service, at `GET /api/v1/info`.

`MLServiceInfo` extends the HTTP adapter's `ServiceInfo` (unknown fields are refused, as there), so it
lives beside it rather than in the domain. It serves the union of both contract generations (D24): the
reference's fields, with the authorship fields flat at the top level, and the fields chap-core reads: `id`,
`model_metadata` (the same authorship, nested), `period_type`, the prediction bounds, the covariates,
`target`, `hpo_search_space`, `git_revision` and `chapkit_version`.

Authorship may be given either way (flat, as the reference does, or in `model_metadata`, as chap-core
does); both are then filled. The same field given both ways with different values is refused. A value
chap-core's model would refuse (a logo URL that is a relative path, an e-mail address it deems not
routable) keeps its reference meaning in the flat field but is left out of `model_metadata`, and
`chap_core_warnings()` says so: the service logs it at start-up.

The input requirements (`period_type`, the bounds, `required_covariates`, `requires_geo`) are also what
`requirements()` gives the ML use case, which refuses requests that break them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    WithJsonSchema,
    field_serializer,
    field_validator,
    model_validator,
)

from chapkit.adapters.http.info import SERVICE_ID_PATTERN, ServiceInfo, service_id_from
from chapkit.adapters.http.info_values import commit_sha, is_http_url, is_routable_email
from chapkit.domain.ml_checks import ModelRequirements, PeriodType

# A pragmatic check (one "@", no spaces, a dot in the domain) instead of pydantic's `EmailStr`, which
# needs the email-validator package that chapkit does not depend on.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

DEFAULT_MIN_PREDICTION_PERIODS = 0
DEFAULT_MAX_PREDICTION_PERIODS = 100
DEFAULT_TARGET = "disease_cases"


def _email_address(value: str) -> str:
    if len(value) > 254 or not _EMAIL.match(value) or value.endswith("."):
        raise ValueError("value is not a valid email address")
    return value


EmailAddress = Annotated[str, AfterValidator(_email_address), WithJsonSchema({"type": "string", "format": "email"})]
"""An e-mail address (`name@example.org`)."""


class AssessedStatus(StrEnum):
    """How far the model author considers the model validated."""

    gray = "gray"
    """Deprecated or not for use."""
    red = "red"
    """Experimental prototype."""
    orange = "orange"
    """Promising, on limited data."""
    yellow = "yellow"
    """Ready for more rigorous testing."""
    green = "green"
    """Validated, for production."""


class ModelMetadata(BaseModel):
    """Who made the model and where to read about it: the `model_metadata` chap-core shows in its catalogue."""

    model_config = ConfigDict(extra="forbid")

    author: str | None = None
    author_note: str | None = None
    author_assessed_status: AssessedStatus | None = None
    contact_email: EmailAddress | None = None
    organization: str | None = None
    organization_logo_url: str | HttpUrl | None = None
    citation_info: str | None = None
    repository_url: str | HttpUrl | None = Field(default=None, description="The model's source code")
    documentation_url: str | HttpUrl | None = Field(default=None, description="The model's documentation")


AUTHORSHIP_FIELDS: tuple[str, ...] = tuple(ModelMetadata.model_fields)
"""The fields `MLServiceInfo` takes flat or nested in `model_metadata`."""
_URL_FIELDS = frozenset({"organization_logo_url", "repository_url", "documentation_url"})


def _refused_by_chap_core(name: str, value: object) -> str | None:
    """Why chap-core would refuse `value` for authorship field `name` (None: it accepts it)."""
    if value is None:
        return None
    if name in _URL_FIELDS and not is_http_url(value):
        return "not an absolute http(s) URL"
    if name == "contact_email" and not is_routable_email(value):
        return "not an e-mail address chap-core accepts"
    return None


def _id_schema(schema: dict[str, Any]) -> None:
    # The default ("" until derived from display_name) is never served: the schema shows the pattern instead.
    schema.pop("default", None)
    schema["pattern"] = SERVICE_ID_PATTERN.pattern


def _same(first: object, second: object) -> bool:
    # An HttpUrl and the string it was parsed from are the same value given two ways.
    return first == second or (isinstance(first, str | HttpUrl) and str(first) == str(second))


class MLServiceInfo(ServiceInfo):
    """Service metadata of an ML model service: who made the model, what it needs, how to cite it.

    `id` (chap-core's registry key, a slug such as `malaria-model`) is derived from `display_name` when
    not given. `period_type` unset means `any`; `week`/`month` are read as `weekly`/`monthly`.
    """

    id: str = Field(
        default="",
        description="Service id: lowercase letters and digits joined by '-' (default: from display_name)",
        json_schema_extra=_id_schema,
    )
    author: str | None = None
    author_note: str | None = None
    author_assessed_status: AssessedStatus | None = None
    contact_email: EmailAddress | None = None
    organization: str | None = None
    organization_logo_url: str | HttpUrl | None = None
    citation_info: str | None = None
    repository_url: str | HttpUrl | None = Field(default=None, description="The model's source code")
    documentation_url: str | HttpUrl | None = Field(default=None, description="The model's documentation")
    model_metadata: ModelMetadata = Field(
        default_factory=ModelMetadata, description="The authorship fields, nested (as chap-core reads them)"
    )
    period_type: PeriodType = Field(default=PeriodType.any, description="Period length of the data")
    min_prediction_periods: int = Field(
        default=DEFAULT_MIN_PREDICTION_PERIODS, ge=0, description="Fewest periods a prediction covers"
    )
    max_prediction_periods: int = Field(
        default=DEFAULT_MAX_PREDICTION_PERIODS, ge=0, description="Most periods a prediction covers"
    )
    required_covariates: list[str] = Field(default_factory=list, description="Columns train and predict data need")
    allow_free_additional_continuous_covariates: bool = Field(
        default=False, description="Whether callers may add continuous covariates beyond the required ones"
    )
    requires_geo: bool = Field(default=False, description="Whether requests must carry geo data")
    target: str = Field(default=DEFAULT_TARGET, description="The column the model predicts")
    hpo_search_space: dict[str, Any] | None = Field(
        default=None, description="Search space for tuning the model's options"
    )
    git_revision: str | None = Field(
        default=None, description="Commit the service is built from (GIT_REVISION); served only as a hex sha"
    )
    chapkit_version: str | None = Field(default=None, description="chapkit version the service runs on")

    @model_validator(mode="before")
    @classmethod
    def _defaults_for_unset(cls, data: Any) -> Any:
        # None means "not given" for the fields that are never served as null (chap-core types them).
        if not isinstance(data, dict):
            return data
        filled = dict(data)
        if filled.get("id") is None and isinstance(filled.get("display_name"), str):
            filled["id"] = service_id_from(filled["display_name"])
        for name in ("period_type", "min_prediction_periods", "max_prediction_periods"):
            if name in filled and filled[name] is None:
                del filled[name]
        return filled

    @field_validator("id")
    @classmethod
    def _id_is_a_slug(cls, value: str) -> str:
        if not SERVICE_ID_PATTERN.match(value):
            raise ValueError(
                f"id {value!r} is not a service id: lowercase letters and digits joined by '-', "
                "starting with a letter (e.g. 'malaria-model')"
            )
        return value

    @model_validator(mode="after")
    def _authorship_and_bounds(self) -> MLServiceInfo:
        low, high = self.min_prediction_periods, self.max_prediction_periods
        if low > high:
            raise ValueError(f"min_prediction_periods ({low}) exceeds max_prediction_periods ({high})")
        merged: dict[str, Any] = {}
        for name in AUTHORSHIP_FIELDS:
            flat, nested = getattr(self, name), getattr(self.model_metadata, name)
            if flat is not None and nested is not None and not _same(flat, nested):
                raise ValueError(
                    f"{name} is given twice with different values: {flat!r} and model_metadata.{name} {nested!r}"
                )
            merged[name] = flat if flat is not None else nested
        # Both views carry the same authorship, whichever way it was given.
        for name, value in merged.items():
            setattr(self, name, value)
        self.model_metadata = self.model_metadata.model_copy(update=merged)
        return self

    @field_serializer("model_metadata")
    def _serve_what_chap_core_accepts(self, metadata: ModelMetadata) -> ModelMetadata:
        refused = {name: None for name in AUTHORSHIP_FIELDS if _refused_by_chap_core(name, getattr(metadata, name))}
        return metadata.model_copy(update=refused) if refused else metadata

    @field_serializer("git_revision")
    def _serve_a_commit_sha(self, value: str | None) -> str | None:
        return commit_sha(value)

    def chap_core_warnings(self) -> list[str]:
        """What chap-core will miss in this info, one sentence each (the service logs them at start-up)."""
        warnings = []
        for name in AUTHORSHIP_FIELDS:
            value = getattr(self.model_metadata, name)
            reason = _refused_by_chap_core(name, value)
            if reason is not None:
                warnings.append(
                    f"model_metadata.{name} is left out of the info: {str(value)!r} is {reason} "
                    f"(the flat field {name} still serves it)"
                )
        if self.git_revision is None:
            warnings.append(
                "git_revision is unset (set GIT_REVISION to the commit the service is built from): "
                "chap-core stores no model template for a service without one"
            )
        elif commit_sha(self.git_revision) is None:
            warnings.append(
                f"git_revision {self.git_revision!r} is not a 7-40 character hex commit sha, so it is not served: "
                "chap-core stores no model template for a service without one"
            )
        return warnings

    def with_build_provenance(self, *, git_revision: str | None, chapkit_version: str | None) -> MLServiceInfo:
        """A copy with `git_revision` and `chapkit_version` filled in where this info leaves them unset."""
        updates = {
            name: value
            for name, value in (("git_revision", git_revision), ("chapkit_version", chapkit_version))
            if getattr(self, name) is None and value
        }
        return self.model_copy(update=updates) if updates else self

    def requirements(self) -> ModelRequirements:
        """What this service requires of train and predict requests: the bounds it serves are the ones enforced."""
        return ModelRequirements(
            period_type=self.period_type,
            min_prediction_periods=self.min_prediction_periods,
            max_prediction_periods=self.max_prediction_periods,
            required_covariates=tuple(self.required_covariates),
            requires_geo=self.requires_geo,
            target=self.target,
        )


__all__ = ["AUTHORSHIP_FIELDS", "AssessedStatus", "EmailAddress", "MLServiceInfo", "ModelMetadata"]
