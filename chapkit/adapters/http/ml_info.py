"""`MLServiceInfo` and `AssessedStatus`: the metadata of an ML service, served at `GET /api/v1/info`.

`MLServiceInfo` extends the HTTP adapter's `ServiceInfo` (unknown fields are refused, as there), so it
lives beside it rather than in the domain.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, HttpUrl, WithJsonSchema

from chapkit.adapters.http.info import ServiceInfo

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


__all__ = ["AssessedStatus", "EmailAddress", "MLServiceInfo"]
