"""In-memory storage: a real adapter with the same observable behaviour as SQL (staged writes, copies)."""

from chapkit.adapters.memory.database import InMemoryDatabase, InMemorySession
from chapkit.adapters.memory.job_store import InMemoryJobRecordStore
from chapkit.adapters.memory.repository import InMemoryRepository

__all__ = ["InMemoryDatabase", "InMemoryJobRecordStore", "InMemoryRepository", "InMemorySession"]
