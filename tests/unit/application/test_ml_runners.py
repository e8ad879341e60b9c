"""FunctionalModelRunner with sync and async functions, and the lifecycle hooks around a runner call."""

from __future__ import annotations

import asyncio
import functools
import threading
from typing import Any

import anyio.to_thread
import pandas as pd
import pytest
from geojson_pydantic import FeatureCollection

from chapkit.application.ml_runners import (
    FunctionalModelRunner,
    as_model_runner,
    call_model_function,
    model_runner_hooks,
)
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import BaseModelRunner, ModelRunnerProtocol

WAIT = 30.0  # generous bound for a thread or task to reach a point; never a synchronisation sleep


class LinearConfig(BaseConfig):
    scale: float = 1.0


DATA = pd.DataFrame({"x": [1.0, 2.0, 3.0], "y": [2.0, 4.0, 6.0]})
FUTURE = pd.DataFrame({"x": [4.0, 5.0]})


def fit(config: LinearConfig, data: pd.DataFrame, geo: FeatureCollection | None) -> dict[str, float]:
    return {"slope": float((data["y"] / data["x"]).mean()) * config.scale}


def forecast(
    config: LinearConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any
) -> pd.DataFrame:
    return future.assign(sample_0=future["x"] * model["slope"])


async def async_fit(config: LinearConfig, data: pd.DataFrame, geo: FeatureCollection | None) -> dict[str, float]:
    return fit(config, data, geo)


async def async_forecast(
    config: LinearConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any
) -> pd.DataFrame:
    return forecast(config, model, historic, future, geo)


@pytest.mark.parametrize(("train", "predict"), [(fit, forecast), (async_fit, async_forecast)], ids=["sync", "async"])
async def test_functional_runner_trains_and_predicts(train: Any, predict: Any) -> None:
    runner: FunctionalModelRunner[LinearConfig] = FunctionalModelRunner(on_train=train, on_predict=predict)
    config = LinearConfig(scale=0.5)
    model = await runner.on_train(config, DATA)
    assert model == {"slope": 1.0}
    predictions = await runner.on_predict(config, model, DATA, FUTURE)
    assert predictions["sample_0"].tolist() == [4.0, 5.0]


async def test_geo_is_passed_through() -> None:
    geo = FeatureCollection.model_validate({"type": "FeatureCollection", "features": []})
    seen: list[Any] = []

    def train(config: BaseConfig, data: pd.DataFrame, geo: FeatureCollection | None) -> str:
        seen.append(geo)
        return "model"

    async def predict(config: BaseConfig, model: Any, historic: Any, future: Any, geo: Any) -> pd.DataFrame:
        seen.append(geo)
        return future

    runner = FunctionalModelRunner(on_train=train, on_predict=predict)
    await runner.on_train(BaseConfig(), DATA, geo)
    await runner.on_predict(BaseConfig(), "model", DATA, FUTURE, geo=geo)
    assert seen == [geo, geo]


async def test_a_sync_function_runs_off_the_event_loop() -> None:
    loop_thread = threading.get_ident()
    started = threading.Event()
    released = threading.Event()

    def train(config: BaseConfig, data: pd.DataFrame, geo: Any) -> tuple[int, bool]:
        started.set()
        # Released by the event loop below: this only succeeds if the loop keeps running meanwhile.
        return threading.get_ident(), released.wait(WAIT)

    runner = FunctionalModelRunner(on_train=train, on_predict=forecast)
    training = asyncio.create_task(runner.on_train(BaseConfig(), DATA))
    assert await anyio.to_thread.run_sync(started.wait, WAIT)
    released.set()
    thread, was_released = await training
    assert was_released
    assert thread != loop_thread


