"""Ports: the interfaces the application needs and the adapters implement."""

from chapkit.domain.ports.artifact_store import ArtifactStore
from chapkit.domain.ports.command_runner import CommandResult, CommandRunner
from chapkit.domain.ports.config_store import ConfigStore
from chapkit.domain.ports.datastore import Datastore
from chapkit.domain.ports.job_queue import JobQueue
from chapkit.domain.ports.job_store import INTERRUPTED_ERROR, QUEUED_OWNER, JobRecordStore
from chapkit.domain.ports.owner_lock import OwnerLock
from chapkit.domain.ports.repository import Repository
from chapkit.domain.ports.scheduler import JobScheduler, JobTarget
from chapkit.domain.ports.task_store import TaskStore
from chapkit.domain.ports.unit_of_work import JobRecordReader, UnitOfWork

__all__ = [
    "INTERRUPTED_ERROR",
    "QUEUED_OWNER",
    "ArtifactStore",
    "CommandResult",
    "CommandRunner",
    "ConfigStore",
    "Datastore",
    "JobQueue",
    "JobRecordReader",
    "JobRecordStore",
    "JobScheduler",
    "JobTarget",
    "OwnerLock",
    "Repository",
    "TaskStore",
    "UnitOfWork",
]
