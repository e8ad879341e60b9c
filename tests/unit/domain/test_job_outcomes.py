"""What a finished job records: an explicit `JobOutcome`'s artifact, or (a user's own job) a returned ULID."""

from __future__ import annotations

from ulid import ULID

from chapkit.domain.jobs import JobOutcome, job_artifact_id, job_result


def test_an_outcome_names_the_artifact_and_its_result_is_the_artifact_id() -> None:
    artifact = ULID()
    assert job_artifact_id(JobOutcome(artifact_id=artifact)) == artifact
    assert job_result(JobOutcome(artifact_id=artifact)) == artifact


def test_a_ulid_a_user_s_own_job_returns_is_still_its_artifact_id() -> None:
    artifact = ULID()
    assert job_artifact_id(artifact) == artifact and job_result(artifact) == artifact


def test_any_other_result_names_no_artifact_and_is_kept_as_it_is() -> None:
    for other in (None, 42, str(ULID()), {"artifact_id": ULID()}):
        assert job_artifact_id(other) is None and job_result(other) == other
