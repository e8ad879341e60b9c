"""`FunctionalModelRunner` and the call sequence of a runner's lifecycle hooks.

Why here and not in the domain: `FunctionalModelRunner` accepts plain synchronous functions as well as
coroutine functions, and a synchronous training function must not block the event loop (the HTTP
server and every other job share it). Running it on a worker thread is a runtime policy that needs
anyio (D4 keeps anyio out of the domain), so the runner lives in the application layer; the domain
keeps the port (`ModelRunnerProtocol`, and `BaseModelRunner` to subclass it), and the schemas, with no
I/O or threads. `as_model_runner` makes a duck-typed runner (one that does not subclass
`BaseModelRunner`) the port, so callers call every method of the port, hooks included.

A synchronous function runs to its end even when its job is cancelled: Python cannot stop a thread,
and reporting the job as cancelled while its function still runs (holding CPU and memory, outside the
scheduler's concurrency limit, racing `on_cleanup`) would be wrong. The cancellation takes effect as
soon as the function returns. Work that must stop on cancel belongs in a process
(`ShellModelRunner`, which kills its process group, D23).
"""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, Generic, TypeAlias, cast

import anyio.to_thread
import structlog
from typing_extensions import TypeVar as DefaultTypeVar

from chapkit.application.shielding import complete_before_cancel
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import BaseModelRunner, GeoFeatureCollection

if TYPE_CHECKING:
    import pandas as pd

ConfigT = DefaultTypeVar("ConfigT", bound=BaseConfig, default=BaseConfig)
"""The service's config schema, as the train and predict functions receive it."""


# The frame types are forward references, so that naming them does not import pandas (domain.dataframes).
TrainFunction: TypeAlias = Callable[[ConfigT, "pd.DataFrame", GeoFeatureCollection | None], Any]
"""`(config, data, geo) -> model` (or a `TrainResult` with metrics), async or plain (run on a worker thread)."""

PredictFunction: TypeAlias = Callable[
    [ConfigT, Any, "pd.DataFrame", "pd.DataFrame", GeoFeatureCollection | None],
    "Awaitable[pd.DataFrame] | pd.DataFrame",
]
"""`(config, model, historic, future, geo) -> predictions`, async or plain (run on a worker thread)."""

_logger = structlog.get_logger(__name__)


def _is_async_callable(function: Callable[..., Any]) -> bool:
    """True for coroutine functions, partials of them and objects with an `async def __call__`."""
    while isinstance(function, functools.partial):
        function = function.func
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(getattr(function, "__call__", None))  # noqa: B004


async def call_model_function(function: Callable[..., Any], *args: Any) -> Any:
    """Call a user's train or predict function without blocking the event loop.

    Coroutine functions are awaited; plain functions run on a worker thread (anyio's default limiter)
    and finish even when the caller is cancelled (see the module docstring). A plain function that
    returns an awaitable has it awaited on the event loop.
    """
    if _is_async_callable(function):
        return await function(*args)
    worker = asyncio.ensure_future(anyio.to_thread.run_sync(functools.partial(function, *args)))
    result = await complete_before_cancel(worker)
    if inspect.isawaitable(result):
        return await result
    return result


class FunctionalModelRunner(BaseModelRunner, Generic[ConfigT]):
    """Functional model runner wrapping train and predict functions (sync or async)."""

    def __init__(
        self,
        on_train: TrainFunction[ConfigT],
        on_predict: PredictFunction[ConfigT],
    ) -> None:
        """Initialize functional runner with train and predict functions."""
        self._on_train = on_train
        self._on_predict = on_predict

    async def on_train(
        self,
        config: BaseConfig,
        data: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> Any:
        """Train a model and return the trained model object."""
        return await call_model_function(self._on_train, config, data, geo)

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> pd.DataFrame:
        """Make predictions using a trained model."""
        predictions = await call_model_function(self._on_predict, config, model, historic, future, geo)
        return cast("pd.DataFrame", predictions)


class _DuckTypedRunner(BaseModelRunner):
    """A runner that does not subclass `BaseModelRunner`, as the port: its own hooks where it has them."""

    def __init__(self, runner: Any) -> None:
        self.runner = runner
        # The one place a runner's hooks are looked up by name: a duck-typed runner may have either or none.
        self._on_init: Callable[[], Awaitable[None]] | None = getattr(runner, "on_init", None)
        self._on_cleanup: Callable[[], Awaitable[None]] | None = getattr(runner, "on_cleanup", None)

    async def on_init(self) -> None:
        """The runner's own `on_init()`, if it has one."""
        if self._on_init is not None:
            await self._on_init()

    async def on_cleanup(self) -> None:
        """The runner's own `on_cleanup()`, if it has one."""
        if self._on_cleanup is not None:
            await self._on_cleanup()

    async def on_train(
        self,
        config: BaseConfig,
        data: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> Any:
        """The runner's `on_train`."""
        return await self.runner.on_train(config=config, data=data, geo=geo)

    async def on_predict(
        self,
        config: BaseConfig,
        model: Any,
        historic: pd.DataFrame,
        future: pd.DataFrame,
        geo: GeoFeatureCollection | None = None,
    ) -> pd.DataFrame:
        """The runner's `on_predict`."""
        predictions = await self.runner.on_predict(
            config=config, model=model, historic=historic, future=future, geo=geo
        )
        return cast("pd.DataFrame", predictions)


def as_model_runner(runner: object) -> BaseModelRunner:
    """The runner as the port `ModelRunnerProtocol`, every method of it there to call.

    A `BaseModelRunner` is returned as it is. Any other runner (duck typed: `on_train` and `on_predict`,
    perhaps hooks of its own) is wrapped: calls go to it, and a hook it lacks does nothing.
    """
    return runner if isinstance(runner, BaseModelRunner) else _DuckTypedRunner(runner)


def _name_of(runner: BaseModelRunner) -> str:
    return type(runner.runner if isinstance(runner, _DuckTypedRunner) else runner).__qualname__


@asynccontextmanager
async def model_runner_hooks(runner: object) -> AsyncIterator[None]:
    """Call the runner's `on_init()` on entry and `on_cleanup()` on exit, also when the body fails.

    A runner that does not subclass `BaseModelRunner` gets its own hooks called where it has them
    (`as_model_runner`). When `on_init()` raises, the body does not run and `on_cleanup()` is not called.
    When the body raises and `on_cleanup()` raises too, the body's error is the one raised and the
    cleanup error is logged.
    """
    port = as_model_runner(runner)
    await port.on_init()
    try:
        yield
    except BaseException:
        try:
            await port.on_cleanup()
        except Exception:
            _logger.exception("ml.runner.cleanup_failed", runner=_name_of(port))
        raise
    await port.on_cleanup()


__all__ = [
    "ConfigT",
    "FunctionalModelRunner",
    "PredictFunction",
    "TrainFunction",
    "as_model_runner",
    "call_model_function",
    "model_runner_hooks",
]
