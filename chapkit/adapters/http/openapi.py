"""OpenAPI document customisation: generic schema names cleaned (every `$ref` updated), body limit, links."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from chapkit.adapters.http.openapi_links import add_links
from chapkit.adapters.http.problems import PROBLEM_MEDIA_TYPE
from chapkit.domain.schemas import ProblemDetail

_REF_PREFIX = "#/components/schemas/"
_GENERIC = re.compile(r"^([^\[]+)\[(.*)\]$")


def _clean_names(schemas: dict[str, Any]) -> dict[str, str]:
    """Map each generic schema name to a plain one: `Base` when unique, else `Base_Param` (no collisions)."""
    generic: dict[str, tuple[str, str]] = {}
    for name, schema in schemas.items():
        title = schema.get("title", "") if isinstance(schema, dict) else ""
        match = _GENERIC.match(title) or _GENERIC.match(name)
        if match:
            generic[name] = (match.group(1), match.group(2))
    taken = set(schemas) - set(generic)
    bases = [base for base, _ in generic.values()]
    renamed: dict[str, str] = {}
    for name, (base, params) in sorted(generic.items()):
        candidate = base if bases.count(base) == 1 and base not in taken else _param_name(base, params)
        while candidate in taken:
            candidate += "_"
        taken.add(candidate)
        renamed[name] = candidate
    return renamed


def _param_name(base: str, params: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", params)
    return "_".join([base, *words])


def _rewrite_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_REF_PREFIX) and ref[len(_REF_PREFIX) :] in renamed:
            node["$ref"] = _REF_PREFIX + renamed[ref[len(_REF_PREFIX) :]]
        for value in node.values():
            _rewrite_refs(value, renamed)
    elif isinstance(node, list):
        for item in node:
            _rewrite_refs(item, renamed)


def clean_generic_schema_names(document: dict[str, Any]) -> dict[str, Any]:
    """Rename generic schemas (`PaginatedResponse[X]`) in place and update every `$ref`; return the document."""
    schemas: dict[str, Any] = document.get("components", {}).get("schemas", {})
    renamed = _clean_names(schemas)
    if not renamed:
        return document
    cleaned: dict[str, Any] = {}
    for name, schema in schemas.items():
        new_name = renamed.get(name, name)
        if isinstance(schema, dict) and new_name != name:
            schema["title"] = new_name
        cleaned[new_name] = schema
    document["components"]["schemas"] = cleaned
    _rewrite_refs(document, renamed)
    return document


def declare_body_limit(document: dict[str, Any], max_body_size: int) -> dict[str, Any]:
    """Document the 413 problem on every operation that takes a request body; return the document."""
    response = {
        "description": f"Content Too Large: the request body is over the service's limit of {max_body_size} bytes",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": f"{_REF_PREFIX}ProblemDetail"}}},
    }
    declared = False
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if isinstance(operation, dict) and "requestBody" in operation:
                operation.setdefault("responses", {}).setdefault("413", response)
                declared = True
    if declared:
        schemas = document.setdefault("components", {}).setdefault("schemas", {})
        if "ProblemDetail" not in schemas:
            schemas["ProblemDetail"] = ProblemDetail.model_json_schema(ref_template=_REF_PREFIX + "{model}")
    return document


def create_openapi_customizer(app: FastAPI, *, max_body_size: int | None = None) -> Callable[[], dict[str, Any]]:
    """Return an `app.openapi` replacement that builds the cleaned document once and caches it.

    With `max_body_size`, every operation that takes a body documents the 413 answer past it. Links
    between operations are added (`openapi_links`).
    """

    def custom_openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
            tags=app.openapi_tags,
            servers=app.servers,
            contact=app.contact,
            license_info=app.license_info,
        )
        document = clean_generic_schema_names(document)
        if max_body_size is not None:
            document = declare_body_limit(document, max_body_size)
        app.openapi_schema = add_links(document)
        return app.openapi_schema

    return custom_openapi


__all__ = ["clean_generic_schema_names", "create_openapi_customizer", "declare_body_limit"]
