"""Ids in schemas: response ids taken as the ULIDs they are, text through python-ulid's own validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from ulid import ULID

from chapkit.domain.ids import stored_ulid
from chapkit.domain.schemas import EntityOut

NOW = datetime(2026, 1, 1, tzinfo=UTC)
TEXT = "01K0000000000000000000000Z"


@pytest.mark.parametrize("given", [ULID.from_str(TEXT), stored_ulid(TEXT)], ids=["ulid", "stored"])
def test_a_response_id_that_is_a_ulid_is_kept_as_it_is(given: ULID) -> None:
    out = EntityOut.model_validate({"id": given, "created_at": NOW, "updated_at": NOW})
    assert out.id is given
    assert out.model_dump_json().startswith(f'{{"id":"{TEXT}"')
    assert out.model_dump()["id"] is given


@pytest.mark.parametrize("given", [TEXT, ULID.from_str(TEXT).bytes, int(ULID.from_str(TEXT))])
def test_other_response_ids_are_read_by_python_ulid(given: object) -> None:
    out = EntityOut.model_validate({"id": given, "created_at": NOW, "updated_at": NOW})
    assert type(out.id) is ULID and str(out.id) == TEXT


@pytest.mark.parametrize("given", ["not-a-ulid", 1.5, None])
def test_a_response_id_that_is_no_ulid_is_a_validation_error(given: object) -> None:
    with pytest.raises(ValidationError):
        EntityOut.model_validate({"id": given, "created_at": NOW, "updated_at": NOW})
