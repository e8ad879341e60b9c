"""`import chapkit` is cheap (names load on first use), and the `chapkit` command starts without the service stack."""

from __future__ import annotations

import subprocess
import sys

import chapkit
import chapkit.api
from chapkit._exports import declared_imports

HEAVY = ("pandas", "numpy", "sqlalchemy", "fastapi", "starlette", "dependency_injector")


def loaded_after(code: str) -> set[str]:
    """The heavy packages a fresh interpreter has imported after running `code`."""
    probe = f"{code}\nimport sys\nprint('LOADED', *(m for m in {HEAVY!r} if m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    last = result.stdout.strip().splitlines()[-1].split()
    assert last[0] == "LOADED", result.stdout
    return set(last[1:])


def test_importing_chapkit_and_its_facades_loads_no_service_stack() -> None:
    assert loaded_after("import chapkit, chapkit.api") == set()


def test_chapkit_help_loads_neither_pandas_sqlalchemy_nor_fastapi() -> None:
    code = (
        "from typer.main import get_command\n"
        "from chapkit.cli.app import app\n"
        "try:\n"
        "    get_command(app).main(['--help'], prog_name='chapkit', standalone_mode=False)\n"
        "except SystemExit:\n"
        "    pass\n"
    )
    assert loaded_after(code) == set()


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
