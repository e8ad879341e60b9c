"""MLServiceInfo and AssessedStatus: fields, validation and the info endpoint."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import HttpUrl, ValidationError

from chapkit.adapters.http.info import ServiceInfo, install_info_endpoint
from chapkit.adapters.http.ml_info import AssessedStatus, MLServiceInfo


def test_assessed_status_values() -> None:
    assert [status.value for status in AssessedStatus] == ["gray", "red", "orange", "yellow", "green"]
    assert AssessedStatus("green") is AssessedStatus.green


def test_ml_service_info_fields() -> None:
    info = MLServiceInfo(
        display_name="Malaria model",
        author="A. Modeller",
        author_note="Trained on 2010-2020",
        author_assessed_status="orange",  # type: ignore[arg-type]
        contact_email="modeller@example.org",
        organization="HISP",
        organization_logo_url="https://example.org/logo.png",
        citation_info="Modeller et al. (2024)",
    )
    assert isinstance(info, ServiceInfo)
    assert info.author_assessed_status is AssessedStatus.orange
    assert info.model_dump(mode="json")["author_assessed_status"] == "orange"
    assert MLServiceInfo(display_name="x").author is None


def test_logo_url_may_be_a_string_or_a_url() -> None:
    assert MLServiceInfo(display_name="x", organization_logo_url="/static/logo.png").organization_logo_url == (
        "/static/logo.png"
    )
    url = HttpUrl("https://example.org/logo.png")
    dumped = MLServiceInfo(display_name="x", organization_logo_url=url).model_dump(mode="json")
    assert dumped["organization_logo_url"] == "https://example.org/logo.png"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "a b@example.org", "@example.org", "a@example.org."])
def test_contact_email_is_validated(email: str) -> None:
    with pytest.raises(ValidationError):
        MLServiceInfo(display_name="x", contact_email=email)


@pytest.mark.parametrize(
    "fields", [{"unknown": 1}, {"author_assessed_status": "blue"}, {"author_assessed_status": "GREEN"}]
)
def test_unknown_fields_and_statuses_are_refused(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        MLServiceInfo.model_validate({"display_name": "x", **fields})


async def test_the_info_endpoint_serves_the_ml_fields_and_documents_them() -> None:
    app = FastAPI()
    info = MLServiceInfo(display_name="Model", author="A", author_assessed_status=AssessedStatus.green)
    install_info_endpoint(app, info=info)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        body = (await client.get("/api/v1/info")).json()
        schema = (await client.get("/openapi.json")).json()
    assert body["author"] == "A" and body["author_assessed_status"] == "green"
    assert body["display_name"] == "Model"
    assert set(schema["components"]["schemas"]["AssessedStatus"]["enum"]) == {s.value for s in AssessedStatus}
    email = schema["components"]["schemas"]["MLServiceInfo"]["properties"]["contact_email"]
    assert {"type": "string", "format": "email"} in email["anyOf"]
