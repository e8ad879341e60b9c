"""Jobs by reference (D22): what a worker process needs to run a job, as JSON, and back again.

A distributed scheduler cannot send a function to another process, only its name and its arguments.
`reference_of` turns `add_job(target, *args, **kwargs)` into a `JobCall`:

- a module-level function becomes `package.module:function`; the worker imports it;
- a bound method of an object whose class the service registered (its `MLManager`, its `TaskManager`)
  travels by the stable name `job_name` gave it (`chapkit.ml.train`), else as
  `package.module:Class.method`; the worker finds the method on the classes it was provided, gets the
  same kind of object from the provider and calls the method on it. A job queued under a name the
  worker does not know (another version of the service) fails with a `LookupError` that says so;
- anything else (a closure, a lambda, a `functools.partial`, a coroutine object, a method of an
  unregistered object) is refused with `JobNotDistributableError`, never run locally instead.

Arguments are validated and serialized with pydantic against the target's annotations, so a
`TrainRequest` travels as JSON and arrives as a `TrainRequest`; an argument pydantic cannot serialize
is refused at submission, naming the argument.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import TypeAdapter
from ulid import ULID

from chapkit.domain.jobs import JobOutcome, job_name_of
from chapkit.domain.ports.scheduler import InstanceProvider

DISTRIBUTED_ALTERNATIVE = (
    "a distributed scheduler runs jobs in worker processes, which import them by name: submit a function "
    "defined at module level (importable as `package.module:function`), or a method of a manager the "
    "service registers (ML train/predict and task runs are), with arguments pydantic can serialize"
)


class JobNotDistributableError(TypeError):
    """A job that a worker process could not run: its target cannot be named, or an argument cannot travel."""


@dataclass(frozen=True, slots=True)
class JobCall:
    """A job as a worker receives it: the target's name, whether it is a bound method, its arguments as JSON."""

    target: str
    bound: bool
    arguments: dict[str, Any]

    def payload(self) -> dict[str, Any]:
        """The JSON object queued for the worker."""
        return {"target": self.target, "bound": self.bound, "arguments": self.arguments}

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> JobCall:
        """Read a queued JSON object back."""
        return cls(target=str(payload["target"]), bound=bool(payload["bound"]), arguments=dict(payload["arguments"]))


def _describe(target: object) -> str:
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{getattr(target, '__module__', '?')}.{name}"


def _refuse(target: object, why: str) -> JobNotDistributableError:
    return JobNotDistributableError(f"Cannot run {_describe(target)} on a worker: {why}; {DISTRIBUTED_ALTERNATIVE}")


def _import(path: str) -> Any:
    module_name, _, qualname = path.partition(":")
    found: Any = importlib.import_module(module_name)
    for part in qualname.split("."):
        found = getattr(found, part)
    return found


def _registered_class(instance: object, classes: Mapping[type, InstanceProvider]) -> type | None:
    for cls in type(instance).__mro__:
        if cls in classes:
            return cls
    return None


def reference_of(
    target: object, args: tuple[Any, ...], kwargs: dict[str, Any], instances: Mapping[type, InstanceProvider]
) -> JobCall:
    """Name `target` and serialize its arguments; raise `JobNotDistributableError` when a worker could not run it."""
    if inspect.isawaitable(target):
        raise _refuse(target, "an awaitable object cannot be sent to another process (pass its function and arguments)")
    if inspect.ismethod(target):
        owner = _registered_class(target.__self__, instances)
        if owner is None:
            raise _refuse(
                target,
                f"it is a method of a {type(target.__self__).__name__}, which the service does not provide to workers",
            )
        function: Callable[..., Any] = target.__func__
        name = job_name_of(function) or f"{owner.__module__}:{owner.__qualname__}.{function.__name__}"
        if "<locals>" in name:
            raise _refuse(target, "its class is defined inside a function")
        return JobCall(target=name, bound=True, arguments=_encode(function, target, args, kwargs))
    if not inspect.isfunction(target):
        raise _refuse(target, f"a {type(target).__name__} has no importable name (only functions and methods do)")
    name = f"{target.__module__}:{target.__qualname__}"
    if "<locals>" in target.__qualname__ or "<lambda>" in target.__qualname__:
        raise _refuse(target, "it is defined inside a function (a closure or lambda)")
    if target.__module__ == "__main__":
        raise _refuse(target, "it is defined in the script being run (`__main__`), which a worker cannot import")
    try:
        importable = _import(name) is target
    except (ImportError, AttributeError):
        importable = False
    if not importable:
        raise _refuse(target, f"`{name}` does not import back to it")
    return JobCall(target=name, bound=False, arguments=_encode(target, target, args, kwargs))


