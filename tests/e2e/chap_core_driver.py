"""Drive one chapkit service with chap-core's own client; run under chap-core's Python, not chapkit's.

    CHAPKIT_CHAP_CORE_PYTHON -I chap_core_driver.py < plan.json > summary.json

The plan is `{"url": ..., "scenarios": [{"name", "period_type": "monthly"|"weekly", "geo", "locations",
"history", "horizon", "config", "expect": "success"|"train-fails"|"predict-fails", "repeat"}]}`. Each
scenario builds a chap-core `DataSet[FullData]` with chap-core's classes (polygons set when `geo`), splits
it with chap-core's own `train_test_split_with_weather`, then calls `ExternalChapkitModelTemplate(url)
.get_model(config).train(...).predict(...)`, exactly as chap-core does, and describes what came back:
the locations and periods of the `DataSet[Samples]`, the number of samples, the rows whose samples are
all one value, and (with `repeat`) whether a second identical predict gave identical samples. A failing
scenario records the error chap-core raised. The summary is one JSON object on stdout; the pytest side
(test_chap_core_client.py) asserts on it. Scenarios run on threads: chap-core polls each job every 2 s,
so running them side by side keeps a service's cases to a few seconds in all.

It is run with `-I` so that neither the working directory nor PYTHONPATH can put the chapkit under test
in place of the chapkit release chap-core depends on.
"""

from __future__ import annotations

import json
import logging
import math
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from chap_core.api_types import FeatureCollectionModel
from chap_core.assessment.dataset_splitting import train_test_split_with_weather
from chap_core.datatypes import FullData
from chap_core.models.external_chapkit_model import ExternalChapkitModelTemplate
from chap_core.spatio_temporal_data.temporal_dataclass import DataSet
from chap_core.time_period import TimePeriod

FIRST_PERIOD = {"monthly": (2019, 7), "weekly": (2019, 40)}  # both series cross a new year


def period_names(period_type: str, count: int) -> list[str]:
    """`count` consecutive periods as chap-core writes them (`2019-07`, `2019-W40`)."""
    year, index = FIRST_PERIOD[period_type]
    if period_type == "monthly":
        months = [year * 12 + index - 1 + step for step in range(count)]
        return [f"{month // 12}-{month % 12 + 1:02d}" for month in months]
    start = date.fromisocalendar(year, index, 1)
    weeks = [(start + timedelta(weeks=step)).isocalendar() for step in range(count)]
    return [f"{week.year}-W{week.week:02d}" for week in weeks]


def build_dataset(scenario: dict[str, Any]) -> tuple[DataSet, str]:
    """A seasonal dataset for several locations; returns it and the name of the first future period."""
    periods = period_names(scenario["period_type"], scenario["history"] + scenario["horizon"])
    season = 12 if scenario["period_type"] == "monthly" else 52
    rng = np.random.default_rng(7)
    rows = []
    for number in range(scenario["locations"]):
        location = f"district_{number + 1}"
        for step, period in enumerate(periods):
            rainfall = 80 + 60 * math.sin(2 * math.pi * step / season + number) + 5 * number
            temperature = 22 + 4 * math.cos(2 * math.pi * step / season)
            cases = max(0, round(0.3 * rainfall + temperature + 10 * number + rng.normal(0, 4)))
            rows.append([period, location, round(rainfall, 1), round(temperature, 1), cases, 10_000 * (number + 1)])
    frame = pd.DataFrame(
        rows, columns=["time_period", "location", "rainfall", "mean_temperature", "disease_cases", "population"]
    )
    dataset = DataSet.from_pandas(frame, FullData)
    if scenario["geo"]:
        dataset.set_polygons(polygons(sorted({row[1] for row in rows})))
    return dataset, periods[scenario["history"]]


