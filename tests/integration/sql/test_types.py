"""Column types on SQLite: stored ULIDs parse fast and keep their text; timestamps come back aware in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from ulid import ULID

from chapkit import Artifact, ArtifactRepository, InvalidULIDError, SqliteDatabase
from chapkit.adapters.sql.types import ULIDType, UTCDateTime
from chapkit.domain.ids import stored_ulid


def test_stored_ulids_equal_parsed_ones_and_keep_their_text() -> None:
    for _ in range(200):
        ulid = ULID()
        parsed = stored_ulid(str(ulid))
        assert parsed == ulid and hash(parsed) == hash(ulid) and str(parsed) == str(ulid)
        assert isinstance(parsed, ULID) and parsed.timestamp == ulid.timestamp
        assert stored_ulid(str(ulid).lower()) == ulid  # the general path
    with pytest.raises(ValueError):
        stored_ulid("not a ulid at all, really")


async def test_sqlite_timestamps_round_trip_in_utc(tmp_path: object) -> None:
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path}/types.db")
    await database.init()
    try:
        moment = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone(timedelta(hours=2)))
        async with database.session() as session:
            repo = ArtifactRepository(session)
            saved = await repo.save(Artifact(data=1, created_at=moment, updated_at=moment))
            await repo.commit()
            artifact_id = saved.id
            await session.execute(
                text("INSERT INTO artifacts (id, data, level, created_at, updated_at) VALUES (:i, NULL, 0, :c, :c)"),
                {"i": str(ULID()), "c": "2026-01-02 01:04:05"},
            )
            await session.commit()
        async with database.session() as session:
            found = await ArtifactRepository(session).find_all()
        by_id = {a.id: a for a in found}
        assert by_id[artifact_id].created_at == moment and by_id[artifact_id].created_at.tzinfo == UTC
        [other] = [a for a in found if a.id != artifact_id]
        assert other.created_at == datetime(2026, 1, 2, 1, 4, 5, tzinfo=UTC)
        assert UTCDateTime().process_result_value(None, None) is None
    finally:
        await database.dispose()


def test_binding_a_string_that_is_not_a_ulid_raises_a_value_error() -> None:
    """As the reference's `ULIDType` does: `except ValueError` catches it, and it is still a 400 problem."""
    with pytest.raises(ValueError, match="Invalid ULID"):
        ULIDType().process_bind_param("not-a-ulid", None)
    with pytest.raises(InvalidULIDError):
        ULIDType().process_bind_param("01ARZ3NDEKTSV4RRFFQ69G5FA!", None)
    assert ULIDType().process_bind_param("01arz3ndektsv4rrffq69g5fav", None) == "01ARZ3NDEKTSV4RRFFQ69G5FAV"
