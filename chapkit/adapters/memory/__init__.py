"""In-memory storage: a real adapter with the same observable behaviour as SQL (staged writes, copies)."""

from chapkit.adapters.memory.artifact_repository import InMemoryArtifactRepository
from chapkit.adapters.memory.config_repository import InMemoryConfigRepository
from chapkit.adapters.memory.database import InMemoryDatabase, InMemorySession
from chapkit.adapters.memory.job_store import InMemoryJobRecordStore
from chapkit.adapters.memory.repository import InMemoryRepository

__all__ = [
    "InMemoryArtifactRepository",
    "InMemoryConfigRepository",
    "InMemoryDatabase",
    "InMemoryJobRecordStore",
    "InMemoryRepository",
    "InMemorySession",
]
