"""In-memory storage: a real adapter with the same observable behaviour as SQL (staged writes, copies)."""

from chapkit.adapters.memory.artifact_store import InMemoryArtifactStore
from chapkit.adapters.memory.config_store import InMemoryConfigStore
from chapkit.adapters.memory.datastore import InMemoryDatastore
from chapkit.adapters.memory.job_store import InMemoryJobRecordStore
from chapkit.adapters.memory.repository import InMemoryRepository
from chapkit.adapters.memory.session import InMemorySession
from chapkit.adapters.memory.task_store import InMemoryTaskStore
from chapkit.adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = [
    "InMemoryArtifactStore",
    "InMemoryConfigStore",
    "InMemoryDatastore",
    "InMemoryJobRecordStore",
    "InMemoryRepository",
    "InMemorySession",
    "InMemoryTaskStore",
    "InMemoryUnitOfWork",
]
