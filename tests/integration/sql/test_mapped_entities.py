"""`chapkit.Config` / `Artifact` / `ConfigArtifact` are usable in users' own SQL and with `BaseRepository` (D3)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from chapkit import Artifact, BaseRepository, Config, ConfigArtifact, SqliteDatabase


async def test_domain_entities_work_in_plain_sqlalchemy(tmp_path: Path) -> None:
    database = SqliteDatabase(f"sqlite+aiosqlite:///{tmp_path / 'mapped.db'}")
    await database.init()
    try:
        async with database.session() as session:
            configs = BaseRepository(session, Config)
            config = await configs.save(Config(name="c", data={"x": 1}))
            root = await BaseRepository(session, Artifact).save(Artifact(data={"model": 1}))
            await configs.commit()
            session.add(ConfigArtifact(config_id=config.id, artifact_id=root.id))  # type: ignore[arg-type]
            await session.commit()

        async with database.session() as session:
            assert await session.scalar(select(func.count()).select_from(Config)) == 1
            linked = await session.scalar(
                select(Config.name).join(ConfigArtifact, ConfigArtifact.config_id == Config.id)  # type: ignore[arg-type]
            )
            assert linked == "c"
            [artifact] = (await session.scalars(select(Artifact).where(Artifact.level == 0))).all()  # type: ignore[arg-type]
            assert artifact.data == {"model": 1} and artifact.created_at is not None
    finally:
        await database.dispose()
