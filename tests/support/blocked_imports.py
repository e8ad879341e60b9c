"""Run the `chapkit` command as if an optional package were not installed (a missing extra)."""

from __future__ import annotations

_SCRIPT = """
import sys
from importlib.abc import MetaPathFinder


class Block(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == {module!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None


sys.meta_path.insert(0, Block())
from chapkit.cli import main

main(sys.argv[1:])
"""


def chapkit_without(module: str) -> str:
    """A `python -c` script: `chapkit ARGS` with `module` (and its submodules) impossible to import."""
    return _SCRIPT.format(module=module)


__all__ = ["chapkit_without"]
