"""A short demonstration of embedded storage: store notes in a SQLite file and read them back."""

from __future__ import annotations

import asyncio
import os

from sqlalchemy.orm import Mapped
from ulid import ULID

from chapkit.adapters.sql import Entity
from chapkit.application.manager import BaseManager
from chapkit.bootstrap.containers import open_storage
from chapkit.domain.schemas import EntityIn, EntityOut

DEFAULT_URL = "sqlite+aiosqlite:///chapkit-demo.db"


class DemoNote(Entity):
    """A note, as a modeller's own table would be declared."""

    __tablename__ = "demo_notes"

    text: Mapped[str]


class DemoNoteIn(EntityIn):
    """A note to store."""

    text: str


class DemoNoteOut(DemoNoteIn, EntityOut):
    """A stored note."""


async def run_demo(url: str) -> list[DemoNoteOut]:
    """Store one note in `url`'s database and return every note stored so far."""
    async with open_storage(url) as storage, storage.session() as session:
        manager: BaseManager[DemoNote, DemoNoteIn, DemoNoteOut, ULID] = BaseManager(
            storage.repository(session, DemoNote), DemoNote, DemoNoteOut
        )
        count = await manager.count()
        await manager.save(DemoNoteIn(text=f"note number {count + 1}"))
        return await manager.find_all()


def main() -> None:
    """Run the demo against CHAPKIT_DATABASE_URL (default: a SQLite file in the working directory)."""
    url = os.environ.get("CHAPKIT_DATABASE_URL", DEFAULT_URL)
    notes = asyncio.run(run_demo(url))
    print(f"{len(notes)} note(s) stored in {url}:")
    for note in notes:
        print(f"  {note.id}  {note.created_at.isoformat()}  {note.text}")


__all__ = ["DemoNote", "DemoNoteIn", "DemoNoteOut", "main", "run_demo"]
