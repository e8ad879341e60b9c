"""CommandTemplate: a substituted value is exactly one piece of text to /bin/sh wherever its placeholder stands."""

from __future__ import annotations

import subprocess

import pytest

from chapkit.adapters.runners.shell_template import CommandTemplate

ALLOWED = frozenset({"v", "w"})

TEMPLATES = [
    "printf '[%s]\\n' {v}",
    "printf '[%s]\\n' \"{v}\"",
    "printf '[%s]\\n' '{v}'",
    "printf '[%s]\\n' x{v}y \"a{v}b\" 'c{v}d'",
    "printf '[%s]\\n' \"$(printf '%s' {v})\"",
    "printf '[%s]\\n' \"$(printf '%s' \"{v}\")\"",
    'printf \'[%s]\\n\' "$(printf %s "$(printf %s {v})")"',
    "printf '[%s]\\n' \"$( (printf %s {v}) )\" {v}",
    "printf '[%s]\\n' {v} # a comment with {v}, and it's fine",
    "printf '[%s]\\n' \"{v}\"'{v}'{v}",
    "v={v}; printf '[%s]\\n' \"$v\"",
    "printf '[%s]\\n' a\\ {v}",
    "printf '[%s]\\n' {{literal}} {v}",
    "printf %s $(printf a)#{v}; printf '[%s]\\n' {v}",
    "printf '[%s]\\n' \"`printf %s it`\" {v}",
    "printf '[%s]\\n' {v} \\\n {v}",
]

VALUES = [
    "a b",
    "it's",
    'say "hi"',
    "$HOME",
    "`id`",
    "back\\slash",
    "new\nline",
    "*",
    "-n",
    "tab\there",
    "$(echo x)",
    "#hash",
    "a'b\"c$d`e\\f",
    "}{",
    "'",
    '"',
    "\\",
    "; echo injected",
]


def sh(text: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", "-c", text], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("template", TEMPLATES)
def test_any_value_behaves_as_a_plain_word_would(template: str) -> None:
    parsed = CommandTemplate(template, ALLOWED, "template")
    plain = sh(parsed.render({"v": "PLAIN"}))
    assert plain.returncode == 0 and plain.stderr == "" and "PLAIN" in plain.stdout
    for value in VALUES:
        run = sh(parsed.render({"v": value}))
        assert (run.stdout, run.returncode) == (plain.stdout.replace("PLAIN", value), 0), (value, run.stderr)


def test_an_empty_value_is_nothing_outside_quotes_and_empty_inside() -> None:
    parsed = CommandTemplate("printf '[%s]' {v} x{v}y \"{v}\" '{v}'", ALLOWED, "template")
    assert sh(parsed.render({"v": ""})).stdout == "[xy][][]"


def test_plain_paths_are_substituted_as_they_are() -> None:
    parsed = CommandTemplate('run {v} --out={w} "{v}"', ALLOWED, "template")
    assert parsed.render({"v": "/tmp/a/data.csv", "w": "/tmp/a/model.pickle"}) == (
        'run /tmp/a/data.csv --out=/tmp/a/model.pickle "/tmp/a/data.csv"'
    )
    assert parsed.placeholders == {"v", "w"} and parsed.text == 'run {v} --out={w} "{v}"'


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("run {x}", r"unknown placeholder \{x\}; known: \{v\}, \{w\}"),
        ("run {v!r}", "no conversion or format spec"),
        ("run {v:>3}", "no conversion or format spec"),
        ("run {", "malformed placeholder"),
        ("run '{v}", "unclosed single quote"),
        ('run "{v}', "unclosed double quote"),
        ("run $(cat {v}", "unclosed command substitution"),
        ("run `cat x", "unclosed backquote"),
        ("run `cat {v}`", "inside backquotes"),
        ("run \\{v}", "cannot follow a backslash"),
        ('run "\\{v}"', "cannot follow a backslash"),
        ("", "is empty"),
    ],
)
def test_templates_that_cannot_be_quoted_safely_are_refused(template: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CommandTemplate(template, ALLOWED, "template")


def test_quotes_in_comments_and_escapes_do_not_count() -> None:
    for template in ("run {v} # it's", "run \\' {v}", 'run "it\'s" {v}', "run 'say \"x' {v}", "run #{v}'"):
        CommandTemplate(template, ALLOWED, "template")
    with pytest.raises(ValueError, match="unclosed single quote"):
        CommandTemplate("run a#b' {v}", ALLOWED, "template")  # '#' inside a word starts no comment
