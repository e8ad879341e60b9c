"""user_options become a typed config schema; meta_data and the other keys become the service info."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from chapkit.domain.config import BaseConfig
from chapkit.domain.config_schema import model_configuration_schema
from chapkit.mlproject import MLProjectError, config_format_of, config_schema, load_mlproject, service_info
from chapkit.mlproject.project import MLProject

ENTRY_POINTS = {
    "train": {"command": "Rscript train.R {train_data} {model}"},
    "predict": {"command": "Rscript predict.R {model} {historic_data} {future_data} {out_file}"},
}


def project(tmp_path: Path, **keys: Any) -> MLProject:
    body = {"name": "ewars_template", "entry_points": ENTRY_POINTS, **keys}
    (tmp_path / "MLproject").write_text(yaml.safe_dump(body))
    return load_mlproject(tmp_path)


def test_each_type_becomes_a_field_with_its_default_and_description(tmp_path: Path) -> None:
    options = {
        "n_lags": {"type": "integer", "default": 3, "description": "Number of lags"},
        "precision": {"type": "number", "default": 0.01},
        "family": {"type": "string", "default": "poisson", "title": "Likelihood"},
        "seasonal": {"type": "boolean", "default": True},
        "covariates": {"type": "array", "items": {"type": "string"}, "default": ["rainfall"]},
        "weights": {"type": "array", "default": []},
        "n-samples": {"type": "int", "default": 100, "minimum": 1},
        "scale": {"default": 2.5},
        "cutoff": {"type": ["number", "null"], "default": None},
    }
    schema = config_schema(project(tmp_path, user_options=options))
    assert issubclass(schema, BaseConfig)
    assert schema.__name__ == "EwarsTemplateConfig"
    defaults = schema().model_dump(mode="json")
    assert defaults == {
        "n_lags": 3,
        "precision": 0.01,
        "family": "poisson",
        "seasonal": True,
        "covariates": ["rainfall"],
        "weights": [],
        "n-samples": 100,
        "scale": 2.5,
        "cutoff": None,
    }
    properties = model_configuration_schema(schema)["properties"]
    assert properties["n_lags"] == {"default": 3, "description": "Number of lags", "title": "N Lags", "type": "integer"}
    assert properties["family"]["title"] == "Likelihood"
    assert properties["covariates"]["items"] == {"type": "string"}
    assert properties["n-samples"]["minimum"] == 1
    assert all("default" in body for body in properties.values())  # chap-core needs every default


def test_configs_are_validated_by_type_and_chap_cores_nesting_is_read(tmp_path: Path) -> None:
    options = {"n_lags": {"type": "integer", "default": 3}, "n-samples": {"type": "integer", "default": 10}}
    schema = config_schema(project(tmp_path, user_options=options))
    config = schema.model_validate({"user_option_values": {"n_lags": 6, "n-samples": 50}, "prediction_periods": 4})
    assert config.model_dump() == {"n_lags": 6, "n-samples": 50, "prediction_periods": 4}
    with pytest.raises(ValidationError, match="n_lags"):
        schema.model_validate({"n_lags": "many"})


def test_an_option_without_a_default_is_required(tmp_path: Path) -> None:
    schema = config_schema(project(tmp_path, user_options={"region": {"type": "string"}}))
    with pytest.raises(ValidationError, match="region"):
        schema.model_validate({})
    assert "default" not in model_configuration_schema(schema)["properties"]["region"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"lags": {"type": "decimal", "default": 1}}, "unknown type 'decimal'; use one of array, boolean"),
        ({"lags": {"type": "integer", "default": "three"}}, "the default 'three' does not fit"),
        ({"lags": {"description": "no type, no default"}}, "give the option a type"),
        ({"lags": {"type": "array", "items": 5, "default": []}}, "items must be a type"),
        ({"lags": {"type": "number", "minimum": "low", "default": 1}}, "minimum must be a number"),
        ({"json": {"type": "integer", "default": 1}}, "a name pydantic models reserve"),
        ({"_hidden": {"type": "integer", "default": 1}}, "must not be empty or start with '_'"),
        ({"user_option_values": {"type": "object", "default": {}}}, "a key chap-core reserves"),
    ],
)
def test_an_option_that_cannot_be_a_field_is_a_clear_error(
    tmp_path: Path, options: dict[str, Any], expected: str
) -> None:
    with pytest.raises(MLProjectError, match="user_options") as raised:
        config_schema(project(tmp_path, user_options=options))
    assert expected in str(raised.value)


def test_the_info_comes_from_meta_data_and_the_models_keys(tmp_path: Path) -> None:
    meta = {
        "display_name": "EWARS template",
        "description": "Early warning",
        "author": "CHAP team",
        "author_note": "Monthly INLA model",
        "author_assessed_status": "orange",
        "organization": "HISP",
        "organization_logo_url": "https://example.org/logo.png",
        "contact_email": "chap@example.org",
        "citation_info": "Lowe et al.",
    }
    info = service_info(
        project(
            tmp_path,
            meta_data=meta,
            supported_period_type="month",
            required_covariates=["population"],
            allow_free_additional_continuous_covariates=True,
            target="disease_cases",
            max_prediction_periods=6,
            version="2.0.1",
        )
    )
    served = info.model_dump(mode="json")
    assert served["id"] == "ewars-template"
    assert served["display_name"] == "EWARS template" and served["description"] == "Early warning"
    assert served["period_type"] == "monthly"
    assert served["required_covariates"] == ["population"]
    assert served["allow_free_additional_continuous_covariates"] is True
    assert served["max_prediction_periods"] == 6 and served["version"] == "2.0.1"
    for key, value in meta.items():
        if key not in ("display_name", "description"):
            assert served["model_metadata"][key] == value, key


@pytest.mark.parametrize(
    ("period", "expected"), [("week", "weekly"), ("month", "monthly"), ("any", "any"), (None, "any")]
)
def test_period_types_are_chapkits(tmp_path: Path, period: str | None, expected: str) -> None:
    keys = {} if period is None else {"supported_period_type": period}
    assert service_info(project(tmp_path, **keys)).period_type == expected


def test_missing_meta_data_falls_back_to_the_name(tmp_path: Path) -> None:
    info = service_info(project(tmp_path))
    assert info.display_name == "ewars_template"
    assert info.description is not None and "ewars_template" in info.description
    assert info.model_metadata.author is None


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        ({"supported_period_type": "daily"}, "supported_period_type: 'daily' is not one of month, week or any"),
        ({"meta_data": {"author_assessed_status": "purple"}}, "meta_data.author_assessed_status"),
        ({"meta_data": {"contact_email": "not an address"}}, "meta_data.contact_email"),
    ],
)
def test_info_values_that_cannot_be_served_are_clear_errors(
    tmp_path: Path, keys: dict[str, Any], expected: str
) -> None:
    with pytest.raises(MLProjectError) as raised:
        service_info(project(tmp_path, **keys))
    assert expected in str(raised.value)


def test_the_config_format_is_the_argument_then_meta_data_then_chap_core(tmp_path: Path) -> None:
    assert config_format_of(project(tmp_path)) == "chap_core"
    declared = project(tmp_path, meta_data={"config_format": "flat"})
    assert config_format_of(declared) == "flat"
    assert config_format_of(declared, "chap_core") == "chap_core"
    with pytest.raises(MLProjectError, match="'nested' is not one of chap_core, flat"):
        config_format_of(declared, "nested")


def test_git_revision_is_the_commit_of_the_models_checkout_unless_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None:
        pytest.skip("needs git")
    model = project(tmp_path)
    monkeypatch.delenv("GIT_REVISION", raising=False)
    assert service_info(model).git_revision is None  # not a git checkout
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for args in (["init", "-q"], ["add", "MLproject"], ["commit", "-q", "-m", "model"]):
        subprocess.run(["git", "-C", str(tmp_path), *args], check=True, env=env, capture_output=True)
    head = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD"], capture_output=True, text=True).stdout
    assert service_info(model).git_revision == head.strip()
    monkeypatch.setenv("GIT_REVISION", "abc1234")
    assert service_info(model).git_revision is None  # left to GIT_REVISION, which the service reads itself
