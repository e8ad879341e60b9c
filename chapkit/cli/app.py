"""The `chapkit` Typer application: every command group is attached here."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import typer

from chapkit.cli.check import check
from chapkit.cli.client import fail
from chapkit.cli.db import db
from chapkit.cli.groups import Group
from chapkit.cli.init import init
from chapkit.cli.mlproject import mlproject
from chapkit.cli.resources import artifacts, configs, jobs
from chapkit.cli.serve import demo, serve
from chapkit.cli.worker import worker
from chapkit.domain.extras import MissingExtraError

app = typer.Typer(
    name="chapkit",
    help="Build, run, check and talk to chapkit model services.",
    no_args_is_help=True,
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.command(help="Serve a chapkit app, or the demo model service when no app is given.")(serve)
app.command(help="Serve the demo model service (disease cases from rainfall and temperature).")(demo)
app.command(help="Run the queued jobs of a distributed service (with_jobs(backend='procrastinate')).")(worker)
app.command(
    help=(
        "Validate, train and predict against a running service; exit 1 on any failure. It stops at the first "
        "failing step and deletes the config, jobs, model and predictions it created (--keep keeps them)."
    )
)(check)
app.command(help="Create a ready model-service project.")(init)
app.add_typer(configs, name="configs")
app.add_typer(artifacts, name="artifacts")
app.add_typer(jobs, name="jobs")
app.add_typer(db, name="db")
app.add_typer(mlproject, name="mlproject")


def main(argv: Sequence[str] | None = None, *, default_command: str | None = None) -> None:
    """Run the command line on `argv` (default: the process arguments); `default_command` when there are none.

    A missing optional extra, wherever a command meets it, is one line naming the `pip install` to run
    (exit code 2), not a traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args and default_command is not None:
        args = [default_command]
    try:
        app(args=args, prog_name="chapkit")
    except MissingExtraError as exc:
        raise SystemExit(fail(str(exc), 2).exit_code) from None


__all__ = ["app", "main"]
