"""OpenAPI links: what a client (or a stateful fuzzer) can do next with the ids a response returns.

Derived from the document itself, by naming convention, so every service gets the links of the routes
it has. A collection is a path `C` with item routes `C/{param}` (and `C/{param}/$operation`); its
singular is its last segment without the trailing `s` (`/api/v1/configs` -> `config`). An id field
refers to a collection: `id` in the 201 answer of `POST C` to `C`, and `<singular>_id` or
`..._<singular>_id` (`artifact_id`, `model_artifact_id`, `job_id`) to the collection of that singular.
From every success response holding such a field, links lead to:

- every item operation of the collection it refers to, the id as the path parameter
  (create config -> read, update, delete it; `$train` -> the job and the model artifact);
- every operation whose JSON body has a field referring to the same collection, the id merged into the
  generated body (create config -> `$train` with its `config_id`). Where the body names one of several
  spellings of the id (`oneOf` of `required` alternatives: `$predict`'s `artifact_id` and
  `model_artifact_id`, D24), one link per spelling sends a whole body: the id, and every other required
  field taken from the source request's field of the same schema (a `$train`'s `data` as `$predict`'s
  `historic` and `future`), or no link when one cannot be found.

And from every success response of an item operation to reading and deleting the same item
(`$download` -> delete). Event streams are never a link's target: they do not end.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

_SCHEMA_PREFIX = "#/components/schemas/"
_METHODS = ("get", "put", "post", "delete", "patch")
_ITEM_PATH = re.compile(r"^(?P<collection>.+)/\{(?P<param>[A-Za-z_][A-Za-z0-9_]*)\}(?:/\$[^/]+)?$")
_JSON = "application/json"
_LINK_EXTENSION = "x-schemathesis"
"""Tells schemathesis that a link's `requestBody` is the whole body, not fields to merge into one."""


@dataclass(frozen=True, slots=True)
class _Operation:
    path: str
    method: str
    definition: dict[str, Any]

    @property
    def operation_id(self) -> str | None:
        value = self.definition.get("operationId")
        return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class _Collection:
    path: str
    param: str
    items: tuple[_Operation, ...]


def _operations(document: dict[str, Any]) -> Iterator[_Operation]:
    for path, item in document.get("paths", {}).items():
        for method in _METHODS:
            definition = item.get(method)
            if isinstance(definition, dict):
                yield _Operation(path, method, definition)


def _is_stream(operation: _Operation) -> bool:
    for response in operation.definition.get("responses", {}).values():
        if isinstance(response, dict) and "text/event-stream" in response.get("content", {}):
            return True
    return operation.path.endswith("/$stream")


def _collections(operations: list[_Operation]) -> dict[str, _Collection]:
    """Collections by singular name (`config` -> `/api/v1/configs` and its item operations)."""
    found: dict[tuple[str, str], list[_Operation]] = {}
    for operation in operations:
        match = _ITEM_PATH.match(operation.path)
        if match and not _is_stream(operation) and operation.operation_id:
            found.setdefault((match["collection"], match["param"]), []).append(operation)
    collections: dict[str, _Collection] = {}
    for (path, param), items in found.items():
        last = path.rsplit("/", 1)[-1]
        if last.endswith("s") and len(last) > 1 and "{" not in last:
            collections.setdefault(last[:-1], _Collection(path, param, tuple(items)))
    return collections


def _resolve(document: dict[str, Any], schema: Any) -> dict[str, Any]:
    """A schema with its top-level `$ref` (to `#/components/schemas/`) followed; `{}` when there is none."""
    seen: set[str] = set()
    while isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref: str = schema["$ref"]
        if not ref.startswith(_SCHEMA_PREFIX) or ref in seen:
            return {}
        seen.add(ref)
        schema = document.get("components", {}).get("schemas", {}).get(ref[len(_SCHEMA_PREFIX) :])
    return schema if isinstance(schema, dict) else {}


def _json_schema(document: dict[str, Any], holder: Any) -> dict[str, Any]:
    content = holder.get("content", {}) if isinstance(holder, dict) else {}
    media = content.get(_JSON)
    return _resolve(document, media.get("schema")) if isinstance(media, dict) else {}


def _refers_to(field: str, collections: dict[str, _Collection]) -> str | None:
    """The singular of the collection an `..._<singular>_id` field names, if there is one."""
    if not field.endswith("_id"):
        return None
    words = field[: -len("_id")].split("_")
    for start in range(len(words)):
        singular = "_".join(words[start:])
        if singular in collections:
            return singular
    return None


def _id_fields(
    operation: _Operation, status: str, schema: dict[str, Any], collections: dict[str, _Collection]
) -> dict[str, str]:
    """The id fields of a response (singular -> field), the first field per collection."""
    fields: dict[str, str] = {}
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return fields
    if "id" in properties and operation.method == "post" and status == "201":
        for singular, collection in collections.items():
            if collection.path == operation.path:
                fields[singular] = "id"
    for name in properties:
        referred = _refers_to(name, collections)
        if referred is not None:
            fields.setdefault(referred, name)
    return fields


