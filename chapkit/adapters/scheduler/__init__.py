"""Job scheduler adapters: `AIOJobScheduler` runs jobs as asyncio tasks in this process,
`ProcrastinateJobScheduler` on a PostgreSQL queue served by worker processes (D22)."""

from chapkit.adapters.scheduler.aio import AIOJobScheduler
from chapkit.adapters.scheduler.distributed import ProcrastinateJobScheduler
from chapkit.adapters.scheduler.execution import describe_failure
from chapkit.adapters.scheduler.owners import new_owner_id
from chapkit.adapters.scheduler.references import JobNotDistributableError
from chapkit.adapters.scheduler.retention import ResultCache

__all__ = [
    "AIOJobScheduler",
    "JobNotDistributableError",
    "ProcrastinateJobScheduler",
    "ResultCache",
    "describe_failure",
    "new_owner_id",
]
