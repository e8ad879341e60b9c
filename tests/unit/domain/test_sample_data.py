"""Sample data for a service's declared inputs: a covariate that is a fixed column is not added twice."""

from __future__ import annotations

import random

from chapkit.domain.ml_checks import PeriodType
from chapkit.domain.sample_data import sample_frames


def test_a_required_population_covariate_is_the_population_column() -> None:
    known, future = sample_frames(
        covariates=["population", "rainfall", "rainfall"],
        period_type=PeriodType.monthly,
        locations=["north"],
        history=3,
        horizon=2,
        rng=random.Random(1),
    )
    assert known.columns == ["time_period", "location", "rainfall", "population", "disease_cases"]
    assert future.columns == ["time_period", "location", "rainfall", "population"]
    assert [row[0] for row in future.data] == ["2020-04", "2020-05"]
