"""Synthetic, seasonal train and predict data for a model service's declared inputs (`$generate-sample-data`).

Every location gets `time_period`, the covariates (seasonal curves, a different phase per covariate and
location, so no two columns are collinear), `population` and a `disease_cases` target that follows the
covariates with noise. A seed makes the data reproducible; the randomness is the caller's `random.Random`.
"""

from __future__ import annotations

import math
import random
import re
from datetime import date, timedelta
from typing import Any

from chapkit.domain.dataframes import PandasDataFrame
from chapkit.domain.ml_checks import LOCATION_COLUMN, TIME_PERIOD_COLUMN, PeriodType

TARGET = "disease_cases"
_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")
_MONTH = re.compile(r"^(\d{4})-?(\d{2})$")


def periods_after(period: str, count: int) -> list[str]:
    """The `count` periods after `period` ("2024-12" -> "2025-01", ...; "2024-W52" -> "2025-W01", ...)."""
    if match := _WEEK.match(period):
        start = date.fromisocalendar(int(match[1]), int(match[2]), 1)
        days = [start + timedelta(weeks=step) for step in range(1, count + 1)]
        return [f"{day.isocalendar().year}-W{day.isocalendar().week:02d}" for day in days]
    if match := _MONTH.match(period):
        index = int(match[1]) * 12 + int(match[2]) - 1
        return [f"{(index + step) // 12}-{(index + step) % 12 + 1:02d}" for step in range(1, count + 1)]
    raise ValueError(f"{period!r} is neither a month (2024-01) nor an ISO week (2024-W01)")


def location_names(count: int) -> list[str]:
    """`count` location ids: `location_1`, `location_2`, ..."""
    return [f"location_{index}" for index in range(1, count + 1)]


def sample_frames(
    *,
    covariates: list[str],
    period_type: PeriodType,
    locations: list[str],
    history: int,
    horizon: int,
    rng: random.Random,
) -> tuple[PandasDataFrame, PandasDataFrame]:
    """`history` periods with the target and the `horizon` periods after them without it, for every location.

    A covariate named like a column every frame has (`population`, `time_period`, ...) is that column.
    """
    fixed = (TIME_PERIOD_COLUMN, LOCATION_COLUMN, "population", TARGET)
    covariates = [name for name in dict.fromkeys(covariates) if name not in fixed]
    weekly = period_type == PeriodType.weekly
    first = "2019-W52" if weekly else "2019-12"
    season = 52 if weekly else 12
    periods = periods_after(first, history + horizon)
    known: list[list[Any]] = []
    future: list[list[Any]] = []
    for offset, location in enumerate(locations):
        population = 50_000 + 10_000 * offset
        for step, period in enumerate(periods):
            angle = 2 * math.pi * step / season
            values = [
                round(50 + 30 * math.sin(angle + position + offset) + rng.uniform(-5, 5), 2)
                for position in range(len(covariates))
            ]
            row: list[Any] = [period, location, *values, population]
            if step < history:
                mean = 10 + 0.3 * sum(values) / max(len(values), 1) + 5 * offset
                known.append([*row, max(0, round(rng.gauss(mean, 3)))])
            else:
                future.append(row)
    columns = [TIME_PERIOD_COLUMN, LOCATION_COLUMN, *covariates, "population"]
    return (
        PandasDataFrame(columns=[*columns, TARGET], data=known),
        PandasDataFrame(columns=columns, data=future),
    )


def sample_geo(locations: list[str], kind: str = "polygon") -> dict[str, Any]:
    """A GeoJSON FeatureCollection with one feature per location (id and `properties.id` are its name)."""
    features = []
    for index, location in enumerate(locations):
        west, south = 30.0 + index, 0.0
        if kind == "point":
            geometry: dict[str, Any] = {"type": "Point", "coordinates": [west + 0.5, south + 0.5]}
        else:
            ring = [[west, south], [west + 1, south], [west + 1, south + 1], [west, south + 1], [west, south]]
            geometry = {"type": "Polygon", "coordinates": [ring]}
        features.append({"type": "Feature", "id": location, "properties": {"id": location}, "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


__all__ = ["TARGET", "location_names", "periods_after", "sample_frames", "sample_geo"]
