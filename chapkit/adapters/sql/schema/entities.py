"""chapkit's config, artifact and task tables, and the imperative mapping of the domain entities onto them.

The domain classes (`Config`, `Artifact`, `ConfigArtifact`, `Task`) are plain dataclasses; mapping them here
lets users' SQL use them directly (`select(func.count()).select_from(Config)`) and lets
`BaseRepository(session, Config)` work unchanged. Importing this module defines the tables only;
`map_entities()` maps the classes, once, when the SQL adapter starts (`Database()`), so a process that
only runs `memory://` never instruments them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    PickleType,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    true,
)
from sqlalchemy import inspect as sa_inspect
from ulid import ULID

from chapkit.adapters.sql.schema.base import Base
from chapkit.adapters.sql.schema.defaults import fill_defaults_before_insert, same_as_created_at, utc_now
from chapkit.adapters.sql.types import ULIDType, UTCDateTime
from chapkit.domain.artifact import Artifact
from chapkit.domain.config import Config, ConfigArtifact
from chapkit.domain.task import Task

CHAPKIT_OWNED = {"owner": "chapkit"}
PICKLE_PROTOCOL = 4


def _same_object(left: Any, right: Any) -> bool:
    """Change detection for pickled data: by identity, since `==` on e.g. DataFrames is not a bool."""
    return left is right


def _timestamps() -> list[Column[Any]]:
    """`created_at` / `updated_at` with the same defaults as `Entity`."""
    return [
        Column("created_at", UTCDateTime, nullable=False, default=utc_now, server_default=func.now()),
        Column(
            "updated_at",
            UTCDateTime,
            nullable=False,
            default=same_as_created_at,
            onupdate=utc_now,
            server_default=func.now(),
        ),
    ]


def _table(name: str, *items: Any) -> Table:
    """Return the table `name`, defining it in `Base.metadata` on first use (re-imports reuse it)."""
    existing = Base.metadata.tables.get(name)
    if existing is not None:
        return existing
    return Table(name, Base.metadata, *items, info=dict(CHAPKIT_OWNED))


configs_table = _table(
    "configs",
    Column("id", ULIDType, primary_key=True, default=ULID),
    Column("name", String, nullable=False),
    Column("data", JSON, nullable=False),
    *_timestamps(),
    Index("ix_configs_name", "name"),
)

artifacts_table = _table(
    "artifacts",
    Column("id", ULIDType, primary_key=True, default=ULID),
    # D17: deleting an artifact deletes its subtree (the repositories also do it explicitly, so the
    # session stays consistent; the database rule is the safety net for raw SQL).
    Column("parent_id", ULIDType, ForeignKey("artifacts.id", ondelete="CASCADE"), nullable=True),
    # Nullable so that `None` is stored as itself on every adapter (the ORM writes None as NULL).
    Column("data", PickleType(protocol=PICKLE_PROTOCOL, comparator=_same_object), nullable=True),
    Column("level", Integer, nullable=False, default=0),
    *_timestamps(),
    Index("ix_artifacts_parent_id", "parent_id"),
    Index("ix_artifacts_level", "level"),
)

config_artifacts_table = _table(
    "config_artifacts",
    Column("config_id", ULIDType, ForeignKey("configs.id", ondelete="CASCADE"), primary_key=True),
    Column("artifact_id", ULIDType, ForeignKey("artifacts.id", ondelete="CASCADE"), primary_key=True),
    UniqueConstraint("artifact_id", name="uq_config_artifacts_artifact_id"),
)

tasks_table = _table(
    "tasks",
    Column("id", ULIDType, primary_key=True, default=ULID),
    Column("command", Text, nullable=False),
    Column("task_type", Text, nullable=False, default="shell", server_default="shell"),
    # SQL NULL for "no parameters", not the JSON value null.
    Column("parameters", JSON(none_as_null=True), nullable=True),
    Column("enabled", Boolean, nullable=False, default=True, server_default=true()),
    Column("timeout", Float, nullable=True),
    *_timestamps(),
)


def _map_once(entity: type, table: Table) -> None:
    """Map `entity` onto `table` unless it is mapped already; its new rows get their defaults as `Base`'s do."""
    if sa_inspect(entity, raiseerr=False) is None:
        Base.registry.map_imperatively(entity, table)
        fill_defaults_before_insert(entity)


_mapped = False


def map_entities() -> None:
    """Map chapkit's domain entities onto their tables (idempotent; `Database` and the repositories call it)."""
    global _mapped
    if _mapped:
        return
    _map_once(Config, configs_table)
    _map_once(Artifact, artifacts_table)
    _map_once(ConfigArtifact, config_artifacts_table)
    _map_once(Task, tasks_table)
    _mapped = True


__all__ = [
    "PICKLE_PROTOCOL",
    "map_entities",
    "artifacts_table",
    "config_artifacts_table",
    "configs_table",
    "tasks_table",
]
