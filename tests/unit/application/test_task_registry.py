"""TaskRegistry: the reference's class methods on the default registry, and registries of one's own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chapkit import TaskRegistry


@pytest.fixture
def default_registry() -> Iterator[None]:
    """Leave the process-wide registry as it was found."""
    saved = {name: TaskRegistry.get(name) for name in TaskRegistry.list_all()}
    TaskRegistry.clear()
    yield
    TaskRegistry.clear()
    for name, func in saved.items():
        TaskRegistry.register_function(name, func)


def test_class_methods_use_the_default_registry(default_registry: None) -> None:
    @TaskRegistry.register("zeta")
    def zeta() -> int:
        return 1

    TaskRegistry.register_function("alpha", len)
    assert TaskRegistry.list_all() == ["alpha", "zeta"]
    assert TaskRegistry.get("zeta") is zeta
    assert TaskRegistry.default().list_all() == ["alpha", "zeta"]
    assert TaskRegistry().list_all() == []
    TaskRegistry.clear()
    assert TaskRegistry.list_all() == []


def test_a_registry_of_ones_own_is_separate(default_registry: None) -> None:
    mine = TaskRegistry()
    mine.register("b")(len)
    mine.register_function("a", abs)
    assert mine.list_all() == ["a", "b"]
    assert mine.get("a") is abs
    assert TaskRegistry.list_all() == []
    mine.clear()
    assert mine.list_all() == []


def test_registering_a_name_twice_is_a_value_error() -> None:
    mine = TaskRegistry()
    mine.register_function("same", len)
    with pytest.raises(ValueError, match="Task 'same' already registered"):
        mine.register_function("same", abs)
    with pytest.raises(ValueError, match="already registered"):
        mine.register("same")(abs)
    assert mine.get("same") is len


def test_unknown_names_and_non_callables() -> None:
    mine = TaskRegistry()
    with pytest.raises(KeyError, match="Task 'missing' not found in registry"):
        mine.get("missing")
    with pytest.raises(TypeError, match="callable"):
        mine.register_function("x", 42)  # type: ignore[arg-type]
