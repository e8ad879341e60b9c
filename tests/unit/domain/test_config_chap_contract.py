"""`BaseConfig` speaks chap-core's config contract too: reserved keys, `user_option_values`, exact echoes."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import Field, ValidationError

from chapkit import BaseConfig, ConfigIn
from chapkit.domain.config import STORED_CONFIG


class Options(BaseConfig):
    some_option: int = 2
    rate: float = 0.5


class DeclaresReserved(BaseConfig):
    prediction_periods: int = 6
    user_option_values: dict[str, Any] = Field(default_factory=dict)


def dumped(cls: type[BaseConfig], data: dict[str, Any]) -> dict[str, Any]:
    return cls.model_validate(data).model_dump(mode="json")


def test_posted_keys_come_back_with_equal_values_and_types() -> None:
    sent = {"some_option": 3, "additional_continuous_covariates": []}
    assert dumped(Options, sent) == {**sent, "rate": 0.5}
    sent = {"some_option": 4, "rate": 1, "unknown": {"nested": [1, "a", None]}, "additional_continuous_covariates": []}
    stored = dumped(Options, sent)
    assert all(stored[key] == value for key, value in sent.items())
    assert type(stored["some_option"]) is int and stored["unknown"] == {"nested": [1, "a", None]}


def test_reserved_keys_are_never_added_when_absent() -> None:
    assert dumped(BaseConfig, {}) == {}
    assert dumped(Options, {"some_option": 1}) == {"some_option": 1, "rate": 0.5}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"prediction_periods": 0}, "prediction_periods: Input should be greater than or equal to 1"),
        ({"prediction_periods": "3"}, "prediction_periods: Input should be a valid integer"),
        ({"prediction_periods": True}, "prediction_periods: Input should be a valid integer"),
        ({"prediction_periods": 2.5}, "prediction_periods: Input should be a valid integer"),
        ({"additional_continuous_covariates": "rain"}, "additional_continuous_covariates: Input should be a valid"),
        ({"additional_continuous_covariates": ["rain", 1]}, "additional_continuous_covariates[1]: Input should be"),
        ({"additional_continuous_covariates": None}, "additional_continuous_covariates: Input should be a valid"),
    ],
)
def test_reserved_keys_are_validated_when_present(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Options.model_validate(data)
    with pytest.raises(ValidationError):
        ConfigIn[Options].model_validate({"name": "c", "data": data})


def test_valid_reserved_values_are_stored_as_sent() -> None:
    sent = {"prediction_periods": 12, "additional_continuous_covariates": ["rainfall", "mean_temperature"]}
    assert dumped(BaseConfig, sent) == sent


def test_user_option_values_are_hoisted_and_flat_keys_win() -> None:
    sent = {"user_option_values": {"some_option": 7, "extra": "kept", "rate": 0.1}, "rate": 0.9}
    assert dumped(Options, sent) == {"some_option": 7, "extra": "kept", "rate": 0.9}
    assert dumped(Options, {"user_option_values": None, "some_option": 1}) == {"some_option": 1, "rate": 0.5}
    assert dumped(Options, {"user_option_values": {}}) == {"some_option": 2, "rate": 0.5}


def test_hoisted_values_are_validated_like_flat_ones() -> None:
    with pytest.raises(ValidationError, match="some_option"):
        Options.model_validate({"user_option_values": {"some_option": "many"}})
    with pytest.raises(ValidationError, match="prediction_periods"):
        Options.model_validate({"user_option_values": {"prediction_periods": -1}})


def test_a_user_option_values_that_is_no_object_is_kept_as_posted() -> None:
    assert dumped(BaseConfig, {"user_option_values": [1, 2]}) == {"user_option_values": [1, 2]}


def test_a_class_that_declares_a_reserved_name_keeps_its_own_rules() -> None:
    assert dumped(DeclaresReserved, {}) == {"prediction_periods": 6, "user_option_values": {}}
    assert dumped(DeclaresReserved, {"prediction_periods": "8"})["prediction_periods"] == 8
    stored = dumped(DeclaresReserved, {"user_option_values": {"a": 1}})
    assert stored["user_option_values"] == {"a": 1} and "a" not in stored


def test_stored_data_reads_back_unchanged() -> None:
    stored = dumped(Options, {"user_option_values": {"some_option": 5}, "additional_continuous_covariates": []})
    assert dumped(Options, stored) == stored


def test_data_read_back_from_storage_is_taken_as_stored() -> None:
    stored = {"prediction_periods": 0, "user_option_values": {"a": 1}}
    read = BaseConfig.model_validate(stored, context={STORED_CONFIG: True})
    assert read.model_dump() == stored
    with pytest.raises(ValidationError):
        BaseConfig.model_validate(stored)
