"""`chapkit db upgrade|current` on an SQLite file and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chapkit.cli import app
from tests.cli.support import chapkit, runner
from tests.conftest import fresh_postgres_database


def _upgrade_then_current(url: str) -> None:
    before = chapkit("db", "current", "--database", url, "--json")
    assert before.exit_code == 0, before.output
    state = json.loads(before.stdout)
    assert state["current"] is None and state["head"] and not state["up_to_date"]
    upgraded = chapkit("db", "upgrade", "--database", url)
    assert upgraded.exit_code == 0, upgraded.output
    assert f"upgraded to: {state['head']} (up to date)" in upgraded.stdout
    after = json.loads(chapkit("db", "current", "--database", url, "--json").stdout)
    assert after == {"current": state["head"], "head": state["head"], "up_to_date": True}
    again = chapkit("db", "upgrade", "--database", url)  # idempotent
    assert again.exit_code == 0 and "up to date" in again.stdout


def test_upgrade_and_current_on_an_sqlite_file(tmp_path: Path) -> None:
    _upgrade_then_current(f"sqlite+aiosqlite:///{tmp_path / 'service.db'}")
    assert (tmp_path / "service.db").is_file()


@pytest.mark.postgres
def test_upgrade_and_current_on_postgres() -> None:
    with fresh_postgres_database() as url:
        _upgrade_then_current(url)


def test_the_database_comes_from_the_environment(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'env.db'}"
    result = runner.invoke(app, ["db", "upgrade", "--json"], env={"DATABASE_URL": url})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["up_to_date"] is True


def test_a_bad_url_is_one_clear_line() -> None:
    result = chapkit("db", "current", "--database", "nosuch://nowhere")
    assert result.exit_code == 1 and "cannot read nosuch://nowhere" in result.stderr
    assert "Traceback" not in result.output


def test_db_needs_a_database() -> None:
    result = runner.invoke(app, ["db", "upgrade"], env={"DATABASE_URL": "", "CHAPKIT_DATABASE_URL": ""})
    assert result.exit_code == 2
