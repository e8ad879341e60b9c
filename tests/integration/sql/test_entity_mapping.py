"""D3: chapkit's domain entities are mapped when the SQL adapter starts, never by importing chapkit."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _run(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_memory_service_never_instruments_the_entities() -> None:
    out = _run(
        """
        import asyncio
        from sqlalchemy import inspect
        from chapkit import Artifact, ArtifactIn, Config, open_storage

        async def main():
            async with open_storage("memory://") as storage:
                async with storage.unit_of_work(write=True) as uow:
                    await storage.artifact_manager(uow).save(ArtifactIn(data=1))
            print(inspect(Config, raiseerr=False) is None, inspect(Artifact, raiseerr=False) is None)

        asyncio.run(main())
        """
    )
    assert out == "True True"


def test_users_sql_on_chapkit_entities_works_once_an_sql_database_is_started(tmp_path: Path) -> None:
    out = _run(
        f"""
        import asyncio
        from sqlalchemy import func, select
        from chapkit import Config, open_storage

        async def main():
            async with open_storage("sqlite+aiosqlite:///{tmp_path / "m.db"}") as storage:
                async with storage.unit_of_work(write=True) as uow:
                    await uow.configs.save(Config(name="c", data={{}}))
                    await uow.commit()
                async with storage.database.session() as session:
                    print(await session.scalar(select(func.count()).select_from(Config)))

        asyncio.run(main())
        """
    )
    assert out == "1"
