"""`MLServiceInfo` and `AssessedStatus`: the metadata of an ML service, served at `GET /api/v1/info`.

`MLServiceInfo` extends the HTTP adapter's `ServiceInfo` (unknown fields are refused, as there), so it
lives beside it rather than in the domain. Beyond the reference it may declare what the model requires of
its input (`period_type`, `min_prediction_periods`, `max_prediction_periods`, `required_covariates`,
`requires_geo`); `requirements()` gives them to the ML use case, which refuses requests that break them.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, HttpUrl, WithJsonSchema, model_validator

from chapkit.adapters.http.info import ServiceInfo
from chapkit.domain.ml_checks import ModelRequirements, PeriodType

# A pragmatic check (one "@", no spaces, a dot in the domain) instead of pydantic's `EmailStr`, which
# needs the email-validator package that chapkit does not depend on.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


class MLServiceInfo(ServiceInfo):
    """Service metadata of an ML model service: who made the model, how validated it is, how to cite it."""

    author: str | None = None
    author_note: str | None = None
    author_assessed_status: AssessedStatus | None = None
    contact_email: EmailAddress | None = None
    organization: str | None = None
    organization_logo_url: str | HttpUrl | None = None
    citation_info: str | None = None
    period_type: PeriodType | None = Field(default=None, description="Period length of the data: week or month")
    min_prediction_periods: int | None = Field(default=None, ge=0, description="Fewest periods a prediction covers")
    max_prediction_periods: int | None = Field(default=None, ge=0, description="Most periods a prediction covers")
    required_covariates: list[str] = Field(default_factory=list, description="Columns train and predict data need")
    requires_geo: bool = Field(default=False, description="Whether requests must carry geo data")

    @model_validator(mode="after")
    def _requirements_consistent(self) -> MLServiceInfo:
        low, high = self.min_prediction_periods, self.max_prediction_periods
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_prediction_periods ({low}) exceeds max_prediction_periods ({high})")
        return self

    def requirements(self) -> ModelRequirements:
        """What this service requires of train and predict requests."""
        return ModelRequirements(
            period_type=self.period_type,
            min_prediction_periods=self.min_prediction_periods,
            max_prediction_periods=self.max_prediction_periods,
            required_covariates=tuple(self.required_covariates),
            requires_geo=self.requires_geo,
        )


__all__ = ["AssessedStatus", "EmailAddress", "MLServiceInfo"]
