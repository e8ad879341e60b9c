"""Job timings from `with_jobs` or the environment (D16): settable, so that tests and operators choose them."""

from __future__ import annotations

import pytest

from chapkit.bootstrap.jobs_backend import HEARTBEAT_INTERVAL_ENV, STALE_AFTER_ENV, JobsSettings


def test_the_environment_sets_the_timings_that_with_jobs_leaves_open(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(HEARTBEAT_INTERVAL_ENV, "0.25")
    monkeypatch.setenv(STALE_AFTER_ENV, " 3 ")
    assert JobsSettings.resolve().timings() == {"heartbeat_interval": 0.25, "stale_after": 3.0}
    assert JobsSettings.resolve(stale_after=7).timings() == {"heartbeat_interval": 0.25, "stale_after": 7}
    monkeypatch.setenv(STALE_AFTER_ENV, "")
    assert JobsSettings.resolve().timings() == {"heartbeat_interval": 0.25}


def test_without_either_the_schedulers_defaults_hold(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HEARTBEAT_INTERVAL_ENV, raising=False)
    monkeypatch.delenv(STALE_AFTER_ENV, raising=False)
    assert JobsSettings.resolve().timings() == {}


@pytest.mark.parametrize("raw", ["0", "-1", "soon", "nan", "inf"])
def test_a_timing_that_is_not_a_positive_number_of_seconds_is_refused_by_name(
    raw: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(STALE_AFTER_ENV, raw)
    with pytest.raises(ValueError, match=f"{STALE_AFTER_ENV} must be a positive number of seconds"):
        JobsSettings.resolve()
