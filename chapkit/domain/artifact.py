"""Artifacts: the `Artifact` entity, hierarchy labels, and the schemas of the artifact API."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, NamedTuple, Protocol, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator
from ulid import ULID

from chapkit.domain.config import BaseConfig, ConfigOut
from chapkit.domain.data_bounds import check_data
from chapkit.domain.dataframes import PandasDataFrame  # kept here too: artifacts pickled before it moved name it here
from chapkit.domain.ids import ULIDOut, ULIDValue
from chapkit.domain.json_safe import JsonSafe
from chapkit.domain.schemas import EntityIn, EntityOut


@dataclass(kw_only=True, eq=False)
class Artifact:
    """A stored object (a trained model, predictions, any picklable value) in a tree of artifacts.

    `level` is the depth in the tree: 0 for a root, parent's level + 1 otherwise. Entities compare by
    identity (`eq=False`), so objects such as DataFrames in `data` are never compared by value.
    """

    data: Any = None
    parent_id: ULID | None = None
    level: int = 0
    id: ULID | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


class ArtifactSnapshot(Protocol):
    """An artifact's stored values, read-only (an `Artifact` is one; SQL tree reads return lighter rows)."""

    @property
    def id(self) -> ULID | None:
        """The artifact's id."""

    @property
    def parent_id(self) -> ULID | None:
        """The parent's id (None for a root)."""

    @property
    def level(self) -> int:
        """Depth in the tree (0 for a root)."""

    @property
    def data(self) -> Any:
        """The stored object."""

    @property
    def created_at(self) -> datetime | None:
        """When the artifact was stored."""

    @property
    def updated_at(self) -> datetime | None:
        """When the artifact was last changed."""


class ArtifactRow(NamedTuple):
    """An artifact as a tree read returns it: plain stored values, its ids as their canonical text.

    What a `$tree` response is written from: JSON carries the ids as text, so a read of thousands of
    nodes makes no ULID object (`stored_ulid(row.id)` makes one where a caller needs it).
    """

    id: str
    parent_id: str | None
    level: int
    data: Any
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, artifact: ArtifactSnapshot) -> ArtifactRow:
        """The row of a stored artifact."""
        parent_id = None if artifact.parent_id is None else str(artifact.parent_id)
        return cls(str(artifact.id), parent_id, artifact.level, artifact.data, artifact.created_at, artifact.updated_at)


class ArtifactHierarchy(BaseModel):
    """Configuration for artifact hierarchy with level labels."""

    name: str = Field(..., description="Human readable name of this hierarchy")
    level_labels: Mapping[int, str] = Field(
        default_factory=dict,
        description="Mapping of numeric levels to labels (0 -> 'train', etc.)",
    )

    model_config = ConfigDict(frozen=True)

    hierarchy_key: ClassVar[str] = "hierarchy"
    depth_key: ClassVar[str] = "level_depth"
    label_key: ClassVar[str] = "level_label"

    def label_for(self, level: int) -> str:
        """Get the label for a given level or return default."""
        return self.level_labels.get(level, f"level_{level}")

    def describe(self, level: int) -> dict[str, Any]:
        """Get hierarchy metadata dict for a given level."""
        return {
            self.hierarchy_key: self.name,
            self.depth_key: level,
            self.label_key: self.label_for(level),
        }


class ArtifactIn(EntityIn):
    """Input schema for creating or updating artifacts."""

    data: Any
    parent_id: ULIDValue | None = None
    level: int | None = None

    @field_validator("level", mode="before")
    @classmethod
    def level_is_not_a_bool(cls, value: Any) -> Any:
        """Refuse `true`/`false`, which pydantic's lax mode would read as a level of 1 or 0."""
        if isinstance(value, bool):
            raise ValueError("level must be an integer, not a boolean")
        return value

    @field_validator("data", mode="before")
    @classmethod
    def bound_data(cls, value: Any) -> Any:
        """Reject nesting deeper than `MAX_DATA_DEPTH` and unencodable text: neither could be returned as JSON."""
        check_data(value, what="Artifact data")
        return value


class ArtifactOut(EntityOut):
    """Output schema for artifact entities."""

    data: JsonSafe
    parent_id: ULIDOut | None = None
    level: int


class ArtifactTreeNode(ArtifactOut):
    """Artifact node with tree structure metadata and optional config."""

    level_label: str | None = None
    hierarchy: str | None = None
    children: list[ArtifactTreeNode] | None = None
    config: ConfigOut[BaseConfig] | None = None

    @classmethod
    def from_artifact(cls, artifact: ArtifactOut) -> Self:
        """Create a tree node from an artifact output schema."""
        return cls.model_validate(artifact.model_dump())


__all__ = [
    "Artifact",
    "ArtifactHierarchy",
    "ArtifactIn",
    "ArtifactOut",
    "ArtifactRow",
    "ArtifactSnapshot",
    "ArtifactTreeNode",
    "PandasDataFrame",
]
