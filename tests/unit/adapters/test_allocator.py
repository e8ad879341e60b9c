"""Allocator tuning: on by default on glibc, off by `CHAPKIT_MALLOC_TUNING=0`, glibc's own variables respected."""

from __future__ import annotations

import ctypes
import gc
import sys

import pytest

from chapkit import ServiceBuilder, ServiceInfo
from chapkit.adapters.http.allocator import (
    GC_FREEZE_ENV,
    YOUNG_GC_THRESHOLD,
    malloc_tuning_enabled,
    release_heap,
    settle_heap,
    tune_allocator,
)


def _glibc() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        return hasattr(ctypes.CDLL("libc.so.6"), "mallopt")
    except OSError:
        return False


glibc_only = pytest.mark.skipif(not _glibc(), reason="mallopt is glibc's")


@glibc_only
def test_the_tuning_is_on_by_default() -> None:
    assert tune_allocator({}) == {"M_ARENA_MAX": 2, "M_MMAP_THRESHOLD": 256 * 1024, "M_TRIM_THRESHOLD": 1024 * 1024}
    assert tune_allocator({"CHAPKIT_MALLOC_TUNING": " On "}) == tune_allocator({})


@glibc_only
def test_settings_made_through_glibcs_own_variables_are_left_alone() -> None:
    made = tune_allocator({"MALLOC_ARENA_MAX": "4", "MALLOC_TRIM_THRESHOLD_": "0"})
    assert made == {"M_MMAP_THRESHOLD": 256 * 1024}


@pytest.mark.parametrize("value", ["0", "false", "OFF", "no"])
def test_the_environment_turns_it_off(value: str) -> None:
    assert not malloc_tuning_enabled({"CHAPKIT_MALLOC_TUNING": value})
    assert tune_allocator({"CHAPKIT_MALLOC_TUNING": value}) == {}


def test_an_unknown_value_stops_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAPKIT_MALLOC_TUNING", "sometimes")
    with pytest.raises(ValueError, match="CHAPKIT_MALLOC_TUNING must be 1 or 0"):
        ServiceBuilder(info=ServiceInfo(display_name="x")).build()


async def test_a_started_service_freezes_its_heap_and_gives_it_back_when_it_stops(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(GC_FREEZE_ENV, raising=False)
    release_heap()
    thresholds = gc.get_threshold()
    app = ServiceBuilder(info=ServiceInfo(display_name="heap")).with_health().build()
    try:
        async with app.router.lifespan_context(app):
            assert gc.get_freeze_count() > 0
            assert gc.get_threshold()[0] >= YOUNG_GC_THRESHOLD
        assert gc.get_freeze_count() == 0
    finally:
        gc.set_threshold(*thresholds)


def test_the_freeze_is_off_with_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(GC_FREEZE_ENV, "off")
    release_heap()
    thresholds = gc.get_threshold()
    settle_heap()
    assert gc.get_freeze_count() == 0 and gc.get_threshold() == thresholds
