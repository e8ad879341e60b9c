"""chapkit's own tables: which ones exist, and the import that registers them in `Base.metadata`."""

from __future__ import annotations

from chapkit.adapters.sql.models import Base

CHAPKIT_TABLE_MODULES: tuple[str, ...] = ("chapkit.adapters.sql.job_tables", "chapkit.adapters.sql.tables")
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
