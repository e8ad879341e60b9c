"""An MLproject's `user_options` as a config schema: a `BaseConfig` subclass made with `pydantic.create_model`.

Each option is a mapping with a `type` (`integer`, `number`, `string`, `boolean`, `array` with optional
`items`, or `object`; `int`, `float`, `str` and `bool` are read as those, and a list such as
`[number, "null"]` allows null too), a `default`, and optionally `description`, `title` and, for numbers,
`minimum` and `maximum`. An option without a `type` takes the type of its default; a `null` default
allows null. An option without a default is required, as chap-core treats it. Option names are kept
as written (`n-lags` stays `n-lags` in configs and in `config.yml`). Everything that cannot become a
field raises `MLProjectError`: an unknown type, a default of the wrong type, a name pydantic reserves.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import ConfigDict, Field, TypeAdapter, ValidationError, create_model

from chapkit.domain.config import RESERVED_CONFIG_KEYS, USER_OPTION_VALUES, BaseConfig
from chapkit.mlproject.project import MLProject, MLProjectError

_SCALARS: dict[str, Any] = {
    "integer": int,
    "int": int,
    "number": float,
    "float": float,
    "string": str,
    "str": str,
    "boolean": bool,
    "bool": bool,
}
_CONTAINERS = ("array", "object")
KNOWN_TYPES = tuple(sorted({"integer", "number", "string", "boolean", *_CONTAINERS}))
"""The option types an MLproject may declare (besides the aliases int, float, str and bool)."""


class MLProjectConfig(BaseConfig):
    """Base of the config schemas made from MLproject `user_options`."""

    # Option names such as `model_type` are the model's own: pydantic's `model_` namespace is not reserved here.
    model_config = ConfigDict(extra="allow", protected_namespaces=())


def config_schema(project: MLProject) -> type[BaseConfig]:
    """The config schema of an MLproject: one field per user option, with its type, default and description."""
    fields: dict[str, Any] = {}
    for name, body in project.user_options.items():
        where = f"{project.file}: user_options.{name}"
        _check_name(name, where)
        fields[name] = _field(body, where)
    model: type[BaseConfig] = create_model(
        _class_name(project.name),
        __base__=MLProjectConfig,
        __doc__=f"The user options of the {project.name} model (its MLproject's user_options).",
        **fields,
    )
    return model


def _check_name(name: str, where: str) -> None:
    if not name or name.startswith("_"):
        raise MLProjectError(f"{where}: an option name must not be empty or start with '_'")
    if name == USER_OPTION_VALUES or name in RESERVED_CONFIG_KEYS:
        raise MLProjectError(f"{where}: {name!r} is a key chap-core reserves; give the option another name")
    if hasattr(MLProjectConfig, name):
        raise MLProjectError(f"{where}: {name!r} is a name pydantic models reserve; give the option another name")


def _field(body: dict[str, Any], where: str) -> tuple[Any, Any]:
    annotation = _annotation(body, where)
    if "default" in body and body["default"] is None:
        annotation = annotation | None  # a null default makes the option optional
    extra: dict[str, Any] = {}
    for key, keyword in (("minimum", "ge"), ("maximum", "le")):
        if key in body:
            bound = body[key]
            if isinstance(bound, bool) or not isinstance(bound, int | float):
                raise MLProjectError(f"{where}: {key} must be a number, got {bound!r}")
            extra[keyword] = bound
    for key in ("description", "title"):
        if body.get(key) is not None:
            extra[key] = str(body[key])
    if extra.keys() & {"ge", "le"}:
        annotation = Annotated[annotation, Field(ge=extra.pop("ge", None), le=extra.pop("le", None))]
    if "default" not in body:
        return annotation, Field(..., **extra)
    try:
        default = TypeAdapter(annotation).validate_python(body["default"])
    except ValidationError as error:
        reason = error.errors()[0]["msg"]
        raise MLProjectError(f"{where}: the default {body['default']!r} does not fit the option ({reason})") from None
    return annotation, Field(default, **extra)


def _annotation(body: dict[str, Any], where: str) -> Any:
    declared = body.get("type")
    if declared is None:
        if "default" not in body or body["default"] is None:
            raise MLProjectError(f"{where}: give the option a type ({', '.join(KNOWN_TYPES)}) or a default")
        return _type_of(body["default"], where)
    names = declared if isinstance(declared, list) else [declared]
    nullable = "null" in names
    members = [_named_type(name, body, where) for name in names if name != "null"]
    if not members:
        raise MLProjectError(f"{where}: type {declared!r} allows only null")
    annotation = members[0]
    for member in members[1:]:
        annotation = annotation | member
    return annotation | None if nullable else annotation


def _named_type(name: Any, body: dict[str, Any], where: str) -> Any:
    key = str(name).lower() if isinstance(name, str) else name
    if key in _SCALARS:
        return _SCALARS[key]
    if key == "array":
        return list[_items(body.get("items"), where)]  # type: ignore[misc]
    if key == "object":
        return dict[str, Any]
    raise MLProjectError(f"{where}: unknown type {name!r}; use one of {', '.join(KNOWN_TYPES)}")


def _items(items: Any, where: str) -> Any:
    if items is None:
        return Any
    if isinstance(items, str):
        return _named_type(items, {}, f"{where}.items")
    if isinstance(items, dict):
        return _annotation(items, f"{where}.items") if items else Any
    raise MLProjectError(f"{where}: items must be a type or a mapping with a type, got {items!r}")


def _type_of(value: Any, where: str) -> Any:
    """The option type a default implies."""
    if isinstance(value, bool):
        return bool
    if isinstance(value, int):
        return int
    if isinstance(value, float):
        return float
    if isinstance(value, str):
        return str
    if isinstance(value, list):
        return list[Any]
    if isinstance(value, dict):
        return dict[str, Any]
    raise MLProjectError(f"{where}: cannot tell the option's type from its default {value!r}; give a type")


def _class_name(name: str) -> str:
    """`ewars_template` -> `EwarsTemplateConfig` (a class name whatever the MLproject is called)."""
    words = re.findall(r"[A-Za-z0-9]+", name)
    stem = "".join(word[:1].upper() + word[1:] for word in words)
    if not stem or not stem[0].isalpha():
        stem = f"Model{stem}"
    return f"{stem}Config"


__all__ = ["KNOWN_TYPES", "MLProjectConfig", "config_schema"]
