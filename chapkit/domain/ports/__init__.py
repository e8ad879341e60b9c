"""Ports: the interfaces the application needs and the adapters implement."""

from chapkit.domain.ports.datastore import Datastore
from chapkit.domain.ports.repository import Repository

__all__ = ["Datastore", "Repository"]
