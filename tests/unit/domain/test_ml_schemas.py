"""The ML schemas and the trained-model metadata helpers (pure, no I/O)."""

from __future__ import annotations

import threading
from typing import Any

import pandas as pd
import pytest
from geojson_pydantic import FeatureCollection
from pydantic import ValidationError
from ulid import ULID

from chapkit.domain.config import BaseConfig
from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml import (
    BaseModelRunner,
    ModelRunnerProtocol,
    PredictionArtifactData,
    PredictRequest,
    PredictResponse,
    TrainedModelArtifactData,
    TrainRequest,
    TrainResponse,
)
from chapkit.domain.trained_models import model_size_of, model_type_of

GEO = {
    "type": "FeatureCollection",
    "features": [
        {"type": "Feature", "geometry": {"type": "Point", "coordinates": [10.7, 59.9]}, "properties": {"id": "oslo"}}
    ],
}


def test_train_request_reads_ids_frames_and_geo() -> None:
    config_id = ULID()
    request = TrainRequest.model_validate(
        {"config_id": str(config_id), "data": {"columns": ["x", "y"], "data": [[1, 2.0], [2, 4.0]]}, "geo": GEO}
    )
    assert request.config_id == config_id
    assert request.data.to_dataframe()["y"].tolist() == [2.0, 4.0]
    assert type(request.geo) is FeatureCollection
    assert request.geo.features[0].properties == {"id": "oslo"}


def test_train_request_without_geo() -> None:
    request = TrainRequest.model_validate({"config_id": str(ULID()), "data": {"columns": [], "data": []}})
    assert request.geo is None


@pytest.mark.parametrize("bad_id", ["not-a-ulid", 12, {"a": 1}, [1], 1.5])
def test_request_ids_must_be_ulids(bad_id: Any) -> None:
    frame = {"columns": ["x"], "data": [[1]]}
    with pytest.raises(ValidationError):
        TrainRequest.model_validate({"config_id": bad_id, "data": frame})
    with pytest.raises(ValidationError):
        PredictRequest.model_validate({"model_artifact_id": bad_id, "historic": frame, "future": frame})


def test_predict_request_and_responses_round_trip_as_json() -> None:
    artifact_id = ULID()
    frame = {"columns": ["x"], "data": [[1]]}
    request = PredictRequest.model_validate({"model_artifact_id": str(artifact_id), "historic": frame, "future": frame})
    assert request.model_dump(mode="json")["model_artifact_id"] == str(artifact_id)
    train = TrainResponse(job_id="j", model_artifact_id=str(artifact_id), message="m")
    predict = PredictResponse(job_id="j", prediction_artifact_id=str(artifact_id), message="m")
    assert TrainResponse.model_validate_json(train.model_dump_json()) == train
    assert PredictResponse.model_validate_json(predict.model_dump_json()) == predict


def test_artifact_data_schemas_keep_the_model_object_and_the_predictions() -> None:
    lock = threading.Lock()  # any object, even one that cannot be pickled, is held as is
    trained = TrainedModelArtifactData(
        ml_type="trained_model",
        config_id="c",
        started_at="2024-01-01T00:00:00+00:00",
        completed_at="2024-01-01T00:00:01+00:00",
        duration_seconds=1.0,
        model=lock,
    )
    assert trained.model_dump()["model"] is lock
    assert trained.model_type is None and trained.model_size_bytes is None
    frame = pd.DataFrame({"yhat": [1.5]})
    prediction = PredictionArtifactData(
        ml_type="prediction",
        config_id="c",
        model_artifact_id="m",
        started_at="s",
        completed_at="c",
        duration_seconds=0.0,
        predictions=PandasDataFrame.from_dataframe(frame),
    )
    assert prediction.model_dump()["predictions"] == {"columns": ["yhat"], "data": [[1.5]]}
    with pytest.raises(ValidationError):
        PredictionArtifactData.model_validate({**prediction.model_dump(), "ml_type": "trained_model"})


class _Model:
    class Inner:
        pass


def test_model_type_is_the_qualified_class_name() -> None:
    assert model_type_of(_Model()) == f"{__name__}._Model"
    assert model_type_of(_Model.Inner()) == f"{__name__}._Model.Inner"
    assert model_type_of({"model": _Model(), "scaler": 1}) == f"{__name__}._Model"
    assert model_type_of({"weights": [1.0]}) == "builtins.dict"
    assert model_type_of(b"RDS") == "builtins.bytes"


def test_model_size_is_the_pickled_size_or_none() -> None:
    import pickle

    model = {"weights": list(range(1000))}
    assert model_size_of(model) == len(pickle.dumps(model))
    assert model_size_of(threading.Lock()) is None
    assert model_size_of(lambda: None) is None


class _Runner(BaseModelRunner):
    async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: FeatureCollection | None = None) -> Any:
        return len(data)

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: FeatureCollection | None = None,
    ) -> pd.DataFrame:
        return future.assign(yhat=model)


async def test_base_runner_hooks_do_nothing_by_default_and_it_satisfies_the_protocol() -> None:
    runner = _Runner()
    as_port: ModelRunnerProtocol = runner
    assert as_port is runner
    await runner.on_init()
    await runner.on_cleanup()
    model = await runner.on_train(BaseConfig(), pd.DataFrame({"x": [1, 2]}))
    predictions = await runner.on_predict(BaseConfig(), model, pd.DataFrame(), pd.DataFrame({"x": [3]}))
    assert predictions["yhat"].tolist() == [2]


def test_base_runner_is_abstract() -> None:
    with pytest.raises(TypeError):
        BaseModelRunner()  # type: ignore[abstract]
