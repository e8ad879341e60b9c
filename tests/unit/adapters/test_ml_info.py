"""MLServiceInfo and AssessedStatus: fields, validation and the info endpoint."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import HttpUrl, ValidationError

from chapkit.adapters.http.info import SERVICE_ID_PATTERN, ServiceInfo, install_info_endpoint
from chapkit.adapters.http.ml_info import AssessedStatus, MLServiceInfo, ModelMetadata
from chapkit.domain.ml_checks import ModelRequirements, PeriodType


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


# ---------------------------------------------------------------- the union of both contract generations (D24)

REFERENCE_FIELDS = {"display_name", "version", "summary", "description", "contact", "license_info"}
AUTHORSHIP = {
    "author",
    "author_note",
    "author_assessed_status",
    "contact_email",
    "organization",
    "organization_logo_url",
    "citation_info",
    "repository_url",
    "documentation_url",
}
NEWER_FIELDS = {
    "id",
    "model_metadata",
    "period_type",
    "min_prediction_periods",
    "max_prediction_periods",
    "required_covariates",
    "allow_free_additional_continuous_covariates",
    "requires_geo",
    "target",
    "hpo_search_space",
    "git_revision",
    "chapkit_version",
}


async def served(info: ServiceInfo) -> dict[str, object]:
    app = FastAPI()
    install_info_endpoint(app, info=info)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        body: dict[str, object] = (await client.get("/api/v1/info")).json()
    return body


async def test_the_served_info_is_the_union_with_chap_cores_defaults() -> None:
    body = await served(MLServiceInfo(display_name="Malaria model (v2)"))
    assert set(body) == REFERENCE_FIELDS | AUTHORSHIP | NEWER_FIELDS
    assert body["id"] == "malaria-model-v2"
    assert body["model_metadata"] == dict.fromkeys(AUTHORSHIP)
    assert body["period_type"] == "any"
    assert body["min_prediction_periods"] == 0 and body["max_prediction_periods"] == 100
    assert body["required_covariates"] == [] and body["allow_free_additional_continuous_covariates"] is False
    assert body["requires_geo"] is False and body["target"] == "disease_cases" and body["hpo_search_space"] is None
    assert body["git_revision"] is None and body["chapkit_version"] is None


async def test_a_plain_service_info_serves_the_reference_fields_only() -> None:
    assert set(await served(ServiceInfo(display_name="x"))) == REFERENCE_FIELDS


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Malaria model (v2)", "malaria-model-v2"),
        ("  CHAP -- EWARS  ", "chap-ewars"),
        ("Ærø Modell", "aero-modell"),
        ("Straße Modèle", "strasse-modele"),
        ("2024 model", "service-2024-model"),
        ("!!!", "service"),
    ],
)
def test_the_id_is_derived_from_the_display_name(name: str, expected: str) -> None:
    info = MLServiceInfo(display_name=name)
    assert info.id == expected and SERVICE_ID_PATTERN.match(info.id)
    assert MLServiceInfo(display_name=name, id=None).id == expected  # type: ignore[arg-type]


def test_a_given_id_is_kept_and_must_be_a_slug() -> None:
    assert MLServiceInfo(display_name="Malaria", id="chap-ewars-2").id == "chap-ewars-2"
    for bad in ["Malaria", "2model", "a--b", "model-", "a_b", ""]:
        with pytest.raises(ValidationError, match="service id"):
            MLServiceInfo(display_name="x", id=bad)


@pytest.mark.parametrize(("given", "served_as"), [("week", "weekly"), ("month", "monthly"), ("weekly", "weekly")])
def test_period_type_reads_the_aliases_and_serves_chap_cores_names(given: str, served_as: str) -> None:
    info = MLServiceInfo(display_name="x", period_type=given)  # type: ignore[arg-type]
    assert info.model_dump(mode="json")["period_type"] == served_as


def test_unset_means_the_default_and_nothing_is_served_as_null() -> None:
    info = MLServiceInfo.model_validate(
        {"display_name": "x", "period_type": None, "min_prediction_periods": None, "max_prediction_periods": None}
    )
    dumped = info.model_dump(mode="json")
    assert dumped["period_type"] == "any"
    assert (dumped["min_prediction_periods"], dumped["max_prediction_periods"]) == (0, 100)


def test_requirements_are_what_the_info_serves() -> None:
    assert MLServiceInfo(display_name="x").requirements() == ModelRequirements(
        period_type=PeriodType.any, min_prediction_periods=0, max_prediction_periods=100
    )
    declared = MLServiceInfo(
        display_name="x", period_type="monthly", max_prediction_periods=6, required_covariates=["rain"], target="cases"
    ).requirements()
    assert declared.period_type is PeriodType.monthly and declared.required_covariates == ("rain",)
    assert (declared.min_prediction_periods, declared.max_prediction_periods) == (0, 6)
    assert declared.target == "cases"
    with pytest.raises(ValidationError, match="exceeds"):
        MLServiceInfo(display_name="x", min_prediction_periods=200)


def test_authorship_given_flat_or_nested_fills_both() -> None:
    flat = MLServiceInfo(display_name="x", author="A", repository_url="https://github.com/org/model")
    assert flat.model_metadata.author == "A" and flat.model_metadata.repository_url == "https://github.com/org/model"
    nested = MLServiceInfo(
        display_name="x", model_metadata=ModelMetadata(author="B", author_assessed_status=AssessedStatus.yellow)
    )
    assert nested.author == "B" and nested.author_assessed_status is AssessedStatus.yellow
    both = MLServiceInfo.model_validate(
        {
            "display_name": "x",
            "documentation_url": HttpUrl("https://docs.example.org/"),
            "model_metadata": {"documentation_url": "https://docs.example.org/", "citation_info": "Doe (2024)"},
        }
    )
    assert both.citation_info == "Doe (2024)"


def test_the_same_field_given_both_ways_with_different_values_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"author is given twice with different values: 'A' and model_metadata"):
        MLServiceInfo(display_name="x", author="A", model_metadata=ModelMetadata(author="B"))
    with pytest.raises(ValidationError):
        MLServiceInfo.model_validate({"display_name": "x", "model_metadata": {"unknown": 1}})


def test_values_chap_core_would_refuse_stay_out_of_model_metadata_with_a_warning() -> None:
    info = MLServiceInfo(
        display_name="x",
        organization_logo_url="/static/logo.png",
        contact_email="modeller@lab.local",
        repository_url="https://github.com/org/model",
        git_revision="0123456789ABCDEF0123456789abcdef01234567",
    )
    dumped = info.model_dump(mode="json")
    assert dumped["organization_logo_url"] == "/static/logo.png" and dumped["contact_email"] == "modeller@lab.local"
    metadata = dumped["model_metadata"]
    assert metadata["organization_logo_url"] is None and metadata["contact_email"] is None
    assert metadata["repository_url"] == "https://github.com/org/model"
    assert dumped["git_revision"] == "0123456789abcdef0123456789abcdef01234567"
    warnings = info.chap_core_warnings()
    assert len(warnings) == 2
    assert "contact_email" in warnings[0] and "organization_logo_url" in warnings[1]
    assert info.model_metadata.organization_logo_url == "/static/logo.png"  # the object keeps what was given


@pytest.mark.parametrize("revision", ["main", "abc12", "not-a-sha-at-all", "0123456789abcdef0123456789abcdef012345678"])
def test_a_git_revision_that_is_no_commit_sha_is_not_served_and_warned_about(revision: str) -> None:
    info = MLServiceInfo(display_name="x", git_revision=revision)
    assert info.model_dump(mode="json")["git_revision"] is None
    assert [warning for warning in info.chap_core_warnings() if "git_revision" in warning] == [
        f"git_revision {revision!r} is not a 7-40 character hex commit sha, so it is not served: "
        "chap-core stores no model template for a service without one"
    ]
    assert "git_revision is unset" in MLServiceInfo(display_name="x").chap_core_warnings()[0]


def test_build_provenance_fills_only_what_is_unset() -> None:
    info = MLServiceInfo(display_name="x", chapkit_version="pinned")
    filled = info.with_build_provenance(git_revision="abcdef1", chapkit_version="9.9")
    assert (filled.git_revision, filled.chapkit_version) == ("abcdef1", "pinned")
    assert info.with_build_provenance(git_revision=None, chapkit_version=None) is info
