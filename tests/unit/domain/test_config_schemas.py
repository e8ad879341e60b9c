"""Config schemas: extra fields, generic data validated into the schema, JSON output, input bounds."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from ulid import ULID

from chapkit import (
    ArtifactIn,
    BaseConfig,
    Config,
    ConfigIn,
    ConfigOut,
    LinkArtifactRequest,
    TaskIn,
    UnlinkArtifactRequest,
)
from chapkit.domain.config import STORED_CONFIG
from chapkit.domain.data_bounds import (
    MAX_CONFIG_DATA_BYTES,
    MAX_DATA_DEPTH,
    MAX_NAME_LENGTH,
    DataBoundsError,
    check_data,
    check_json_size,
    is_encodable,
    nesting_depth,
)


class Schema(BaseConfig):
    epochs: int
    rate: float = 0.1


def _nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(depth - 1):
        value = {"a": value}
    return value


def test_base_config_keeps_extra_fields() -> None:
    config = BaseConfig.model_validate({"anything": [1, 2], "x": "y"})
    assert config.model_dump() == {"anything": [1, 2], "x": "y"}


def test_config_in_validates_data_into_the_schema() -> None:
    parsed = ConfigIn[Schema].model_validate({"name": "c", "data": {"epochs": "3", "note": "kept"}})
    assert isinstance(parsed.data, Schema) and parsed.data.epochs == 3 and parsed.data.model_extra == {"note": "kept"}
    with pytest.raises(ValidationError, match="epochs"):
        ConfigIn[Schema].model_validate({"name": "c", "data": {"rate": 1.0}})
    assert isinstance(ConfigIn.model_validate({"name": "c", "data": {"x": 1}}).data, BaseConfig)


def test_config_out_returns_data_as_a_plain_json_object() -> None:
    out = ConfigOut[Schema].model_validate(
        Config(id=ULID(), name="c", data={"epochs": 2, "extra": True}, created_at=_now(), updated_at=_now()),
        from_attributes=True,
    )
    assert isinstance(out.data, Schema)
    assert json.loads(out.model_dump_json())["data"] == {"epochs": 2, "rate": 0.1, "extra": True}


def test_config_out_uses_the_schema_given_in_the_validation_context() -> None:
    out = ConfigOut.model_validate(
        {"id": ULID(), "name": "c", "data": {"epochs": 1}, "created_at": _now(), "updated_at": _now()},
        context={"data_cls": Schema},
    )
    assert isinstance(out.data, Schema)
    # a subclass instance held as BaseConfig still serializes every field
    assert json.loads(out.model_dump_json())["data"] == {"epochs": 1, "rate": 0.1}


class Timed(BaseConfig):
    wait: timedelta = timedelta(seconds=90)
    blob: bytes = b"\x00\x01"
    since: datetime = datetime(2024, 1, 1)


@pytest.mark.parametrize("out_cls", [ConfigOut[Timed], ConfigOut[BaseConfig], ConfigOut])
def test_config_out_writes_data_as_its_own_class_writes_itself(out_cls: Any) -> None:
    """The schema's own JSON (its timedelta and bytes rules, not the output's), under any declared class."""
    data = Timed(extra={"a": [1, 2]})
    out = out_cls(id=ULID(), name="c", data=data, created_at=_now(), updated_at=_now())
    assert json.loads(out.model_dump_json())["data"] == data.model_dump(mode="json")
    assert out.model_dump()["data"] == data.model_dump()  # the schema's fields under `ConfigOut[BaseConfig]` too


def test_config_out_read_from_storage_validates_data_as_the_schema_with_its_context() -> None:
    stored = {"id": ULID(), "name": "c", "data": {"wait": 5.0, "x": 1}, "created_at": _now(), "updated_at": _now()}
    for out_cls in (ConfigOut[Timed], ConfigOut[BaseConfig]):
        out = out_cls.model_validate(stored, context={"data_cls": Timed, STORED_CONFIG: True})
        assert type(out.data) is Timed and out.data.wait == timedelta(seconds=5) and out.data.model_extra == {"x": 1}


def test_config_out_documents_data_as_the_schema() -> None:
    response = ConfigOut[Timed].model_json_schema(mode="serialization")
    assert response["properties"]["data"] == {"$ref": "#/$defs/Timed"}


def test_nesting_depth_counts_containers_without_recursion() -> None:
    assert nesting_depth(1) == 0
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3
    assert nesting_depth(_nested(100_000), stop_after=10) == 11


def test_config_data_nested_too_deeply_is_refused() -> None:
    ConfigIn.model_validate({"name": "ok", "data": {"x": _nested(MAX_DATA_DEPTH - 1)}})
    with pytest.raises(ValidationError, match="nests deeper than") as raised:
        ConfigIn.model_validate({"name": "deep", "data": {"x": _nested(500)}})
    assert raised.value.errors()[0]["loc"] == ("data",)


def test_config_data_too_large_is_refused() -> None:
    with pytest.raises(ValidationError, match="bytes as JSON"):
        ConfigIn.model_validate({"name": "big", "data": {"blob": "x" * MAX_CONFIG_DATA_BYTES}})


def test_bounds_also_apply_to_schema_instances() -> None:
    with pytest.raises(ValidationError, match="nests deeper"):
        ConfigIn[Schema](name="deep", data=Schema(epochs=1, x=_nested(200)))
    assert issubclass(DataBoundsError, ValueError)


def test_link_requests_need_a_ulid() -> None:
    artifact_id = ULID()
    assert LinkArtifactRequest.model_validate({"artifact_id": str(artifact_id)}).artifact_id == artifact_id
    assert UnlinkArtifactRequest(artifact_id=artifact_id).artifact_id == artifact_id
    with pytest.raises(ValidationError):
        LinkArtifactRequest.model_validate({"artifact_id": "not-a-ulid"})


def _now() -> Any:
    from datetime import UTC

    return datetime.now(UTC)


@pytest.mark.parametrize("wrong", [[1], {"a": 1}, 1.5, -1, 2**200, True, "not-a-ulid"])
def test_ulid_inputs_that_cannot_be_parsed_are_validation_errors(wrong: Any) -> None:
    with pytest.raises(ValidationError):
        LinkArtifactRequest.model_validate({"artifact_id": wrong})
    with pytest.raises(ValidationError):
        ConfigIn.model_validate({"id": wrong, "name": "c", "data": {}})


@pytest.mark.parametrize(
    "data",
    [{"note": "\ud800"}, {"\udc80": 1}, {"notes": [["fine", ("\udfff",)]]}, Schema(epochs=1, note="\ud83d")],
)
def test_config_data_with_a_lone_surrogate_is_refused(data: Any) -> None:
    with pytest.raises(ValidationError, match="not valid Unicode"):
        ConfigIn.model_validate({"name": "c", "data": data})


def test_config_names_are_bounded_and_encodable() -> None:
    assert ConfigIn.model_validate({"name": "\U0001f600" * MAX_NAME_LENGTH, "data": {}}).name[0] == "\U0001f600"
    with pytest.raises(ValidationError, match=f"at most {MAX_NAME_LENGTH} characters"):
        ConfigIn.model_validate({"name": "n" * (MAX_NAME_LENGTH + 1), "data": {}})
    with pytest.raises(ValidationError, match=r"(?i)unicode"):  # pydantic's own check or chapkit's
        ConfigIn.model_validate({"name": "\ud800", "data": {}})


def test_encodable_text() -> None:
    assert is_encodable("plain") and is_encodable("\U0001f600 é") and not is_encodable("a\udfffb")


def test_the_size_bound_counts_utf8_bytes_the_same_for_dicts_and_schema_instances() -> None:
    text = "é" * (MAX_CONFIG_DATA_BYTES // 3)  # 2 bytes each in UTF-8, 6 when escaped as \u00e9
    assert ConfigIn.model_validate({"name": "c", "data": {"text": text}}).data.model_extra == {"text": text}
    assert ConfigIn[Schema](name="c", data=Schema(epochs=1, text=text)).data.epochs == 1
    with pytest.raises(ValidationError, match="bytes as JSON"):
        ConfigIn.model_validate({"name": "c", "data": {"text": text * 2}})


@pytest.mark.parametrize("data", [{"note": "a\x00b"}, {"\x00": 1}, {"notes": [["fine", ("\x00",)]]}])
def test_config_data_and_names_with_a_nul_character_are_refused(data: Any) -> None:
    # PostgreSQL stores no NUL in text or JSON: refused on every storage alike.
    with pytest.raises(ValidationError, match="NUL character"):
        ConfigIn.model_validate({"name": "c", "data": data})
    with pytest.raises(ValidationError, match="NUL character"):
        ConfigIn.model_validate({"name": "a\x00", "data": {}})
    with pytest.raises(ValidationError, match="NUL character"):
        ArtifactIn.model_validate({"data": data})
    with pytest.raises(ValidationError, match="NUL character"):
        TaskIn.model_validate({"command": "echo \x00"})


def test_data_far_over_the_size_bound_is_refused_before_it_is_encoded() -> None:
    huge = {"values": list(range(2 * MAX_CONFIG_DATA_BYTES))}
    with pytest.raises(ValidationError, match=f"more than {MAX_CONFIG_DATA_BYTES} bytes as JSON"):
        ConfigIn.model_validate({"name": "c", "data": huge})


@pytest.mark.parametrize(
    "value",
    [{}, [], {"a": 1}, [1, 2, 3], {"a": [1, {"b": "xy"}]}, "x", 5, [[], []], {"k": None, "j": True, "é": "ü"}],
)
def test_the_cheap_size_bound_never_exceeds_the_encoded_size(value: Any) -> None:
    encoded = len(json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode())
    check_data(value, max_bytes=encoded)
    with pytest.raises(DataBoundsError):
        check_json_size(value, max_bytes=encoded - 1)


def test_serialize_data_is_kept_as_the_reference_has_it() -> None:
    out = ConfigOut[Timed](id=ULID(), name="c", data=Timed(), created_at=_now(), updated_at=_now())
    assert out.serialize_data(out.data) == json.loads(out.model_dump_json())["data"]
    assert out.serialize_data({"plain": 1}) == {"plain": 1}  # type: ignore[arg-type]
