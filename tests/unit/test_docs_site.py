"""The documentation site stays whole: every cited decision is defined, every public name has an API page."""

from __future__ import annotations

import re

import chapkit
from tests.support.markdown import ROOT

DOCS = ROOT / "docs"
DEFINED = set(re.findall(r"\{#d(\d+)\}", (DOCS / "decisions.md").read_text()))
CITED_IN = [ROOT / "README.md", ROOT / "pyproject.toml", *DOCS.rglob("*.md"), *(ROOT / "chapkit").rglob("*.py")]
CITED_IN += [*(ROOT / "tests").rglob("*.py"), *(ROOT / "bench").rglob("*.py")]
# ruff's rule codes (D100, D203, ...) are pydocstyle's, not decisions.
RUFF_CODES = re.compile(r"\"D\d{3}\"")


def test_every_cited_decision_is_defined_in_the_decisions_page() -> None:
    cited: dict[str, set[str]] = {}
    for path in CITED_IN:
        text = RUFF_CODES.sub("", path.read_text())
        for number in re.findall(r"(?<![\w#])D(\d{1,2})\b", text):
            cited.setdefault(number, set()).add(str(path.relative_to(ROOT)))
    undefined = {f"D{number}": sorted(paths) for number, paths in cited.items() if number not in DEFINED}
    assert undefined == {}
    assert cited, "no decision is cited: the pattern is wrong"


def test_every_public_name_is_on_exactly_one_api_page() -> None:
    documented: dict[str, list[str]] = {}
    for page in (DOCS / "api").glob("*.md"):
        for name in re.findall(r"^::: chapkit\.(\w+)\s*$", page.read_text(), re.M):
            documented.setdefault(name, []).append(page.name)
    public = {name for name in chapkit.__all__ if not name.startswith("__")}
    assert sorted(public - set(documented)) == []
    assert {name: pages for name, pages in documented.items() if len(pages) > 1} == {}


def test_every_page_in_the_navigation_exists() -> None:
    nav = re.findall(r":\s*([\w/-]+\.md)\s*$", (ROOT / "mkdocs.yml").read_text(), re.M)
    assert nav and [page for page in nav if not (DOCS / page).is_file()] == []
