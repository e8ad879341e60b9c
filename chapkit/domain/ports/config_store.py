"""The config store port: a repository of configs, their links to root artifacts, and cascading deletes."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

from ulid import ULID

from chapkit.domain.artifact import Artifact
from chapkit.domain.config import Config
from chapkit.domain.ports.repository import Repository


class ConfigStore(Repository[Config, ULID]):
    """Storage of `Config` entities and their links to root artifacts (adapters: SQL, memory).

    Referential rules, the same on every adapter (D10, D17):
    - a link joins a config to a *root* artifact (no parent); an artifact has at most one config;
    - deleting a config (`delete`, `delete_by_id`, `delete_all`, `delete_all_by_id`) also deletes every
      artifact tree linked to it, and the links;
    - deleting an artifact removes its links (see `ArtifactStore`).
    Names are not unique. Like every repository, changes are staged until `commit()`.
    """

    @abstractmethod
    async def find_by_name(self, name: str) -> Config | None:
        """Return the oldest config (smallest id) with this name, or None."""

    @abstractmethod
    async def link_artifact(self, config_id: ULID, artifact_id: ULID) -> None:
        """Stage a link from the config to a root artifact.

        Raises `NotFoundError` when the config does not exist, `ArtifactLinkError` (a `ValueError`, 400)
        when the artifact does not exist or is not a root, and `ConflictError` when the artifact is
        already linked to another config. Linking the same pair again changes nothing.
        """

    @abstractmethod
    async def unlink_artifact(self, artifact_id: ULID) -> None:
        """Stage the removal of the artifact's link, if it has one (no error otherwise)."""

    @abstractmethod
    async def find_by_root_artifact_id(self, artifact_id: ULID) -> Config | None:
        """Return the config linked to this root artifact, or None."""

    @abstractmethod
    async def find_artifacts_for_config(self, config_id: ULID) -> Sequence[Artifact]:
        """Return the root artifacts linked to the config, ordered by id (empty for an unknown config)."""


__all__ = ["ConfigStore"]
