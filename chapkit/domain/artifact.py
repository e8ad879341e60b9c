"""Artifacts: the `Artifact` entity, hierarchy labels, and the schemas of the artifact API."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol, Self, cast

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from ulid import ULID

from chapkit.domain.config import BaseConfig, ConfigOut
from chapkit.domain.data_bounds import check_data
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


class PandasDataFrame(BaseModel):
    """Pydantic schema for serializing pandas DataFrames.

    `data` holds one list per row, each with one value per column (a row of another length is refused,
    as are repeated column names). Missing values (NaN, None, NaT) and infinities become `null`, which
    JSON can carry; `to_dataframe()` reads `null` in a numeric column back as NaN.
    """

    columns: list[str] = Field(json_schema_extra={"uniqueItems": True})
    data: list[list[Any]]

    @model_validator(mode="after")
    def rows_fit_columns(self) -> Self:
        """Refuse rows whose length differs from the number of columns, and repeated column names."""
        width = len(self.columns)
        for index, row in enumerate(self.data):
            if len(row) != width:
                raise ValueError(f"row {index} has {len(row)} values for {width} columns")
        if len(set(self.columns)) != width:
            repeated = sorted({name for name in self.columns if self.columns.count(name) > 1})
            raise ValueError(f"column names must be unique (repeated: {', '.join(repeated)})")
        return self

    @classmethod
    def from_dataframe(cls, df: pd.DataFrame) -> Self:
        """Create schema from pandas DataFrame (missing values and infinities as None)."""
        if not isinstance(df, pd.DataFrame):
            raise TypeError(f"Expected a pandas DataFrame, but got {type(df)}")
        if df.columns.has_duplicates:
            raise ValueError("column names must be unique to be carried as a PandasDataFrame")
        numeric = df.select_dtypes(include="number")
        if not numeric.empty:
            df = df.copy()
            df[numeric.columns] = numeric.mask(numeric.isin([math.inf, -math.inf]))
        rows = df.to_numpy(dtype=object, na_value=None).tolist()  # type: ignore[arg-type]
        # Built without validation: the rows fit the columns by construction (a frame of 100,000 rows).
        return cast("Self", cls.model_construct(columns=[str(name) for name in df.columns], data=rows))

    def to_dataframe(self) -> pd.DataFrame:
        """Convert schema back to pandas DataFrame."""
        return pd.DataFrame(self.data, columns=self.columns)


__all__ = [
    "Artifact",
    "ArtifactHierarchy",
    "ArtifactIn",
    "ArtifactOut",
    "ArtifactSnapshot",
    "ArtifactTreeNode",
    "PandasDataFrame",
]
