"""The command groups' class: Typer's group, with flags that do not load pydantic when they are not given."""

from __future__ import annotations

from typing import Any

from typer.core import TyperGroup


class Group(TyperGroup):
    """A Typer group whose own flags (`--help`, `--install-completion`, ...) default to False, not None.

    Typer checks each option's value through pydantic unless it is already a bool, so a group's absent
    flags (None) loaded pydantic on the way to every subcommand: about a quarter of the CPU of
    `chapkit configs --help` (bench/cli_startup.py). False is what an absent flag means anyway.
    """

    def get_params(self, ctx: Any) -> list[Any]:
        """The group's parameters, its boolean flags defaulting to False."""
        params: list[Any] = super().get_params(ctx)
        for param in params:
            descriptor = getattr(param, "type_descriptor", None)
            if getattr(descriptor, "annotation", None) is bool and param.default is None:
                param.default = False
        return params


__all__ = ["Group"]
