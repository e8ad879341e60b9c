"""Code blocks of the repository's Markdown (README, docs/): the tests that run them read them from here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[2]
# ```python title="name.py"  (the title, a Material for MkDocs option, names the file a block is saved as)
_FENCE = re.compile(r'^```(\w+)(?:[ \t]+title="([^"]+)")?[ \t]*\n(.*?)^```', re.S | re.M)


class CodeBlock(NamedTuple):
    """One fenced block: its language, its title (a file name, or None) and its text."""

    language: str
    title: str | None
    code: str


def code_blocks(path: Path, language: str | None = None) -> list[CodeBlock]:
    """Every fenced code block of `path` in order (only those in `language` when given)."""
    blocks = [CodeBlock(lang, title or None, code) for lang, title, code in _FENCE.findall(path.read_text())]
    return [block for block in blocks if language is None or block.language == language]
