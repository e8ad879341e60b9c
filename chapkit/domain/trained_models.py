"""A trained model as chapkit stores it: what a train function returns, the model pickled once, its metadata.

`TrainResult` is what a train function returns to report metrics along with its model
(`validated_metrics` checks them); `PickledModel` is a trained model pickled once, as its artifact
stores it; `model_type_of` and `model_size_of` compute the metadata stored with a trained model.
"""

from __future__ import annotations

import math
import numbers
import pickle
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


def model_type_of(model: Any) -> str | None:
    """`module.QualName` of a trained model's class (of `model["model"]` for a dict holding one).

    `None` when the class has no module or qualified name to report.
    """
    target = model["model"] if isinstance(model, dict) and "model" in model else model
    cls = type(target)
    module = getattr(cls, "__module__", None)
    qualname = getattr(cls, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str):
        return None
    return f"{module}.{qualname}"


class _ByteCounter:
    """A binary sink that only counts what is written: the pickle is measured, never held in memory."""

    def __init__(self) -> None:
        self.size = 0

    def write(self, chunk: bytes) -> int:
        """Count `chunk`."""
        self.size += len(chunk)
        return len(chunk)


def model_size_of(model: Any) -> int | None:
    """Size in bytes of the pickled model (the default protocol), or `None` when it cannot be pickled."""
    counter = _ByteCounter()
    try:
        pickle.dump(model, counter)
    except Exception:
        return None
    return counter.size


MAX_METRICS = 100
"""How many metrics one training may report."""
MAX_METRIC_NAME_LENGTH = 200
"""How long a metric's name may be (characters)."""


def validated_metrics(metrics: Any, *, source: str = "metrics") -> dict[str, float]:
    """Reported metrics checked and as stored: a new dict of each name to its value as a float.

    Metrics are a mapping of names (non-empty strings of at most `MAX_METRIC_NAME_LENGTH` characters)
    to finite real numbers (`int`, `float` or numpy's numbers; not booleans), at most `MAX_METRICS` of
    them. Anything else raises `ValueError` naming the problem: `invalid <source>: ...`, where `source`
    is `"metrics"` or says where they came from (a shell model's `metrics.json`).
    """
    checked: dict[str, float] = {}
    problem = _metrics_problem(metrics, checked)
    if problem is not None:
        raise ValueError(f"invalid {source}: {problem}")
    return checked


def _metrics_problem(metrics: Any, checked: dict[str, float]) -> str | None:
    """What is wrong with reported metrics (`None`: nothing), filling `checked` with the valid ones."""
    if not isinstance(metrics, Mapping):
        return f"metrics must map metric names to numbers, got {type(metrics).__qualname__}"
    if len(metrics) > MAX_METRICS:
        return f"{len(metrics)} metrics reported; at most {MAX_METRICS} may be"
    for name, value in metrics.items():
        if not isinstance(name, str) or not name.strip():
            return f"a metric's name must be a non-empty string, got {name!r}"
        if len(name) > MAX_METRIC_NAME_LENGTH:
            return f"the metric name {name[:40]!r}... is longer than {MAX_METRIC_NAME_LENGTH} characters"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return f"metric {name!r} must be a number, got {type(value).__qualname__}"
        number = float(value)
        if not math.isfinite(number):
            return f"metric {name!r} must be a finite number, got {number}"
        checked[name] = number
    return None


@dataclass(frozen=True, slots=True)
class TrainResult:
    """What a train function may return instead of the bare model: the model and the metrics it reports.

    `on_train` (a `FunctionalModelRunner`'s train function, or a `BaseModelRunner` subclass's method)
    returns `TrainResult(model, metrics={"rmse": 1.2})`; the model is stored (pickled) as a bare
    model is, and the metrics as JSON in the trained model's artifact (`TrainedModelArtifactData.metrics`).
    Metrics are checked when the result is made (`validated_metrics`): invalid ones raise `ValueError`,
    which fails the training job, and nothing is stored. Returning the bare model reports no metrics.
    """

    model: Any
    """The trained model object (must be pickleable)."""
    metrics: Mapping[str, float] = field(default_factory=dict)
    """Metric names and their values (finite numbers, at most `MAX_METRICS`), kept as floats."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", validated_metrics(self.metrics))


MODEL_PICKLE_PROTOCOL = 4
"""The pickle protocol a trained model is stored with (the one the SQL adapter stores artifact data with)."""


@dataclass(frozen=True, slots=True)
class PickledModel:
    """A trained model pickled once: the bytes its artifact stores, and their size (`model_size_bytes`).

    A trained model's artifact data holds it in place of the model. Pickled again with the rest of the
    data (the SQL adapter), it writes its bytes as they are and reads back as the model itself
    (`pickle.loads` of the bytes); deep-copied (the memory adapter's stored copy), it becomes the model
    at once. Either way the stored data reads back holding the model, as data written before it did,
    and the model is pickled once however the storage keeps the data.
    """

    data: bytes

    @classmethod
    def of(cls, model: Any) -> PickledModel:
        """Pickle `model` (whatever it raises when it cannot be pickled propagates)."""
        return cls(pickle.dumps(model, protocol=MODEL_PICKLE_PROTOCOL))

    @property
    def size(self) -> int:
        """Size of the pickled model in bytes."""
        return len(self.data)

    def __reduce__(self) -> tuple[Callable[[bytes], Any], tuple[bytes]]:
        return pickle.loads, (self.data,)


__all__ = [
    "MAX_METRICS",
    "MAX_METRIC_NAME_LENGTH",
    "MODEL_PICKLE_PROTOCOL",
    "PickledModel",
    "TrainResult",
    "model_size_of",
    "model_type_of",
    "validated_metrics",
]