def _hints(function: Callable[..., Any]) -> dict[str, Any]:
    try:
        return get_type_hints(function)
    except Exception:  # unresolvable annotations: serialize the values as they are
        return {}


@functools.lru_cache(maxsize=256)
def _codec(function: Callable[..., Any], bound: bool) -> tuple[inspect.Signature, dict[str, TypeAdapter[Any]]]:
    """How calls of `function` travel: its signature (without `self` for a method) and an adapter per parameter.

    Built once per function: submitting a job and running it are hot paths, and pydantic adapters of
    request models cost far more to build than to use.
    """
    signature = inspect.signature(function)
    if bound:
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    hints = _hints(function)
    adapters = {
        name: TypeAdapter(_serialized_as(parameter, hints.get(name, Any)))
        for name, parameter in signature.parameters.items()
    }
    return signature, adapters


def _serialized_as(parameter: inspect.Parameter, annotation: Any) -> Any:
    """The type a parameter's value is serialized as (`*args` a tuple, `**kwargs` a dict of it)."""
    if parameter.kind is inspect.Parameter.VAR_POSITIONAL:
        return tuple[annotation, ...]
    if parameter.kind is inspect.Parameter.VAR_KEYWORD:
        return dict[str, annotation]
    return annotation


def _encode(function: Callable[..., Any], target: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    signature, adapters = _codec(function, function is not target)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError as exc:
        raise TypeError(f"{_describe(target)}() cannot take these arguments: {exc}") from exc
    encoded: dict[str, Any] = {}
    for name, value in bound.arguments.items():
        try:
            encoded[name] = adapters[name].dump_python(value, mode="json")
        except Exception as exc:
            raise _refuse(target, f"argument `{name}` ({type(value).__name__}) cannot be serialized: {exc}") from exc
    return encoded


@asynccontextmanager
async def resolved(
    call: JobCall, instances: Mapping[type, InstanceProvider]
) -> AsyncIterator[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]]:
    """Import the call's target (on a provided object, for a bound method) and validate its arguments back."""
    if call.bound:
        cls, method = _bound_target(call.target, instances)
        provider = instances.get(cls)
        if provider is None:
            raise LookupError(f"This worker's service provides no {cls.__qualname__} to run {call.target}")
        async with provider() as instance:
            function = getattr(instance, method)
            yield function, *_decode(function, call.arguments)
        return
    function = _import(call.target)
    yield function, *_decode(function, call.arguments)


def _bound_target(target: str, instances: Mapping[type, InstanceProvider]) -> tuple[type, str]:
    """The provided class and method a bound job names: a `job_name`, or (queued earlier) `module:Class.method`."""
    if ":" not in target:
        for cls in instances:
            for owner in cls.__mro__:
                for attribute, member in vars(owner).items():
                    if job_name_of(member) == target:
                        return cls, attribute
        raise LookupError(
            f"This worker's service has no job named {target!r} (was it queued by another version of the service?)"
        )
    class_path, _, method = target.rpartition(".")
    try:
        cls = _import(class_path)
        getattr(cls, method)
    except (ImportError, AttributeError) as exc:
        raise LookupError(
            f"This worker's service has no job {target} (was it queued by another version of the service?): {exc}"
        ) from exc
    return cls, method


def _decode(target: Any, arguments: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    function = getattr(target, "__func__", target)
    signature, adapters = _codec(function, function is not target)
    values = OrderedDict((name, adapters[name].validate_python(value)) for name, value in arguments.items())
    bound = inspect.BoundArguments(signature, values)
    return bound.args, bound.kwargs


_ANY: TypeAdapter[Any] = TypeAdapter(Any)
_ARTIFACT_ID: TypeAdapter[ULID] = TypeAdapter(ULID)


@functools.lru_cache(maxsize=256)
def _result_adapter(function: Callable[..., Any]) -> TypeAdapter[Any]:
    return TypeAdapter(_hints(function).get("return", Any))


def encode_result(target: Callable[..., Any], result: Any) -> str | None:
    """A job's result as JSON (typed by the target's return annotation), or None when it cannot be serialized.

    A `JobOutcome`'s result is its artifact id: the JSON string of the ULID.
    """
    if isinstance(result, JobOutcome):
        return _ARTIFACT_ID.dump_json(result.artifact_id).decode()
    for adapter in (_result_adapter(getattr(target, "__func__", target)), _ANY):
        try:
            return adapter.dump_json(result).decode()
        except Exception:  # the annotation does not fit the result, or nothing fits: try as it is, then give up
            continue
    return None


__all__ = [
    "DISTRIBUTED_ALTERNATIVE",
    "InstanceProvider",
    "JobCall",
    "JobNotDistributableError",
    "encode_result",
    "reference_of",
    "resolved",
]
