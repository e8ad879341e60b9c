"""Reading an MLproject file: what is required, what is kept, and one clear error for what cannot be served."""

from __future__ import annotations

from pathlib import Path

import pytest

from chapkit.mlproject import MLProjectError, find_mlproject, load_mlproject
from chapkit.mlproject.project import runner_template

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mlprojects"

MINIMAL = """
name: tiny
entry_points:
  train:
    command: "python train.py {train_data} {model}"
  predict:
    command: "python predict.py {model} {historic_data} {future_data} {out_file}"
"""


def write(directory: Path, text: str, name: str = "MLproject") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_text(text)
    return directory


def error_of(directory: Path) -> str:
    with pytest.raises(MLProjectError) as raised:
        load_mlproject(directory)
    message = str(raised.value)
    assert "\n" not in message
    return message


def test_name_and_entry_points_are_enough(tmp_path: Path) -> None:
    project = load_mlproject(write(tmp_path, MINIMAL))
    assert project.name == "tiny"
    assert project.directory == tmp_path.resolve()
    assert project.train.template == "python train.py {data_file} {model_file}"
    assert project.predict.template == "python predict.py {model_file} {historic_file} {future_file} {output_file}"
    assert project.user_options == {} and project.adapters == {} and project.environments == {}
    assert project.supported_period_type is None and project.required_covariates == []


def test_the_fixtures_read_with_every_key() -> None:
    r_model = load_mlproject(FIXTURES / "r_model")
    assert r_model.supported_period_type == "month"
    assert r_model.required_covariates == ["population"]
    assert r_model.adapters == {"Cases": "disease_cases", "E": "population", "month_number": "month"}
    assert r_model.environments == {"renv_env": "renv.lock"}
    assert set(r_model.user_options) == {"season_weight", "n_samples"}
    assert r_model.train.parameters == ("train_data", "model", "model_config")
    assert r_model.ignored == []
    python_model = load_mlproject(FIXTURES / "python_model" / "MLproject")
    assert python_model.supported_period_type == "week"
    assert python_model.environments == {"python_env": "python_env.yml"}


def test_the_file_may_be_named_mlproject_yaml(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "MLproject.yaml")
    assert find_mlproject(tmp_path) == (tmp_path / "MLproject.yaml").resolve()


def test_keys_and_entry_points_chapkit_does_not_use_are_listed(tmp_path: Path) -> None:
    text = MINIMAL + "  report:\n    command: python report.py\nsource_url: https://example.org\n"
    project = load_mlproject(write(tmp_path, text))
    assert project.ignored == ["source_url", "entry_points.report"]


def test_literal_braces_stay_literal() -> None:
    command = "sh -c 'echo {{}} > log' && python train.py {train_data}"
    assert runner_template(command, "train") == "sh -c 'echo {{}} > log' && python train.py {data_file}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("entry_points: {}\n", "name is missing"),
        ("name: tiny\n", "entry_points is missing"),
        ("name: tiny\nentry_points:\n  train: {command: run}\n", "predict missing"),
        ("- just\n- a list\n", "must be a YAML mapping"),
        ("name: tiny\nentry_points: [1\n", "not valid YAML"),
        (MINIMAL.replace('{model}"\n  predict', '{dataset}"\n  predict'), "unknown parameter 'dataset'"),
        (MINIMAL.replace("{train_data}", "{out_file}"), "unknown parameter 'out_file'; train takes"),
        (MINIMAL.replace("{train_data}", "{train_data!r}"), "no conversion or format spec"),
        (MINIMAL.replace("{train_data}", "{train_data"), "malformed placeholder"),
        (MINIMAL.replace("python train.py", "python 'train.py"), "the command has an unclosed single quote"),
        (MINIMAL.replace('"python train.py {train_data} {model}"', '""'), "entry_points.train.command: is missing"),
        (MINIMAL + "    parameters: {dataset: str}\n", "entry_points.predict.parameters: unknown parameter 'dataset'"),
        (MINIMAL + "required_covariates: population\n", "required_covariates: must be a list of column names"),
        (MINIMAL + "adapters: {E: [population]}\n", "adapters.E: must name the column"),
        (MINIMAL + "user_options: {lags: 3}\n", "user_options.lags: must be a mapping"),
        (MINIMAL + "allow_free_additional_continuous_covariates: maybe\n", "must be true or false"),
        (MINIMAL + "min_prediction_periods: 5\nmax_prediction_periods: 2\n", "5 exceeds max_prediction_periods"),
    ],
)
def test_an_mlproject_that_cannot_be_served_is_one_clear_error(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(write(tmp_path, text))
    assert expected in message
    assert str(tmp_path) in message


def test_a_missing_directory_or_file_is_named(tmp_path: Path) -> None:
    assert "does not exist" in error_of(tmp_path / "nowhere")
    assert "has no MLproject file" in error_of(tmp_path)
