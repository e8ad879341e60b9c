"""The SQL schema in one place, and which of its tables are chapkit's own.

`base` holds `Base` and `Entity`, `entities` the config, artifact and task tables with the mapping of
the domain classes onto them, `jobs` the job records and owners.
"""

from __future__ import annotations

from chapkit.adapters.sql.schema.base import Base

CHAPKIT_TABLE_MODULES: tuple[str, ...] = ("chapkit.adapters.sql.schema.jobs", "chapkit.adapters.sql.schema.entities")
"""Modules that map chapkit's domain entities to tables; importing them registers the tables."""


def load_chapkit_tables() -> None:
    """Import every module that defines a chapkit table (idempotent)."""
    import importlib

    for module in CHAPKIT_TABLE_MODULES:
        importlib.import_module(module)


def chapkit_table_names() -> frozenset[str]:
    """Names of the tables chapkit's migrations own (users' tables are not among them)."""
    load_chapkit_tables()
    return frozenset(name for name, table in Base.metadata.tables.items() if table.info.get("owner") == "chapkit")


__all__ = ["CHAPKIT_TABLE_MODULES", "chapkit_table_names", "load_chapkit_tables"]
