"""Jobs by name (D22): what a distributed queue carries for a manager's method, and how a worker finds it again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest

from chapkit.adapters.scheduler.references import JobCall, reference_of, resolved
from chapkit.application.ml_manager import MLManager
from chapkit.application.task_manager import TaskManager
from chapkit.domain.jobs import job_name, job_name_of
from chapkit.domain.ports.scheduler import InstanceProvider


class Greeter:
    """A manager-like object with one named job."""

    def __init__(self, greeting: str = "hello") -> None:
        self.greeting = greeting

    @job_name("tests.greet")
    async def greet(self, name: str) -> str:
        return f"{self.greeting} {name}"


def provided(instance: object) -> InstanceProvider:
    @asynccontextmanager
    async def provide() -> AsyncIterator[object]:
        yield instance

    return provide


async def run(call: JobCall, instances: dict[type, InstanceProvider]) -> object:
    async with resolved(JobCall.from_payload(call.payload()), instances) as (function, args, kwargs):
        return await function(*args, **kwargs)


async def test_a_named_job_travels_by_its_name_and_runs_on_the_workers_object() -> None:
    call = reference_of(Greeter().greet, ("ada",), {}, {Greeter: provided(Greeter())})
    assert call.target == "tests.greet" and call.bound
    # The worker's own object runs it (its state, not the submitter's).
    assert await run(call, {Greeter: provided(Greeter("hi"))}) == "hi ada"


async def test_a_job_queued_under_its_method_path_by_an_earlier_version_still_runs() -> None:
    call = JobCall(target=f"{__name__}:Greeter.greet", bound=True, arguments={"name": "ada"})
    assert await run(call, {Greeter: provided(Greeter())}) == "hello ada"


@pytest.mark.parametrize("target", ["tests.no_such_job", f"{__name__}:Greeter.gone", "no_such_module:Thing.run"])
async def test_a_job_the_worker_does_not_know_fails_with_a_clear_error(target: str) -> None:
    call = JobCall(target=target, bound=True, arguments={})
    with pytest.raises(LookupError, match="queued by another version of the service"):
        await run(call, {Greeter: provided(Greeter())})


def test_chapkits_own_jobs_have_stable_names() -> None:
    assert job_name_of(MLManager._train_task) == "chapkit.ml.train"
    assert job_name_of(MLManager._predict_task) == "chapkit.ml.predict"
    assert job_name_of(TaskManager._execute_python) == "chapkit.tasks.python"
    assert job_name_of(TaskManager._execute_command) == "chapkit.tasks.shell"
    assert job_name_of(Greeter.greet) == "tests.greet" and job_name_of(print) is None
