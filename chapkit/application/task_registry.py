"""`TaskRegistry`: the Python functions that Python tasks name, global as in the reference or one per service.

The reference's class methods keep working on the class (`@TaskRegistry.register("name")`): they act on
one process-wide default registry. An instance (`TaskRegistry()`) is a registry of its own with the same
methods; give it to `ServiceBuilder.with_tasks(registry=...)` so two services in one process do not see
each other's functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

_P = ParamSpec("_P")
_R = TypeVar("_R")

TaskFunction = Callable[..., Any]


class _ClassOrInstanceMethod(Generic[_P, _R]):
    """A method bound to the instance it is called on, or to the default registry when called on the class."""

    def __init__(self, method: Callable[Concatenate[TaskRegistry, _P], _R]) -> None:
        self.method = method
        self.__doc__ = method.__doc__

    @overload
    def __get__(self, instance: None, owner: type[TaskRegistry]) -> Callable[_P, _R]: ...

    @overload
    def __get__(self, instance: TaskRegistry, owner: type[TaskRegistry] | None = None) -> Callable[_P, _R]: ...

    def __get__(self, instance: TaskRegistry | None, owner: type[TaskRegistry] | None = None) -> Callable[_P, _R]:
        registry = instance if instance is not None else TaskRegistry.default()
        method = self.method

        def bound(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            return method(registry, *args, **kwargs)

        bound.__doc__ = method.__doc__
        bound.__name__ = method.__name__
        return bound


class TaskRegistry:
    """Global registry for Python task functions (or, as an instance, a registry of one's own)."""

    _default: TaskRegistry | None = None

    def __init__(self) -> None:
        """Create an empty registry of its own."""
        self._functions: dict[str, TaskFunction] = {}

    @classmethod
    def default(cls) -> TaskRegistry:
        """The process-wide registry that the class methods (`TaskRegistry.register(...)`) use."""
        if TaskRegistry._default is None:
            TaskRegistry._default = TaskRegistry()
        return TaskRegistry._default

    @_ClassOrInstanceMethod
    def register(self, name: str) -> Callable[[TaskFunction], TaskFunction]:
        """Decorator to register a task function with support for type-based dependency injection."""

        def decorator(func: TaskFunction) -> TaskFunction:
            self._add(name, func)
            return func

        return decorator

    @_ClassOrInstanceMethod
    def register_function(self, name: str, func: TaskFunction) -> None:
        """Imperatively register a task function."""
        self._add(name, func)

    @_ClassOrInstanceMethod
    def get(self, name: str) -> TaskFunction:
        """Retrieve a registered task function; an unknown name raises `KeyError`."""
        try:
            return self._functions[name]
        except KeyError:
            raise KeyError(f"Task '{name}' not found in registry") from None

    @_ClassOrInstanceMethod
    def list_all(self) -> list[str]:
        """List all registered task names, sorted."""
        return sorted(self._functions)

    @_ClassOrInstanceMethod
    def clear(self) -> None:
        """Clear all registered tasks (useful for testing)."""
        self._functions.clear()

    def _add(self, name: str, func: TaskFunction) -> None:
        if name in self._functions:
            raise ValueError(f"Task '{name}' already registered")
        if not callable(func):
            raise TypeError(f"Task '{name}' must be callable, got {type(func).__name__}")
        self._functions[name] = func


__all__ = ["TaskFunction", "TaskRegistry"]
