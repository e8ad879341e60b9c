"""The config API speaks chap-core's generation too (D24): echoes, reserved keys, hoisting, `$schema`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pydantic import Field

from chapkit import ArtifactHierarchy, BaseConfig, ServiceBuilder, ServiceInfo
from tests.integration.http.conftest import serve
from tests.integration.http.test_configs import CONFIGS, problem


class ChapOptions(BaseConfig):
    some_option: int = 2
    smoothing: float = 0.5
    covariates: list[str] = Field(default_factory=lambda: ["rainfall"])


@pytest.fixture
async def client(storage_url: str) -> AsyncIterator[httpx.AsyncClient]:
    builder = ServiceBuilder(info=ServiceInfo(display_name="Chap configs")).with_database(storage_url)
    async with serve(builder.with_config(ChapOptions).build()) as client:
        yield client


def check_stored_config(sent: dict[str, Any], stored: dict[str, Any]) -> None:
    """chap-core's check of a created config: it reads `data` with the reserved defaults filled in,
    then every key it sent must be there with an equal value (`3` and `"3"` differ)."""
    read = {"prediction_periods": 3, "additional_continuous_covariates": [], **stored}
    dropped = [key for key in sent if key not in read]
    assert dropped == [], f"did not store {dropped}"
    changed = {key: (value, read[key]) for key, value in sent.items() if read[key] != value}
    assert changed == {}, f"stored different values {changed}"
    assert {key: json_type(read[key]) for key in sent} == {key: json_type(value) for key, value in sent.items()}


def json_type(value: Any) -> str:
    """The JSON type of a value (`1` and `1.0` are both numbers)."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


async def post_config(client: httpx.AsyncClient, data: dict[str, Any]) -> dict[str, Any]:
    response = await client.post(CONFIGS, json={"name": "chap_1718000000000000", "data": data})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    "sent",
    [
        {},
        {"additional_continuous_covariates": []},
        {"some_option": 3, "additional_continuous_covariates": []},
        {"some_option": 3, "smoothing": 0.25, "additional_continuous_covariates": ["rainfall", "mean_temperature"]},
        {"smoothing": 1, "covariates": [], "unknown_option": {"kept": [1, 2.5, "x", None, True]}},
        {"prediction_periods": 6},
    ],
)
async def test_what_chap_core_posts_comes_back_as_sent(client: httpx.AsyncClient, sent: dict[str, Any]) -> None:
    created = await post_config(client, sent)
    check_stored_config(sent, created["data"])
    check_stored_config(sent, (await client.get(f"{CONFIGS}/{created['id']}")).json()["data"])
    assert [config["id"] for config in (await client.get(CONFIGS)).json()] == [created["id"]]


async def test_reserved_keys_are_never_added(client: httpx.AsyncClient) -> None:
    created = await post_config(client, {"some_option": 3})
    assert created["data"] == {"some_option": 3, "smoothing": 0.5, "covariates": ["rainfall"]}


async def test_exactly_the_posted_keys_come_back_for_a_class_with_one_option(storage_url: str) -> None:
    class OneOption(BaseConfig):
        some_option: int = 2

    builder = ServiceBuilder(info=ServiceInfo(display_name="One option")).with_database(storage_url)
    async with serve(builder.with_config(OneOption).build()) as client:
        sent = {"some_option": 3, "additional_continuous_covariates": []}
        assert (await post_config(client, sent))["data"] == sent


async def test_user_option_values_are_hoisted_on_create_and_update(client: httpx.AsyncClient) -> None:
    created = await post_config(client, {"user_option_values": {"some_option": 9, "smoothing": 0.1}, "smoothing": 0.7})
    assert created["data"] == {"smoothing": 0.7, "some_option": 9, "covariates": ["rainfall"]}
    data = {"user_option_values": {"covariates": []}, "additional_continuous_covariates": []}
    updated = await client.put(f"{CONFIGS}/{created['id']}", json={"name": "renamed", "data": data})
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"] == {
        "additional_continuous_covariates": [],
        "covariates": [],
        "some_option": 2,
        "smoothing": 0.5,
    }


@pytest.mark.parametrize(
    "data",
    [
        {"prediction_periods": 0},
        {"prediction_periods": "3"},
        {"additional_continuous_covariates": "rainfall"},
        {"additional_continuous_covariates": [1]},
        {"user_option_values": {"some_option": "three"}},
        {"some_option": "three"},
    ],
)
async def test_bad_values_are_422_and_nothing_is_stored(client: httpx.AsyncClient, data: dict[str, Any]) -> None:
    body = problem(await client.post(CONFIGS, json={"name": "bad", "data": data}), 422)
    assert body["detail"][0]["loc"][:2] == ["body", "data"]
    assert (await client.get(CONFIGS)).json() == []


async def test_schema_is_the_reference_document_plus_model_configuration(client: httpx.AsyncClient) -> None:
    document = (await client.get(f"{CONFIGS}/$schema")).json()
    assert document["properties"]["data"] == {"$ref": "#/$defs/ChapOptions"}
    assert set(document["properties"]) == {"id", "created_at", "updated_at", "name", "data"}
    options = document["$defs"]["ModelConfiguration"]["properties"]
    assert {key: value["default"] for key, value in options.items()} == {
        "some_option": 2,
        "smoothing": 0.5,
        "covariates": ["rainfall"],
    }
    assert "$ref" not in str(document["$defs"]["ModelConfiguration"])


async def test_a_class_with_its_own_reserved_fields_reads_back_everywhere(storage_url: str) -> None:
    class OwnRules(BaseConfig):
        additional_continuous_covariates: list[str] | None = None
        prediction_periods: int = 0
        user_option_values: dict[str, Any] = Field(default_factory=dict)

    builder = ServiceBuilder(info=ServiceInfo(display_name="Own rules")).with_database(storage_url)
    builder.with_config(OwnRules).with_artifacts(hierarchy=ArtifactHierarchy(name="ml"), enable_config_linking=True)
    async with serve(builder.build()) as client:
        created = await post_config(client, {"user_option_values": {"a": 1}})
        stored = {"additional_continuous_covariates": None, "prediction_periods": 0, "user_option_values": {"a": 1}}
        assert created["data"] == stored
        root = (await client.post("/api/v1/artifacts", json={"data": {"kind": "model"}})).json()["id"]
        linked = await client.post(f"{CONFIGS}/{created['id']}/$link-artifact", json={"artifact_id": root})
        assert linked.status_code == 204, linked.text
        for operation in ("$tree", "$expand", "$config"):
            response = await client.get(f"/api/v1/artifacts/{root}/{operation}")
            assert response.status_code == 200, response.text
            body = response.json()
            assert (body["data"] if operation == "$config" else body["config"]["data"]) == stored
