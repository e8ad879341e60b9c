"""`$defs.ModelConfiguration`: the config class's schema as chap-core reads user options from it."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, Field

from chapkit import BaseConfig, ConfigOut
from chapkit.domain.config import RESERVED_CONFIG_KEYS
from chapkit.domain.config_schema import MODEL_CONFIGURATION, config_schema_document, model_configuration_schema


class Method(StrEnum):
    ewma = "ewma"
    arima = "arima"


class Smoothing(BaseModel):
    alpha: float = 0.3
    method: Method = Method.ewma


class Cat(BaseModel):
    kind: Literal["cat"] = "cat"
    lives: int = 9


class Dog(BaseModel):
    kind: Literal["dog"] = "dog"


class Node(BaseModel):
    name: str = "root"
    children: list[Node] = Field(default_factory=list)


class Rich(BaseConfig):
    lags: int = Field(default=3, ge=1, description="Past periods used")
    method: Method = Method.arima
    smoothing: Smoothing = Smoothing()
    layers: list[Smoothing] = Field(default_factory=lambda: [Smoothing(alpha=0.1)])
    covariates: list[str] = Field(default_factory=list)
    pet: Cat | Dog = Field(default_factory=Cat, discriminator="kind")
    tree: Node = Node()
    threshold: float


def refs_in(value: Any) -> list[str]:
    text = json.dumps(value)
    return [part for part in ('"$ref"', "#/$defs/") if part in text]


def chap_core_user_options(document: dict[str, Any]) -> dict[str, Any]:
    """What chap-core derives: `$defs.ModelConfiguration.properties` without the reserved keys."""
    options = dict(document["$defs"][MODEL_CONFIGURATION]["properties"])
    for key in RESERVED_CONFIG_KEYS:
        options.pop(key, None)
    return options


def chap_core_check(options: dict[str, Any], values: dict[str, Any]) -> None:
    """How chap-core checks a configured model's option values (no `$defs` in this schema)."""
    schema = {
        "type": "object",
        "properties": options,
        "required": [key for key, value in options.items() if "default" not in value],
        "additionalProperties": False,
    }
    jsonschema.validate(instance=values, schema=schema)


def test_the_reference_document_is_kept_and_model_configuration_added() -> None:
    document = config_schema_document(ConfigOut[Rich], Rich)
    reference = ConfigOut[Rich].model_json_schema()
    added = document["$defs"].pop(MODEL_CONFIGURATION)
    assert document == reference
    assert added == model_configuration_schema(Rich)


def test_model_configuration_has_no_ref_and_every_optional_option_has_its_default() -> None:
    schema = model_configuration_schema(Rich)
    assert refs_in(schema) == [] and "$defs" not in schema
    properties = schema["properties"]
    assert properties["lags"] == {
        "default": 3,
        "description": "Past periods used",
        "minimum": 1,
        "title": "Lags",
        "type": "integer",
    }
    assert properties["method"]["enum"] == ["ewma", "arima"] and properties["method"]["default"] == "arima"
    assert properties["smoothing"]["properties"]["method"]["enum"] == ["ewma", "arima"]
    assert properties["smoothing"]["default"] == {"alpha": 0.3, "method": "ewma"}
    assert properties["layers"]["items"]["properties"]["alpha"]["default"] == 0.3
    assert properties["layers"]["default"] == [{"alpha": 0.1, "method": "ewma"}]
    assert properties["covariates"]["default"] == []
    assert properties["pet"]["default"] == {"kind": "cat", "lives": 9}
    assert "mapping" not in properties["pet"]["discriminator"]
    assert {"default"} <= properties["tree"].keys()
    # a recursive definition is described one level deep
    assert properties["tree"]["properties"]["children"]["items"] == {"type": "object", "title": "Node"}


def test_an_option_without_a_default_stays_required() -> None:
    schema = model_configuration_schema(Rich)
    assert "default" not in schema["properties"]["threshold"] and schema["required"] == ["threshold"]


def test_chap_core_reads_the_options_and_validates_configured_models_against_them() -> None:
    options = chap_core_user_options(config_schema_document(ConfigOut[Rich], Rich))
    assert set(options) == {"lags", "method", "smoothing", "layers", "covariates", "pet", "tree", "threshold"}
    chap_core_check(options, {"threshold": 0.5})
    chap_core_check(options, {"threshold": 0.5, "lags": 4, "method": "ewma", "smoothing": {"alpha": 0.2}})
    for bad in ({}, {"threshold": 0.5, "lags": 0}, {"threshold": 0.5, "method": "other"}, {"threshold": 1, "x": 1}):
        with pytest.raises(jsonschema.ValidationError):
            chap_core_check(options, bad)


def test_base_config_and_reserved_fields() -> None:
    document = config_schema_document(ConfigOut[BaseConfig], BaseConfig)
    schema = document["$defs"][MODEL_CONFIGURATION]
    assert schema == {**document["$defs"]["BaseConfig"], "properties": {}}
    assert schema["additionalProperties"] is True and schema["type"] == "object"
    assert chap_core_user_options(document) == {}

    class Declared(BaseConfig):
        prediction_periods: int = 4
        alpha: float = 0.1

    options = chap_core_user_options(config_schema_document(ConfigOut[Declared], Declared))
    assert set(options) == {"alpha"}


def test_a_config_class_named_model_configuration_keeps_a_valid_document() -> None:
    class ModelConfiguration(BaseConfig):
        level: Method = Method.ewma

    document = config_schema_document(ConfigOut[ModelConfiguration], ModelConfiguration)
    assert document["properties"]["data"] == {"$ref": "#/$defs/ModelConfiguration"}
    assert refs_in(document["$defs"][MODEL_CONFIGURATION]) == []
    validator = jsonschema.Draft202012Validator(document)
    row = {"id": "0" * 26, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z", "name": "n"}
    assert validator.is_valid({**row, "data": {"level": "arima"}})
    assert not validator.is_valid({**row, "data": {"level": "other"}})


def test_a_factory_default_json_cannot_carry_is_left_out() -> None:
    class Odd(BaseConfig):
        blob: Any = Field(default_factory=object)

    assert "default" not in model_configuration_schema(Odd)["properties"]["blob"]