async def test_a_sync_function_finishes_before_its_cancellation_takes_effect() -> None:
    started = threading.Event()
    may_finish = threading.Event()
    finished = threading.Event()

    def train(config: BaseConfig, data: pd.DataFrame, geo: Any) -> str:
        started.set()
        may_finish.wait(WAIT)
        finished.set()
        return "model"

    runner = FunctionalModelRunner(on_train=train, on_predict=forecast)
    training = asyncio.create_task(runner.on_train(BaseConfig(), DATA))
    assert await anyio.to_thread.run_sync(started.wait, WAIT)
    training.cancel()
    training.cancel()  # a second cancel does not cut the wait short either
    waiter = asyncio.create_task(asyncio.wait({training}))
    await asyncio.sleep(0)
    assert not finished.is_set()
    may_finish.set()
    await waiter
    assert training.cancelled()
    assert finished.is_set()


async def test_an_async_function_is_cancelled_at_once() -> None:
    started = asyncio.Event()

    async def train(config: BaseConfig, data: pd.DataFrame, geo: Any) -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    runner = FunctionalModelRunner(on_train=train, on_predict=forecast)
    training = asyncio.create_task(runner.on_train(BaseConfig(), DATA))
    await started.wait()
    training.cancel()
    with pytest.raises(asyncio.CancelledError):
        await training


async def test_errors_of_the_functions_propagate() -> None:
    def train(config: BaseConfig, data: pd.DataFrame, geo: Any) -> Any:
        raise ValueError("bad data")

    async def predict(config: BaseConfig, model: Any, historic: Any, future: Any, geo: Any) -> pd.DataFrame:
        raise KeyError("column")

    runner = FunctionalModelRunner(on_train=train, on_predict=predict)
    with pytest.raises(ValueError, match="bad data"):
        await runner.on_train(BaseConfig(), DATA)
    with pytest.raises(KeyError):
        await runner.on_predict(BaseConfig(), None, DATA, FUTURE)


class _AsyncCallable:
    async def __call__(self, config: BaseConfig, data: pd.DataFrame, geo: Any) -> str:
        return "from object"


async def _scaled(factor: int, config: BaseConfig, data: pd.DataFrame, geo: Any) -> int:
    return factor * len(data)


async def test_async_callables_of_every_shape_are_awaited() -> None:
    loop_thread = threading.get_ident()

    async def on_loop(config: BaseConfig, data: pd.DataFrame, geo: Any) -> int:
        return threading.get_ident()

    assert await call_model_function(_AsyncCallable(), BaseConfig(), DATA, None) == "from object"
    assert await call_model_function(functools.partial(_scaled, 10), BaseConfig(), DATA, None) == 30
    assert await call_model_function(on_loop, BaseConfig(), DATA, None) == loop_thread
    # A plain function returning a coroutine: called on a thread, the coroutine awaited on the loop.
    assert await call_model_function(lambda c, d, g: on_loop(c, d, g), BaseConfig(), DATA, None) == loop_thread


class RecordingRunner(BaseModelRunner):
    def __init__(self, *, fail_in: str | None = None) -> None:
        self.calls: list[str] = []
        self.fail_in = fail_in

    def _step(self, name: str) -> None:
        self.calls.append(name)
        if self.fail_in == name:
            raise RuntimeError(f"{name} failed")

    async def on_init(self) -> None:
        self._step("init")

    async def on_cleanup(self) -> None:
        self._step("cleanup")

    async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: FeatureCollection | None = None) -> Any:
        self._step("train")
        return "model"

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: FeatureCollection | None = None,
    ) -> pd.DataFrame:
        self._step("predict")
        return future


async def test_hooks_wrap_a_successful_train_and_predict() -> None:
    runner = RecordingRunner()
    async with model_runner_hooks(runner):
        model = await runner.on_train(BaseConfig(), DATA)
    async with model_runner_hooks(runner):
        await runner.on_predict(BaseConfig(), model, DATA, FUTURE)
    assert runner.calls == ["init", "train", "cleanup", "init", "predict", "cleanup"]


