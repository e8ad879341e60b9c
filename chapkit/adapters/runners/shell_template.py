r"""Command templates of `ShellModelRunner`: the reference's placeholders, substituted shell-quoted (D23).

A template is shell text run through `/bin/sh -c`, with placeholders in the reference's syntax:
`{data_file}` and the like, `{{` and `}}` for literal braces. Placeholders are checked when the
template is made (unknown names, format specs and conversions are refused). When it is rendered, each
value is quoted for the place the placeholder stands in, so a value is always exactly one piece of text
to the shell, whatever characters it holds:

- outside quotes, the value is quoted with `shlex.quote` (a plain path stays as it is); an empty value
  becomes nothing at all, as the reference's plain `str.format` left it (an absent `{geo_file}` adds no
  argument);
- inside double quotes, `\`, `"`, `$` and backquote are escaped with a backslash;
- inside single quotes, each `'` becomes `'\''`;
- inside a comment, the value is written on one line.

To know where a placeholder stands, the template's text is read as the shell reads quotes: single and
double quotes, backslash escapes, `$( ... )` command substitutions (each a new quoting level),
backquotes and `#` comments. Here-documents are not followed. Refused: a template whose quotes are not
closed, a placeholder right after a backslash (the backslash would apply to the value), and one inside
backquotes (whose escaping rules depend on where they stand; `$( ... )` does the same job).
"""

from __future__ import annotations

import shlex
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

_Context = Literal["plain", "single", "double", "comment", "substitution", "backquote"]

_WORD_BREAKS = frozenset(" \t\n;&|()<>")
_DOUBLE_QUOTE_SPECIALS = str.maketrans({"\\": "\\\\", '"': '\\"', "$": "\\$", "`": "\\`"})
_UNCLOSED = {
    "single": "single quote (')",
    "double": 'double quote (")',
    "substitution": "command substitution $(",
    "backquote": "backquote (`)",
}


@dataclass(frozen=True)
class _Piece:
    """Literal text followed by an optional placeholder, and the quoting context the placeholder is in."""

    literal: str
    name: str | None
    context: _Context


@dataclass
class _Level:
    """One quoting level: its context and, in a command substitution, the parentheses open inside it."""

    context: _Context
    depth: int = 0


class _QuoteReader:
    """Follows the shell's quoting through the template's literal text, one piece at a time."""

    def __init__(self) -> None:
        self.levels = [_Level("plain")]
        self.escaped = False
        self.word_start = True

    @property
    def context(self) -> _Context:
        """The quoting context at the current position."""
        return self.levels[-1].context

    @property
    def in_backquotes(self) -> bool:
        """Whether a backquoted command substitution encloses the current position."""
        return any(level.context == "backquote" for level in self.levels)

    def read(self, text: str) -> None:
        """Advance over `text`."""
        index = 0
        while index < len(text):
            following = text[index + 1] if index + 1 < len(text) else ""
            index += 1 + self._step(text[index], following)

    def placeholder(self) -> None:
        """A value stands here: it is part of a word."""
        self.word_start = False

    def _step(self, char: str, following: str) -> int:
        """Take one character; return how many following characters it consumed as well."""
        context = self.context
        if context == "single":
            if char == "'":
                self.levels.pop()
            return 0
        if context == "comment":
            if char == "\n":
                self.levels.pop()
                self.word_start = True
            return 0
        if self.escaped:
            self.escaped = self.word_start = False
            return 0
        if char == "\\":
            self.escaped = True
            return 0
        if char == "$" and following == "(":
            self.levels.append(_Level("substitution"))
            self.word_start = True
            return 1
        if char == "`":
            closing = context == "backquote"
            if closing:
                self.levels.pop()
            else:
                self.levels.append(_Level("backquote"))
            self.word_start = not closing
            return 0
        if context == "double":
            if char == '"':
                self.levels.pop()
            return 0
        # plain, substitution, backquote: the shell's own syntax
        at_word_start, self.word_start = self.word_start, char in _WORD_BREAKS
        if char == "'":
            self.levels.append(_Level("single"))
        elif char == '"':
            self.levels.append(_Level("double"))
        elif char == "#" and at_word_start:
            self.levels.append(_Level("comment"))
        elif context == "substitution" and char in "()":
            level = self.levels[-1]
            if char == "(":
                level.depth += 1
            elif level.depth:
                level.depth -= 1
            else:
                self.levels.pop()
                self.word_start = False  # the substitution is part of a word
        return 0


class CommandTemplate:
    """A shell command with placeholders; `render` substitutes shell-quoted values."""

    def __init__(self, text: str, allowed: frozenset[str], what: str) -> None:
        """Parse `text`; `ValueError` names what is wrong (`what` names the template in messages)."""
        if not isinstance(text, str):
            raise TypeError(f"{what} must be a string, got {type(text).__name__}")
        if not text.strip():
            raise ValueError(f"{what} is empty")
        try:
            fields = list(string.Formatter().parse(text))
        except ValueError as error:
            raise ValueError(f"{what} has a malformed placeholder: {error} (write {{{{ and }}}} for braces)") from None
        reader = _QuoteReader()
        pieces: list[_Piece] = []
        for literal, name, spec, conversion in fields:
            reader.read(literal)
            if name is None:
                pieces.append(_Piece(literal, None, reader.context))
                continue
            if name not in allowed:
                names = ", ".join(f"{{{n}}}" for n in sorted(allowed))
                raise ValueError(f"{what} uses an unknown placeholder {{{name}}}; known: {names}")
            if spec or conversion:
                raise ValueError(f"{what}: placeholders take no conversion or format spec ({{{name}}})")
            if reader.escaped:
                raise ValueError(f"{what}: a placeholder cannot follow a backslash ({{{name}}})")
            if reader.in_backquotes:
                raise ValueError(f"{what}: a placeholder cannot stand inside backquotes ({{{name}}}); write $( ... )")
            pieces.append(_Piece(literal, name, reader.context))
            reader.placeholder()
        if reader.context in _UNCLOSED:
            raise ValueError(f"{what} has an unclosed {_UNCLOSED[reader.context]}")
        self.text = text
        self.placeholders = frozenset(piece.name for piece in pieces if piece.name is not None)
        self._pieces = tuple(pieces)

    def render(self, values: Mapping[str, str]) -> str:
        """The shell text with every placeholder replaced by its value, quoted for where it stands."""
        parts: list[str] = []
        for piece in self._pieces:
            parts.append(piece.literal)
            if piece.name is not None:
                parts.append(quote_for(values[piece.name], piece.context))
        return "".join(parts)


def quote_for(value: str, context: _Context) -> str:
    """`value` as one piece of shell text in `context` (see the module's description)."""
    if context == "single":
        return value.replace("'", "'\\''")
    if context == "double":
        return value.translate(_DOUBLE_QUOTE_SPECIALS)
    if context == "comment":
        return " ".join(value.splitlines())
    return shlex.quote(value) if value else ""


__all__ = ["CommandTemplate", "quote_for"]
