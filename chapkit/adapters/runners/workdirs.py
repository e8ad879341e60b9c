"""Working directories of model runs, each locked by its process while it exists, so a crash leaves none for long.

`working_directory(prefix)` makes a fresh private directory in `workspace_root()` (a directory of this
user's own in the temporary directory), holds an exclusive `flock` on it, and removes it afterwards
whatever happened, cancellation included. A process killed outright (SIGKILL, the OOM killer) cannot
remove its directories, but the kernel frees their locks: `remove_abandoned_workspaces()`, run when a
service starts, removes exactly the directories whose lock is free, and never one that a live process
(a neighbour on the same host) still uses. A directory is created under a hidden name and renamed into
place once locked, so it is never seen unlocked while in use; the descriptor is close-on-exec, so the
scripts a run starts do not hold the lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import shutil
import stat
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from chapkit.adapters.observability import get_logger
from chapkit.application.shielding import complete_before_cancel

logger = get_logger(__name__)

ROOT_PREFIX = "chapkit-workspaces-"


def workspace_root() -> Path:
    """The directory of run workspaces of this user in the temporary directory (created private, mode 0700).

    Falls back to the temporary directory itself (whose workspaces are never swept) when the directory is
    not a private directory of this user: another user could otherwise read or plant workspaces there.
    """
    temporary = Path(tempfile.gettempdir())
    root = temporary / f"{ROOT_PREFIX}{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    info = os.lstat(root)
    if stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o077:
        return root
    logger.warning("workspace_root_not_private", root=str(root), reason="runs use the temporary directory instead")
    return temporary


def _create(prefix: str) -> tuple[Path, int]:
    """A new directory named `prefix...` in the root, locked by the returned descriptor."""
    root = workspace_root()
    hidden = Path(tempfile.mkdtemp("", f".{prefix}", root))
    descriptor = os.open(hidden, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = hidden.with_name(hidden.name[1:])
        os.rename(hidden, path)  # mkdtemp's name is unique, so nothing is there to be replaced
    except BaseException:
        os.close(descriptor)
        shutil.rmtree(hidden, ignore_errors=True)
        raise
    return path, descriptor


def _remove(path: Path, descriptor: int) -> None:
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        pass
    except OSError as error:
        logger.warning("workspace_not_removed", path=str(path), error=f"{type(error).__name__}: {error}")
    finally:
        os.close(descriptor)  # only now: the directory stays locked until it is gone


@asynccontextmanager
async def working_directory(prefix: str) -> AsyncIterator[Path]:
    """A fresh private directory (mode 0700), locked while in use, removed afterwards whatever happened."""
    creating = asyncio.ensure_future(asyncio.to_thread(_create, prefix))
    try:
        path, descriptor = await complete_before_cancel(creating)
    except asyncio.CancelledError:
        if not creating.cancelled() and creating.exception() is None:  # made before the cancel was honoured
            await complete_before_cancel(asyncio.to_thread(_remove, *creating.result()))
        raise
    try:
        yield path
    finally:
        await complete_before_cancel(asyncio.to_thread(_remove, path, descriptor))


def remove_abandoned_workspaces(root: Path | None = None) -> int:
    """Remove the workspaces in `root` (default `workspace_root()`) that no process holds; return how many."""
    root = root if root is not None else workspace_root()
    if not root.name.startswith(ROOT_PREFIX):
        return 0  # the shared temporary directory (see `workspace_root`): nothing there is ours to judge
    removed = 0
    for entry in os.scandir(root):
        if entry.name.startswith("."):
            continue  # being created (or a crash in that instant): never judged
        try:
            descriptor = os.open(entry.path, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError:
            continue  # gone meanwhile, or not a directory
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)  # a live process works in it
            continue
        # Locked by this sweep now, so a neighbour sweeping at the same time leaves it alone.
        _remove(Path(entry.path), descriptor)
        removed += 1
    if removed:
        logger.info("abandoned_workspaces_removed", count=removed, root=str(root))
    return removed


__all__ = ["ROOT_PREFIX", "remove_abandoned_workspaces", "workspace_root", "working_directory"]
