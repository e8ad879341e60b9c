"""`chapkit mlproject run DIR` and `chapkit mlproject migrate DIR`: existing CHAP models, served as they are.

`run` serves a directory with an MLproject file as a chapkit service (`chapkit.mlproject`); `migrate`
writes a chapkit project around it in place: a service module, its test, pyproject.toml, Dockerfile
and .dockerignore, never replacing a file that exists. An MLproject that cannot be served is one
`error:` line and exit code 2. The service stack is imported only inside the commands.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from chapkit.cli.client import console, errors, fail
from chapkit.cli.groups import Group
from chapkit.cli.serve import Host, LogLevel, run_target, use_registration

if TYPE_CHECKING:
    from chapkit.mlproject import MLProject

mlproject = typer.Typer(
    cls=Group,
    help="Serve or adopt an existing CHAP model: a directory with an MLproject file.",
    no_args_is_help=True,
)


class ConfigFormatChoice(StrEnum):
    """The layouts of the config.yml a model reads."""

    chap_core = "chap_core"
    flat = "flat"


ModelPath = Annotated[
    Path,
    typer.Argument(metavar="[PATH]", help="The model directory, or its MLproject file (default: here)."),
]


def database_url(value: str | None) -> str | None:
    """A database URL as given, or the SQLite URL of a file path (resolved here)."""
    if value is None or "://" in value:
        return value
    return f"sqlite+aiosqlite:///{Path(value).expanduser().resolve()}"


def _load(path: Path) -> MLProject:
    """The MLproject at `path`, or exit 2 with one line saying what is wrong."""
    from chapkit.mlproject import MLProjectError, load_mlproject

    try:
        return load_mlproject(path)
    except MLProjectError as error:
        raise fail(str(error), 2) from None


def _files_command(command: str) -> str:
    """An entry point's command with its parameters as the workspace files they name."""
    from chapkit.mlproject import PARAMETER_FILES

    return command.format(**PARAMETER_FILES)


@mlproject.command("run")
def run(
    path: ModelPath = Path("."),
    host: Host = None,
    port: Annotated[int, typer.Option("--port", envvar="PORT", min=1, max=65535, help="Port to listen on.")] = 9090,
    register_url: Annotated[
        str | None,
        typer.Option(
            "--register-url",
            metavar="URL",
            help=(
                "Register with a CHAP orchestrator at this register URL, e.g. http://chap:8000/v2/services/$register "
                "(sets SERVICEKIT_ORCHESTRATOR_URL)."
            ),
        ),
    ] = None,
    config_format: Annotated[
        ConfigFormatChoice | None,
        typer.Option(
            "--config-format",
            case_sensitive=False,
            help=(
                "Layout of the config.yml the commands read: chap_core (options under user_option_values) or flat "
                "(default: the MLproject's meta_data.config_format, else chap_core)."
            ),
        ),
    ] = None,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="CHAPKIT_DATABASE_URL",
            help="Database URL, or an SQLite file path, to keep configs and models (default: in memory).",
        ),
    ] = None,
    log_level: LogLevel = None,
) -> None:
    """Serve a model directory with an MLproject file as a chapkit service (commands run in copies of it)."""
    project = _load(path)
    from chapkit.mlproject import MLProjectError, config_format_of, mlproject_builder, resolve_environment, service_info

    use_registration(register_url)
    try:
        chosen = config_format_of(project, config_format.value if config_format is not None else None)
        environment = resolve_environment(project)
        info = service_info(project)
        app = mlproject_builder(project, config_format=chosen, database_url=database_url(database) or _MEMORY).build()
    except MLProjectError as error:
        raise fail(str(error), 2) from None
    _say(f"Serving the MLproject {project.name} ({project.file}) as {info.id}")
    _say(f"  train:   {_files_command(project.train.command)}")
    _say(f"  predict: {_files_command(project.predict.command)}")
    _say(f"  config.yml layout: {chosen}")
    if project.adapters:
        pairs = ", ".join(f"{column} <- {source}" for column, source in project.adapters.items())
        _say(f"  adapters: {pairs}")
    for note in environment.notes:
        _say(f"  note: {note}")
    if project.ignored:
        _say(f"  note: not used: {', '.join(project.ignored)}")
    for problem in environment.problems:
        errors.print(f"warning: {problem}", highlight=False, soft_wrap=True)
    run_target(app, host=host, port=port, log_level=log_level)


_MEMORY = "sqlite+aiosqlite:///:memory:"


@mlproject.command("migrate")
def migrate(path: ModelPath = Path(".")) -> None:
    """Write a chapkit project around an MLproject directory, in place; files that exist are kept.

    The project installs the chapkit that wrote it, shipped as a wheel in its wheels/ directory.
    """
    project = _load(path)
    from chapkit.cli import project_packaging as packaging
    from chapkit.cli.init import R_PACKAGES
    from chapkit.cli.mlproject_files import MODULE, migration_files
    from chapkit.mlproject import MLProjectError, config_schema, service_info

    try:
        config_schema(project)  # refuse, before writing anything, an MLproject that would not serve
        info = service_info(project)
        packaging.running_chapkit_wheel()
    except MLProjectError as error:
        raise fail(str(error), 2) from None
    except packaging.NotInstalledError as error:
        raise fail(str(error), 1) from None
    package = info.id.replace("-", "_")
    commands = [project.train.command, project.predict.command]
    apt = R_PACKAGES if "renv_env" in project.environments or any("Rscript" in text for text in commands) else []
    serve = ["chapkit", "serve", f"{MODULE}:create_app", "--factory"]
    files = {
        **migration_files(project.name, package, commands),
        **packaging.packaging_files(info.id, package, serve, apt_packages=apt),
    }
    notes = []
    if (project.directory / "pyproject.toml").exists():
        # setup.py would give the existing project's build chapkit as a second set of dependencies.
        del files["setup.py"]
        notes.append("setup.py not written: pyproject.toml exists; add chapkit to its dependencies")
    written, kept = _write_new(project.directory, files)
    wheels = project.directory / packaging.WHEELS
    if any(wheels.glob("chapkit-*.whl")):
        kept.append(f"{packaging.WHEELS}/ (it has a chapkit wheel)")
    else:
        written.append(packaging.write_chapkit_wheel(project.directory).relative_to(project.directory).as_posix())
    for name in written:
        _say(f"wrote {name}")
    for name in kept:
        _say(f"kept {name} (it exists; not overwritten)")
    for note in notes:
        _say(note)
    if not written:
        _say(f"Nothing written: {project.directory} has every file already.")
        return
    _say(f"Next: cd {project.directory} && pip install -e '.[dev]' && python -m pytest")
    _say(f"  chapkit serve {MODULE}:create_app --factory")


def _say(text: str) -> None:
    console.print(text, highlight=False, soft_wrap=True)


def _write_new(directory: Path, files: dict[str, str]) -> tuple[list[str], list[str]]:
    """Write the files that do not exist yet (never replacing one); return the written and the kept paths."""
    written, kept = [], []
    for name, text in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with target.open("x", encoding="utf-8") as stream:  # "x": fails rather than replace a file
                stream.write(text)
        except FileExistsError:
            kept.append(name)
            continue
        written.append(name)
    return written, kept


__all__ = ["ConfigFormatChoice", "database_url", "migrate", "mlproject", "run"]
