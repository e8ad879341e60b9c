"""`RegistrationLock`: one process of a host registers a service, however many worker processes serve it.

uvicorn `--workers N` (or gunicorn) runs the app, and so its lifespan, once per worker process. Each
worker's registrar tries an advisory lock on a file named after the registration (orchestrator, service
id, advertised URL) in the temporary directory; the one that holds it registers, pings and deregisters,
the others stand by and try again now and then, so another takes over when the holder's process ends.
The operating system releases the lock of a process that dies, whatever the way.
"""

from __future__ import annotations

import hashlib
import os
import sys
import tempfile
from pathlib import Path

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl


class RegistrationLock:
    """An advisory file lock keyed by a registration; `try_acquire` never waits."""

    def __init__(self, key: str, *, directory: Path | None = None) -> None:
        """Lock the file for `key` in `directory` (default: the temporary directory)."""
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:24]
        self.path = (directory or Path(tempfile.gettempdir())) / f"chapkit-registration-{digest}.lock"
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock."""
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if no other holder has it; True when this object holds it now."""
        if self._fd is not None:
            return True
        try:
            # Read-only and never through a symlink: a file planted in a shared temporary directory can
            # neither redirect nor be damaged by the lock.
            fd = os.open(self.path, os.O_RDONLY | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0), 0o644)
        except OSError:
            # A file we may not open (another user's) must not stop the service registering: run unlocked.
            self._fd = -1
            return True
        try:
            if sys.platform == "win32":
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        """Let another process take the lock (closing the file releases it)."""
        fd, self._fd = self._fd, None
        if fd is None or fd < 0:
            return
        if sys.platform == "win32":
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        os.close(fd)


__all__ = ["RegistrationLock"]
