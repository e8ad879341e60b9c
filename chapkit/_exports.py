"""Lazy public names: a facade lists its imports under `if TYPE_CHECKING:`; each name loads on first use.

`import chapkit` then costs almost nothing until a name is used, so the `chapkit` command starts
without pandas, SQLAlchemy or FastAPI. The facade's `TYPE_CHECKING` block stays the one list of where
each name lives: type checkers and readers see plain imports, and `lazy_exports` reads the same
statements (with `ast`, once, on the first lookup) to import a name's module when it is asked for.
`from module import *` there means: the names in that module's `__all__`.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def declared_imports(source: str) -> tuple[dict[str, tuple[str, str]], list[str]]:
    """The names a facade's `if TYPE_CHECKING:` block imports (name -> (module, attribute)), and its star modules."""
    names: dict[str, tuple[str, str]] = {}
    stars: list[str] = []
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.If) and _is_type_checking(node.test)):
            continue
        for statement in node.body:
            if not isinstance(statement, ast.ImportFrom) or statement.module is None:
                continue
            for alias in statement.names:
                if alias.name == "*":
                    stars.append(statement.module)
                else:
                    names[alias.asname or alias.name] = (statement.module, alias.name)
    return names, stars


def lazy_exports(module_name: str, file: str) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The module-level `__getattr__` and `__dir__` of the facade `module_name` defined in `file`."""
    module = importlib.import_module(module_name)
    declared: tuple[dict[str, tuple[str, str]], list[str]] | None = None

    def imports() -> tuple[dict[str, tuple[str, str]], list[str]]:
        nonlocal declared
        if declared is None:  # read once, on the first lookup
            declared = declared_imports(Path(file).read_text(encoding="utf-8"))
        return declared

    def locate(name: str) -> tuple[str, str] | None:
        table, stars = imports()
        if name in table:
            return table[name]
        for star in stars:
            if name in getattr(importlib.import_module(star), "__all__", ()):
                return star, name
        return None

    def __getattr__(name: str) -> Any:
        where = locate(name)
        if where is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(where[0]), where[1])
        setattr(module, name, value)  # later lookups are plain attribute reads
        return value

    def __dir__() -> list[str]:
        table, stars = imports()
        starred = [name for star in stars for name in getattr(importlib.import_module(star), "__all__", ())]
        return sorted({*vars(module), *table, *starred})

    return __getattr__, __dir__


__all__ = ["declared_imports", "lazy_exports"]