def _alternatives(schema: dict[str, Any]) -> set[str]:
    """Fields of which a body names exactly one (`oneOf` of single `required` alternatives)."""
    names: set[str] = set()
    for branch in schema.get("oneOf", []):
        required = branch.get("required") if isinstance(branch, dict) else None
        if isinstance(required, list) and len(required) == 1 and set(branch) == {"required"}:
            names.add(required[0])
    return names


def _same_schema(one: Any, other: Any) -> bool:
    """Equal schemas, or references to the same schema (their descriptions may differ)."""
    if isinstance(one, dict) and isinstance(other, dict) and "$ref" in one:
        return bool(one.get("$ref") == other.get("$ref"))
    return bool(one == other)


def _same_schema_field(name: str, wanted: Any, source: dict[str, Any]) -> str | None:
    """The source body's field of `wanted`'s schema: the one called `name` if it fits, else the first."""
    properties: dict[str, Any] = source.get("properties", {})
    if name in properties and _same_schema(wanted, properties[name]):
        return name
    return next((str(field) for field, schema in properties.items() if _same_schema(wanted, schema)), None)


def _whole_body(
    field: str, expression: str, target: dict[str, Any], source_body: dict[str, Any]
) -> dict[str, Any] | None:
    """A whole body for `target`: `field` from the response, every other required field from the request."""
    body: dict[str, Any] = {field: expression}
    for name in target.get("required", []):
        if name == field:
            continue
        taken = _same_schema_field(name, target.get("properties", {}).get(name), source_body)
        if taken is None:
            return None
        body[name] = f"$request.body#/{taken}"
    return body


class _Linker:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.operations = list(_operations(document))
        self.collections = _collections(self.operations)
        self.bodies = {
            (operation.path, operation.method): _json_schema(document, operation.definition.get("requestBody"))
            for operation in self.operations
        }

    def add(self) -> None:
        for operation in self.operations:
            if _is_stream(operation):
                continue
            for status, response in operation.definition.get("responses", {}).items():
                if not (isinstance(response, dict) and str(status).startswith("2")):
                    continue
                links = self._links_from(operation, str(status), response)
                if links:
                    response.setdefault("links", {}).update(links)

    def _links_from(self, source: _Operation, status: str, response: dict[str, Any]) -> dict[str, Any]:
        links: dict[str, Any] = {}
        schema = _json_schema(self.document, response)
        for singular, field in _id_fields(source, status, schema, self.collections).items():
            expression = f"$response.body#/{field}"
            collection = self.collections[singular]
            for target in collection.items:
                links[f"{target.operation_id}_by_{field}"] = {
                    "operationId": target.operation_id,
                    "parameters": {f"path.{collection.param}": expression},
                }
            links.update(self._body_links(source, singular, field, expression))
        links.update(self._item_links(source))
        return links

    def _body_links(self, source: _Operation, singular: str, field: str, expression: str) -> dict[str, Any]:
        links: dict[str, Any] = {}
        source_body = self.bodies[(source.path, source.method)]
        for target in self.operations:
            body = self.bodies[(target.path, target.method)]
            if target.operation_id is None or _is_stream(target):
                continue
            alternatives = _alternatives(body)
            for name in body.get("properties", {}):
                if _refers_to(name, self.collections) != singular:
                    continue
                link_name = f"{target.operation_id}_{name}_by_{field}"
                if name not in alternatives:
                    links[link_name] = {"operationId": target.operation_id, "requestBody": {name: expression}}
                    continue
                whole = _whole_body(name, expression, body, source_body)
                if whole is not None:
                    links[link_name] = {
                        "operationId": target.operation_id,
                        "requestBody": whole,
                        _LINK_EXTENSION: {"merge_body": False},
                    }
        return links

    def _item_links(self, source: _Operation) -> dict[str, Any]:
        """From an item operation to reading and deleting the same item."""
        match = _ITEM_PATH.match(source.path)
        if not match:
            return {}
        links: dict[str, Any] = {}
        for collection in self.collections.values():
            if collection.path != match["collection"] or collection.param != match["param"]:
                continue
            item_path = f"{collection.path}/{{{collection.param}}}"
            for target in collection.items:
                if target.path != item_path or target.method not in ("get", "delete") or target == source:
                    continue
                links[f"{target.operation_id}_same_item"] = {
                    "operationId": target.operation_id,
                    "parameters": {f"path.{collection.param}": f"$request.path.{collection.param}"},
                }
        return links


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Add the links described in this module to the success responses of `document`, in place; return it."""
    _Linker(document).add()
    return document


__all__ = ["add_links"]