@pytest.mark.parametrize("failing", ["train", "predict"])
async def test_cleanup_runs_when_train_or_predict_fails(failing: str) -> None:
    runner = RecordingRunner(fail_in=failing)
    with pytest.raises(RuntimeError, match=f"{failing} failed"):
        async with model_runner_hooks(runner):
            if failing == "train":
                await runner.on_train(BaseConfig(), DATA)
            else:
                await runner.on_predict(BaseConfig(), "model", DATA, FUTURE)
    assert runner.calls == ["init", failing, "cleanup"]


async def test_cleanup_runs_when_the_call_is_cancelled() -> None:
    runner = RecordingRunner()
    entered = asyncio.Event()

    async def run() -> None:
        async with model_runner_hooks(runner):
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert runner.calls == ["init", "cleanup"]


async def test_a_failing_cleanup_does_not_hide_the_training_error() -> None:
    class Both(RecordingRunner):
        async def on_cleanup(self) -> None:
            self.calls.append("cleanup")
            raise OSError("cleanup failed")

    runner = Both(fail_in="train")
    with pytest.raises(RuntimeError, match="train failed"):
        async with model_runner_hooks(runner):
            await runner.on_train(BaseConfig(), DATA)
    assert runner.calls == ["init", "train", "cleanup"]


async def test_a_failing_cleanup_after_success_is_raised() -> None:
    runner = RecordingRunner(fail_in="cleanup")
    with pytest.raises(RuntimeError, match="cleanup failed"):
        async with model_runner_hooks(runner):
            await runner.on_train(BaseConfig(), DATA)


async def test_a_failing_init_skips_the_call_and_the_cleanup() -> None:
    runner = RecordingRunner(fail_in="init")
    with pytest.raises(RuntimeError, match="init failed"):
        async with model_runner_hooks(runner):
            runner.calls.append("body")
    assert runner.calls == ["init"]


async def test_runners_without_hooks_are_used_as_they_are() -> None:
    class Bare:
        async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: FeatureCollection | None = None) -> Any:
            return "bare"

        async def on_predict(
            self,
            config: BaseConfig,
            model: Any,
            historic: pd.DataFrame,
            future: pd.DataFrame,
            geo: FeatureCollection | None = None,
        ) -> pd.DataFrame:
            return future

    runner = Bare()
    async with model_runner_hooks(runner):
        assert await runner.on_train(BaseConfig(), DATA) == "bare"
    port = as_model_runner(runner)
    await port.on_init()
    await port.on_cleanup()
    assert await port.on_train(BaseConfig(), DATA) == "bare"
    assert (await port.on_predict(BaseConfig(), "bare", DATA, FUTURE)) is FUTURE


async def test_a_duck_typed_runner_s_own_hooks_are_called() -> None:
    class Duck:
        def __init__(self) -> None:
            self.calls: list[str] = []

        async def on_init(self) -> None:
            self.calls.append("init")

        async def on_train(self, config: BaseConfig, data: pd.DataFrame, geo: FeatureCollection | None = None) -> Any:
            self.calls.append("train")
            return "duck"

        async def on_predict(
            self,
            config: BaseConfig,
            model: Any,
            historic: pd.DataFrame,
            future: pd.DataFrame,
            geo: FeatureCollection | None = None,
        ) -> pd.DataFrame:
            return future

    duck = Duck()
    port = as_model_runner(duck)
    async with model_runner_hooks(port):
        await port.on_train(BaseConfig(), DATA)
    async with model_runner_hooks(duck):  # given as it is, too
        pass
    assert duck.calls == ["init", "train", "init"]  # it has no on_cleanup: nothing is called for it


def test_a_base_model_runner_is_the_port_as_it_is() -> None:
    runner = RecordingRunner()
    assert as_model_runner(runner) is runner
    assert ModelRunnerProtocol in BaseModelRunner.__mro__
    assert BaseModelRunner.on_train is ModelRunnerProtocol.on_train  # one definition of the port
