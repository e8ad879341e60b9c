"""JsonSafe returns any object as JSON, replacing only what cannot be encoded (FACTS.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from chapkit import JsonSafe


class Holder(BaseModel):
    data: JsonSafe


class Opaque:
    def __repr__(self) -> str:
        return "Opaque(" + "x" * 300 + ")"


class BrokenRepr:
    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def _dump(value: Any) -> Any:
    return Holder(data=value).model_dump(mode="json")["data"]


def test_plain_json_values_pass_through() -> None:
    value = {"a": [1, 2.5, "x", None, True], "b": {"c": "d"}}
    assert _dump(value) == value
    assert _dump(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00Z"


def test_an_unencodable_value_becomes_metadata_with_a_cut_repr() -> None:
    meta = _dump(Opaque())
    assert meta["_type"] == "Opaque"
    assert meta["_module"] == __name__
    assert meta["_repr"].startswith("Opaque(xxx") and meta["_repr"].endswith("...")
    assert len(meta["_repr"]) == 203
    assert meta["_serialization_error"]


def test_inside_a_dict_only_the_offending_values_are_replaced() -> None:
    dumped = _dump({"ok": 1, "model": Opaque(), "nested": {"fine": "yes", "bad": Opaque()}, "list": [1, Opaque()]})
    assert dumped["ok"] == 1
    assert dumped["model"]["_type"] == "Opaque"
    assert dumped["nested"]["fine"] == "yes" and dumped["nested"]["bad"]["_type"] == "Opaque"
    assert dumped["list"][0] == 1 and dumped["list"][1]["_type"] == "Opaque"


def test_a_broken_repr_does_not_break_serialization() -> None:
    assert _dump(BrokenRepr())["_repr"] == "<unrepresentable: RuntimeError>"
