"""`import chapkit` is cheap (names load on first use), and the `chapkit` command starts without the service stack."""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any

import pytest
from typer.main import get_command

import chapkit
import chapkit.api
from chapkit._exports import declared_imports
from chapkit.cli.app import app as cli_app

HEAVY = ("pandas", "numpy", "sqlalchemy", "fastapi", "starlette", "dependency_injector")


def loaded_after(code: str, modules: tuple[str, ...] = HEAVY) -> set[str]:
    """Which of `modules` a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint('LOADED', *(m for m in {modules!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    last = result.stdout.strip().splitlines()[-1].split()
    assert last[0] == "LOADED", result.stdout
    return set(last[1:])


def test_importing_chapkit_and_its_facades_loads_no_service_stack() -> None:
    assert loaded_after("import chapkit, chapkit.api") == set()


def _run_cli(args: list[str]) -> str:
    """Code that runs `chapkit ARGS` as the console script does (output dropped), exiting or not."""
    return (
        "import contextlib, io\n"
        "from chapkit.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
        "    try:\n"
        f"        main({args!r})\n"
        "    except SystemExit:\n"
        "        pass\n"
    )


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        paths += _command_paths(sub, (*prefix, name))
    return paths


COMMAND_PATHS = _command_paths(get_command(cli_app))
# What a `--help` must not load either: Typer checks option values with pydantic (chapkit.cli.groups keeps it
# away from --help), and the HTTP client loads only when a command talks to a service.
HELP_ONLY = ("pydantic", "httpx", "rich.progress", "structlog")


def test_the_cli_has_its_commands() -> None:
    assert {("serve",), ("check",), ("configs", "list"), ("jobs", "watch"), ("db", "current")} <= set(COMMAND_PATHS)


@pytest.mark.parametrize("path", COMMAND_PATHS, ids=lambda path: " ".join(("chapkit", *path, "--help")))
def test_every_help_loads_neither_pandas_sqlalchemy_nor_fastapi(path: tuple[str, ...]) -> None:
    assert loaded_after(_run_cli([*path, "--help"]), HEAVY + HELP_ONLY) == set()


@pytest.mark.parametrize(
    "args",
    [["configs", "list"], ["jobs", "show", "01K00000000000000000000000"], ["artifacts", "show", "X"], ["jobs", "list"]],
    ids=" ".join,
)
def test_client_commands_load_no_service_stack(args: list[str]) -> None:
    with socket.socket() as probe:  # a port nothing listens on: the command fails after its imports
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    assert loaded_after(_run_cli([*args, "--url", url]), HEAVY) == set()


def test_every_public_name_resolves_to_the_module_the_type_checking_block_names() -> None:
    for facade in (chapkit, chapkit.api):
        assert facade.__file__ is not None
        with open(facade.__file__, encoding="utf-8") as source:
            names, _ = declared_imports(source.read())
        for name in facade.__all__:
            value = getattr(facade, name)
            if name in names:
                module, attribute = names[name]
                assert value is getattr(sys.modules[module], attribute), name
        assert set(facade.__all__) <= set(dir(facade))


def test_old_names_still_resolve_and_unknown_names_raise_attribute_error() -> None:
    assert chapkit.InMemoryDatabase is chapkit.InMemoryDatastore
    assert chapkit.ConfigRepositoryPort is chapkit.ConfigStore
    try:
        chapkit.NoSuchName  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as error:
        assert "NoSuchName" in str(error)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


def test_chapkit_re_exports_exactly_the_service_building_names_of_chapkit_api() -> None:
    assert chapkit.__file__ is not None
    with open(chapkit.__file__, encoding="utf-8") as source:
        names, _ = declared_imports(source.read())
    from_api = {name for name, (module, _) in names.items() if module == "chapkit.api"}
    assert from_api == set(chapkit.api.__all__)
