"""Request examples for the ML routes' OpenAPI document: a train, a predict in each generation, a validate.

Shown by the docs pages and sent by clients that try the examples (schemathesis's examples phase).
The ids name nothing stored, so each example is accepted and its job fails with the reason ("Config
... not found"), as any well-formed request whose ids are unknown (D14).
"""

from __future__ import annotations

from typing import Any

from fastapi import Body

_CONFIG_ID = "01K0000000000000000000000A"
_MODEL_ID = "01K0000000000000000000000B"
_HISTORY = {
    "columns": ["time_period", "location", "rainfall", "mean_temperature", "disease_cases"],
    "data": [
        ["2024-01", "district_a", 36.9, 24.5, 38],
        ["2024-02", "district_a", 68.7, 25.1, 53],
        ["2024-03", "district_a", 142.2, 27.9, 105],
    ],
}
_FUTURE = {
    "columns": ["time_period", "location", "rainfall", "mean_temperature"],
    "data": [["2024-04", "district_a", 170.0, 28.4], ["2024-05", "district_a", 164.6, 28.3]],
}
_TRAIN = {"config_id": _CONFIG_ID, "data": _HISTORY}
_PREDICT = {"historic": _HISTORY, "future": _FUTURE}

TRAIN_BODY: Any = Body(
    openapi_examples={"train": {"summary": "Train on three months of one district", "value": _TRAIN}},
)
"""The `$train` body, with its example."""

PREDICT_BODY: Any = Body(
    openapi_examples={
        "newer": {
            "summary": "The newer generation: `artifact_id` and `run_info`",
            "value": {"artifact_id": _MODEL_ID, **_PREDICT, "run_info": {"prediction_periods": 2}},
        },
        "reference": {
            "summary": "The reference's generation: `model_artifact_id`",
            "value": {"model_artifact_id": _MODEL_ID, **_PREDICT},
        },
    },
)
"""The `$predict` body, with an example in each generation of the contract (D24)."""

VALIDATE_BODY: Any = Body(
    openapi_examples={
        "train": {"summary": "Check a train request", "value": {"type": "train", **_TRAIN}},
        "predict": {
            "summary": "Check a predict request",
            "value": {"type": "predict", "artifact_id": _MODEL_ID, **_PREDICT},
        },
    },
)
"""The `$validate` body, with a train and a predict example."""

__all__ = ["PREDICT_BODY", "TRAIN_BODY", "VALIDATE_BODY"]
