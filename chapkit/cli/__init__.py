"""The `chapkit` command: serve, check and talk to model services, create projects, migrate databases."""

from chapkit.cli.app import app, main

__all__ = ["app", "main"]
