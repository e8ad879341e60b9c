"""`chapkit db upgrade|current` on an SQLite file and on PostgreSQL.

`current` exits 0 when the schema is up to date, 1 when it is missing or behind, 2 on an error, and
never creates a database; both take the URLs `serve` takes (plain `sqlite://`, `postgresql://`).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path

import pytest

from chapkit.adapters.sql.database import async_engine
from chapkit.adapters.sql.migrations.runner import downgrade_to
from chapkit.cli import app
from tests.cli.support import chapkit, runner
from tests.conftest import fresh_postgres_database


def _upgrade_then_current(url: str) -> None:
    before = chapkit("db", "current", "--database", url, "--json")
    assert before.exit_code == 1, before.output  # no schema yet
    state = json.loads(before.stdout)
    assert state["current"] is None and state["head"] and not state["up_to_date"]
    upgraded = chapkit("db", "upgrade", "--database", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded to: {state['head']} (up to date)" in upgraded.stdout
    after = chapkit("db", "current", "--database", url, "--json")
    assert after.exit_code == 0, after.output
    assert json.loads(after.stdout) == {"current": state["head"], "head": state["head"], "up_to_date": True}
    again = chapkit("db", "upgrade", "--database", url)  # idempotent
    assert again.exit_code == 0 and "up to date" in again.stdout


def test_upgrade_and_current_on_an_sqlite_file(tmp_path: Path) -> None:
    sqlite3.connect(tmp_path / "service.db").close()  # an empty database: no chapkit schema
    _upgrade_then_current(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")


def test_current_on_a_missing_sqlite_file_is_an_error_and_creates_nothing(tmp_path: Path) -> None:
    result = chapkit("db", "current", "--database", f"sqlite:///{tmp_path / 'missing.db'}")
    assert result.exit_code == 2, result.output
    assert "missing.db" in result.stderr and "chapkit db upgrade" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_db_takes_the_plain_urls_serve_takes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    upgraded = chapkit("db", "upgrade", "--database", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert (tmp_path / "plain.db").is_file()
    current = chapkit("db", "current", "--database", url)
    assert current.exit_code == 0, current.output
    assert "(up to date)" in current.stdout


def test_current_exits_1_when_the_schema_is_behind(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    assert chapkit("db", "upgrade", "--database", url).exit_code == 0

    async def downgrade() -> None:
        engine = async_engine(url)
        try:
            await downgrade_to(engine, url, "0001")
        finally:
            await engine.dispose()

    asyncio.run(downgrade())
    result = chapkit("db", "current", "--database", url)
    assert result.exit_code == 1, result.output
    assert "current: 0001, behind" in result.stdout and "chapkit db upgrade" in result.stdout
    assert chapkit("db", "upgrade", "--database", url).exit_code == 0
    assert chapkit("db", "current", "--database", url).exit_code == 0


@pytest.mark.postgres
def test_upgrade_and_current_on_postgres() -> None:
    with fresh_postgres_database() as url:
        _upgrade_then_current(url)


@pytest.mark.postgres
def test_a_plain_postgresql_url_gets_the_async_driver() -> None:
    with fresh_postgres_database() as url:
        plain = url.replace("postgresql+asyncpg://", "postgresql://", 1)
        result = chapkit("db", "current", "--database", plain)
        assert result.exit_code == 1, result.output
        assert "no chapkit schema" in result.stdout


def test_a_missing_driver_names_the_extra_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "asyncpg", None)  # as if chapkit[postgres] were not installed
    result = chapkit("db", "current", "--database", "postgresql://user:secret@127.0.0.1:1/service")
    assert result.exit_code == 2, result.output
    assert "pip install 'chapkit[postgres]'" in result.stderr
    assert "secret" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_the_database_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'env.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--json"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["up_to_date"] is True


def test_a_bad_url_is_one_clear_line() -> None:
    result = chapkit("db", "current", "--database", "nosuch://nowhere")
    assert result.exit_code == 2 and "cannot read nosuch://nowhere" in result.stderr
    assert "Traceback" not in result.output


def test_an_unreachable_database_is_an_error_not_a_missing_schema() -> None:
    result = chapkit("db", "current", "--database", "postgresql://nobody@127.0.0.1:1/nothing")
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_db_needs_a_database() -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"DATABASE_URL": "", "CHAPKIT_DATABASE_URL": ""})
    assert result.exit_code == 2
