"""Job scheduler adapters: in process (`AIOJobScheduler`) or on a PostgreSQL queue (`ProcrastinateJobScheduler`)."""

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
