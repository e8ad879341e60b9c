"""The workspace mode's files: config.yml in both layouts, the adapters' columns, the outputs kept from training."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd
import pytest
import yaml

from chapkit.adapters.runners.model_workspace import (
    ModelWorkspace,
    adapted,
    config_yaml,
    pack_outputs,
    snapshot,
    unpack_outputs,
)
from chapkit.domain.config import BaseConfig


class Options(BaseConfig):
    n_lags: int = 3
    precision: float = 0.01


def test_chap_core_layout_nests_the_options_under_user_option_values() -> None:
    config = Options(prediction_periods=4, additional_continuous_covariates=["rainfall"])
    assert yaml.safe_load(config_yaml(config, "chap_core")) == {
        "prediction_periods": 4,
        "additional_continuous_covariates": ["rainfall"],
        "user_option_values": {"n_lags": 3, "precision": 0.01},
    }


def test_flat_layout_puts_every_field_at_the_top() -> None:
    config = Options(prediction_periods=4)
    assert yaml.safe_load(config_yaml(config, "flat")) == {"n_lags": 3, "precision": 0.01, "prediction_periods": 4}


def test_without_reserved_keys_chap_core_layout_has_only_the_options() -> None:
    expected = {"user_option_values": {"n_lags": 3, "precision": 0.01}}
    assert yaml.safe_load(config_yaml(Options(), "chap_core")) == expected


def frame(periods: list[str], **columns: list[object]) -> pd.DataFrame:
    return pd.DataFrame({"time_period": periods, "location": ["a"] * len(periods), **columns})


def test_adapters_copy_columns_under_the_models_names() -> None:
    data = frame(["2024-01", "2024-02"], disease_cases=[5, 7], population=[100, 100])
    result = adapted(data, {"Cases": "disease_cases", "E": "population"}, what="training data")
    assert result["Cases"].tolist() == [5, 7] and result["E"].tolist() == [100, 100]
    assert list(data.columns) == ["time_period", "location", "disease_cases", "population"]  # not changed in place


def test_year_month_and_week_are_read_from_the_time_period() -> None:
    monthly = adapted(frame(["2023-12", "2024-01"]), {"y": "year", "m": "month", "w": "week"}, what="data")
    assert monthly["y"].tolist() == [2023, 2024] and monthly["m"].tolist() == [12, 1]
    assert "w" not in monthly.columns  # no week of monthly data, as chap-core
    weekly = adapted(frame(["2024-W52", "2025W01"]), {"y": "year", "m": "month", "w": "week"}, what="data")
    assert weekly["y"].tolist() == [2024, 2025] and weekly["w"].tolist() == [52, 1]
    assert "m" not in weekly.columns


def test_a_missing_source_fails_except_in_the_future_frame() -> None:
    data = frame(["2024-01"], rainfall=[3.0])
    with pytest.raises(ValueError, match="'Cases' is made from the column 'disease_cases', which the historic data"):
        adapted(data, {"Cases": "disease_cases"}, what="historic data")
    assert list(adapted(data, {"Cases": "disease_cases"}, what="future data", lacks_target=True).columns) == [
        "time_period",
        "location",
        "rainfall",
    ]


def test_an_unreadable_period_is_named() -> None:
    with pytest.raises(ValueError, match="cannot read 'week' from the time_period '2024-01-01'"):
        adapted(frame(["2024-01-01"]), {"w": "week"}, what="data")


def test_outputs_are_the_new_and_changed_files(tmp_path: Path) -> None:
    (tmp_path / "train.R").write_text("source")
    (tmp_path / "data.csv").write_text("a,b\n")
    (tmp_path / "notes.txt").write_text("old")
    before = snapshot(tmp_path)
    (tmp_path / "model").write_bytes(b"\x00model")
    (tmp_path / "fits").mkdir()
    (tmp_path / "fits" / "inla.rds").write_bytes(b"fit")
    (tmp_path / "notes.txt").write_text("changed text")
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "helper.pyc").write_bytes(b"cache")
    outputs = pack_outputs(tmp_path, before)
    assert sorted(zipfile.ZipFile(io.BytesIO(outputs)).namelist()) == ["fits/inla.rds", "model", "notes.txt"]

    target = tmp_path / "restored"
    target.mkdir()
    unpack_outputs(outputs, target)
    assert (target / "model").read_bytes() == b"\x00model"
    assert (target / "fits" / "inla.rds").read_bytes() == b"fit"


def zipped(name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, b"x")
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["../escape", "/etc/passwd", "linked/file"])
def test_unpacking_never_writes_outside_the_workspace(tmp_path: Path, name: str) -> None:
    (tmp_path / "linked").symlink_to(tmp_path.parent)
    with pytest.raises(ValueError, match=r"outside its workspace|through a link"):
        unpack_outputs(zipped(name), tmp_path)


def test_bytes_that_are_not_kept_outputs_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not the files a workspace training kept"):
        unpack_outputs(b"a pickle, not a zip", tmp_path)


def test_a_workspace_checks_its_settings(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        ModelWorkspace(tmp_path / "missing")
    with pytest.raises(ValueError, match="config_format must be one of chap_core, flat"):
        ModelWorkspace(tmp_path, config_format="json")
    with pytest.raises(ValueError, match="adapters map column names"):
        ModelWorkspace(tmp_path, adapters={"E": ""})
    with pytest.raises(ValueError, match="environment maps variable names"):
        ModelWorkspace(tmp_path, environment={"A=B": "x"})
    workspace = ModelWorkspace(tmp_path / ".", environment={"MODEL_FLAG": "1"})
    assert workspace.directory == tmp_path.resolve()
    environment = workspace.command_environment()
    assert environment is not None and environment["MODEL_FLAG"] == "1" and "PATH" in environment
    assert ModelWorkspace(tmp_path).command_environment() is None