def polygons(locations: list[str]) -> FeatureCollectionModel:
    """One square per location, in a row, each with a parent region."""
    features = []
    for number, location in enumerate(locations):
        west = 30.0 + number
        ring = [[west, 0.0], [west + 1, 0.0], [west + 1, 1.0], [west, 1.0], [west, 0.0]]
        features.append(
            {
                "type": "Feature",
                "id": location,
                "properties": {"name": location, "parent": f"region_{number % 2 + 1}"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    return FeatureCollectionModel.model_validate({"type": "FeatureCollection", "features": features})


def describe(predictions: DataSet) -> dict[str, Any]:
    """What chap-core made of the service's predictions."""
    periods, counts, one_valued, means = {}, set(), 0, []
    for location, samples in predictions.items():
        periods[location] = [period.id for period in samples.time_period]
        values = np.asarray(samples.samples, dtype=float)
        counts.add(values.shape[-1])
        one_valued += sum(1 for row in values if len(set(row.tolist())) < 2)
        means.append(float(values.mean()))
    return {
        "locations": sorted(periods),
        "periods": periods,
        "sample_counts": sorted(counts),
        "rows_with_one_value": one_valued,
        "all_finite": all(np.isfinite(np.asarray(s.samples, dtype=float)).all() for s in predictions.values()),
        "sample_mean": float(np.mean(means)) if means else None,
    }


def samples_of(predictions: DataSet) -> dict[str, list[list[float]]]:
    """Every location's samples, for comparing two predictions."""
    return {location: np.asarray(s.samples, dtype=float).tolist() for location, s in predictions.items()}


def run(url: str, scenario: dict[str, Any]) -> dict[str, Any]:
    """One scenario: get_model, train, predict (twice with `repeat`), as chap-core does them."""
    started = time.monotonic()
    result: dict[str, Any] = {"stage": "data", "error": None, "error_type": None}
    try:
        dataset, first_future = build_dataset(scenario)
        train, _truth, future = train_test_split_with_weather(dataset, TimePeriod.parse(first_future))
        locations = sorted(future.keys())  # a DataSet is not iterable: ask for its keys
        result["expected_locations"] = locations
        result["expected_periods"] = {loc: [p.id for p in future[loc].time_period] for loc in locations}
        result["observed_mean"] = float(train.to_pandas()["disease_cases"].mean())
        result["stage"] = "get_model"
        template = ExternalChapkitModelTemplate(url)
        try:
            model = template.get_model(dict(scenario["config"]), prediction_length=scenario["horizon"])
            result["stage"] = "train"
            model.train(train)
            result["stage"] = "predict"
            predictions = model.predict(train, future)
            result.update(describe(predictions))
            if scenario.get("repeat"):
                result["stage"] = "repeat"
                again = model.predict(train, future)
                result["repeat_identical"] = samples_of(again) == samples_of(predictions)
            result["stage"] = "done"
        finally:
            template.close()
    except Exception as error:  # every failure is reported to the pytest side, with its type
        result["error_type"] = f"{type(error).__module__}.{type(error).__qualname__}"
        result["error"] = str(error)
        result["traceback"] = traceback.format_exc()[-4000:]
    result["seconds"] = round(time.monotonic() - started, 2)
    return result


def main() -> None:
    """Read the plan from stdin, run its scenarios side by side, print the summary."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    plan = json.load(sys.stdin)
    scenarios = plan["scenarios"]
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(scenarios)) as pool:
        results = list(pool.map(lambda scenario: run(plan["url"], scenario), scenarios))
    try:
        info: dict[str, Any] = ExternalChapkitModelTemplate(plan["url"]).client.info().model_dump(mode="json")
    except Exception as error:  # an info chap-core cannot read is part of the summary
        info = {"error": f"{type(error).__name__}: {error}"}
    summary = {
        "scenarios": {scenario["name"]: result for scenario, result in zip(scenarios, results, strict=True)},
        "info": info,
        "seconds": round(time.monotonic() - started, 2),
    }
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
