"""Every example directory has a smoke test, a how-to page and a run command in its docstring."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re

import pytest

import tests.examples
from tests.examples.support import EXAMPLES, REPO

NAMES = sorted(path.name for path in EXAMPLES.iterdir() if path.is_dir() and not path.name.startswith(("_", ".")))


def covered_examples() -> set[str]:
    """The examples named by `@covers(...)` on the tests of this package."""
    covered: set[str] = set()
    for module_info in pkgutil.iter_modules(tests.examples.__path__):
        if module_info.name.startswith("test_"):
            module = importlib.import_module(f"tests.examples.{module_info.name}")
            for value in vars(module).values():
                covered.update(getattr(value, "covered_examples", ()))
    return covered


def test_there_are_examples() -> None:
    assert len(NAMES) >= 14


@pytest.mark.parametrize("name", NAMES)
def test_every_example_has_a_smoke_test(name: str) -> None:
    assert name in covered_examples(), f"examples/{name} has no smoke test: mark one with @covers({name!r})"


@pytest.mark.parametrize("name", NAMES)
def test_every_example_has_a_how_to_page(name: str) -> None:
    page = REPO / "docs" / "how-to" / f"{name}.md"
    assert page.is_file(), f"docs/how-to/{name}.md is missing"
    assert f"]({name}.md)" in (REPO / "docs" / "how-to" / "index.md").read_text()
    assert f"`examples/{name}/" in page.read_text()


@pytest.mark.parametrize("name", NAMES)
def test_every_example_is_a_package_with_a_documented_entry(name: str) -> None:
    assert (EXAMPLES / name / "__init__.py").is_file()
    main = EXAMPLES / name / "main.py"
    if name == "notebook":
        main = EXAMPLES / name / "embedding.ipynb"
        assert main.is_file()
        return
    docstring = ast.get_docstring(ast.parse(main.read_text()))
    assert docstring, f"examples/{name}/main.py has no module docstring"
    assert f"examples.{name}.main:app" in docstring or f"examples/{name}/main.py" in docstring


def test_examples_are_listed_in_the_readme() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Examples", 1)[1].split("\n## ", 1)[0]
    for name in NAMES:
        assert f"`{name}`" in section, f"README's Examples table does not list {name}"


def test_docs_links_stay_inside_docs() -> None:
    """Relative links of the how-to pages point at pages that exist (the site builds in strict mode)."""
    how_to = REPO / "docs" / "how-to"
    for page in how_to.glob("*.md"):
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).resolve().is_file(), f"{page.name} links to missing {target}"
            assert (page.parent / target).resolve().is_relative_to(REPO / "docs"), f"{page.name}: {target}"
