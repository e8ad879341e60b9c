"""The `$schema` document of the config API: the reference's document plus `$defs.ModelConfiguration` (D24).

chap-core reads a model's user options from `$defs.ModelConfiguration.properties` of `GET
/configs/$schema`: it drops the reserved keys, stores every other property as it is, and later checks
configured models against `{properties, required: every property without a default,
additionalProperties: false}` with the `$defs` gone. So `ModelConfiguration` is the config class's own
schema made self-contained:

- every `$ref` is replaced by the definition it points to (nested models, enums), keeping the
  referring schema's own keywords (`default`, `description`) over the definition's;
- an option whose default comes from a `default_factory` carries that default (pydantic leaves it
  out, which would make chap-core treat the option as required);
- an option the class requires (no default) is listed without one: chap-core then requires a value
  for it, as the service does. Leaving it out would make every config chap-core posts fail, and an
  invented default would be stored as if the user had chosen it;
- a recursive definition is described one level deep: where it refers to itself again, the schema
  says only `{"type": "object"}` (or `{}` for a non-object), and the service still validates fully;
- OpenAPI's `discriminator.mapping` (references by name) is left out.

The reserved keys are in `ModelConfiguration` only when the class declares them as fields itself.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticSerializationError, to_jsonable_python

MODEL_CONFIGURATION = "ModelConfiguration"
"""Name of the `$defs` entry chap-core reads the user options from."""

_SUBSCHEMA = frozenset(
    {
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    }
)
_SUBSCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_SUBSCHEMA_MAPS = frozenset({"$defs", "definitions", "dependentSchemas", "patternProperties", "properties"})


def config_schema_document(out_schema: type[BaseModel], data_cls: type[BaseModel]) -> dict[str, Any]:
    """The reference's `$schema` document (the schema of `out_schema`) with `$defs.ModelConfiguration` added."""
    document = out_schema.model_json_schema()
    document.setdefault("$defs", {})[MODEL_CONFIGURATION] = model_configuration_schema(data_cls)
    return document


def model_configuration_schema(data_cls: type[BaseModel]) -> dict[str, Any]:
    """The config class's JSON schema without `$ref`, every option that has a default carrying it."""
    schema = data_cls.model_json_schema()
    definitions: dict[str, Any] = schema.pop("$defs", {})
    inlined: dict[str, Any] = _inline(schema, definitions, ())
    properties = inlined.get("properties")
    if isinstance(properties, dict):
        _add_factory_defaults(data_cls, properties)
    return inlined


def _inline(node: Any, definitions: dict[str, Any], expanding: tuple[str, ...]) -> Any:
    """`node` with each `$ref` replaced by its definition; `expanding` holds the definitions being inlined."""
    if isinstance(node, list):
        return [_inline(item, definitions, expanding) for item in node]
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    result: dict[str, Any] = {}
    reference = node.get("$ref")
    if isinstance(reference, str) and reference.startswith("#/$defs/"):
        name = reference.removeprefix("#/$defs/")
        definition = definitions.get(name)
        if definition is not None:
            if name in expanding:
                result.update(_recursion_stub(definition))
            else:
                result.update(_inline(definition, definitions, (*expanding, name)))
    for key, value in node.items():
        if key == "$ref" and isinstance(reference, str) and reference.startswith("#/$defs/"):
            continue
        if key in _SUBSCHEMA:
            result[key] = _inline(value, definitions, expanding)
        elif key in _SUBSCHEMA_LISTS and isinstance(value, list):
            result[key] = [_inline(item, definitions, expanding) for item in value]
        elif key in _SUBSCHEMA_MAPS and isinstance(value, dict):
            result[key] = {name: _inline(item, definitions, expanding) for name, item in value.items()}
        elif key == "discriminator" and isinstance(value, dict):
            result[key] = {name: item for name, item in value.items() if name != "mapping"}
        else:
            result[key] = copy.deepcopy(value)
    return result


def _recursion_stub(definition: Any) -> dict[str, Any]:
    """What a definition that refers to itself is described as, one level down."""
    if not isinstance(definition, dict):
        return {}
    stub: dict[str, Any] = {"type": "object"} if definition.get("type") == "object" else {}
    if isinstance(definition.get("title"), str):
        stub["title"] = definition["title"]
    return stub


def _add_factory_defaults(data_cls: type[BaseModel], properties: dict[str, Any]) -> None:
    """Give each option whose default comes from a `default_factory` that default, as JSON."""
    for name, field in data_cls.model_fields.items():
        factory = field.default_factory
        # A factory that reads the other fields' values (pydantic >= 2.10) has no default on its own.
        if factory is None or getattr(field, "default_factory_takes_validated_data", False):
            continue
        keys = [field.validation_alias, field.alias, name]
        key = next((key for key in keys if isinstance(key, str) and key in properties), None)
        if key is None or not isinstance(properties[key], dict) or "default" in properties[key]:
            continue
        try:
            properties[key]["default"] = to_jsonable_python(factory())  # type: ignore[call-arg]
        except (PydanticSerializationError, TypeError, ValueError):
            continue  # a default JSON cannot carry: the option is listed without one


__all__ = ["MODEL_CONFIGURATION", "config_schema_document", "model_configuration_schema"]
