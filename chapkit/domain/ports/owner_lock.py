"""The owner-lock port: a proof of life that ends with the process holding it (D16)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection


class OwnerLock(ABC):
    """Locks that scheduler owners hold for their lifetime, so the death of a process is seen at once (D16).

    A heartbeat only tells that an owner is dead once it has been silent for `stale_after` seconds. A lock
    tells at once: the operating system or the database frees it the moment its process ends, however it
    ends (a clean stop, `kill -9`, the OOM killer). Process ids prove nothing (containers reuse pid 1).

    Every owner that holds a lock is registered where its neighbours can find it (a lock file, a row), so
    `dead_owners` can tell an owner that died (registered, lock free) from one that never took a lock
    (not registered: only its heartbeat speaks for it). Owner ids are never reused.
    """

    @abstractmethod
    async def acquire(self, owner: str) -> None:
        """Take `owner`'s lock and register it; held until `release` or until this process ends.

        Raises `RuntimeError` when the lock is held already (owner ids are unique, so that is a bug).
        """

    @abstractmethod
    async def keep(self, owner: str) -> None:
        """Make sure `owner`'s lock is still held, taking it again if it was lost (a dropped connection)."""

    @abstractmethod
    async def release(self, owner: str) -> None:
        """Unregister `owner` and free its lock (a clean stop); nothing happens for an unknown owner."""

    @abstractmethod
    async def dead_owners(self) -> set[str]:
        """Return the registered owners whose lock is free: their processes ended without `release`.

        Owners holding their lock, in this process or any other, are never returned.
        """

    @abstractmethod
    async def forget(self, owners: Collection[str]) -> None:
        """Unregister dead `owners` (after their jobs were failed); unknown owners are ignored."""


__all__ = ["OwnerLock"]
