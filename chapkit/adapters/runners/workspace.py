"""A model run's working directory as zip bytes, bounded: what a failed run's diagnostic artifact holds.

`zip_workspace(directory)` stores the directory's regular files (paths relative to it, directory by
directory in name order) with DEFLATE. It never follows a symbolic link (a script could point one
anywhere) and skips what is not a regular file, any file over `WORKSPACE_FILE_LIMIT` bytes, and the
files that would take the whole over `WORKSPACE_TOTAL_LIMIT` bytes (before compression). What it
skipped is listed, with the reason, in `SKIPPED_LIST_NAME` inside the zip, so a reader knows the zip
is not the whole directory.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
from pathlib import Path

WORKSPACE_FILE_LIMIT = 8 * 1024 * 1024
"""Bytes: a bigger file is left out of a workspace zip (and listed as skipped)."""

WORKSPACE_TOTAL_LIMIT = 32 * 1024 * 1024
"""Bytes (uncompressed) of all files a workspace zip holds; files past it are left out and listed."""

SKIPPED_LIST_NAME = "chapkit-skipped-files.txt"
"""The entry listing the files a workspace zip left out, one `path: reason` a line (only when any were)."""


def zip_workspace(
    directory: str | os.PathLike[str],
    *,
    file_limit: int = WORKSPACE_FILE_LIMIT,
    total_limit: int = WORKSPACE_TOTAL_LIMIT,
) -> bytes:
    """Zip the regular files under `directory` within the limits; return the zip's bytes.

    Raises `OSError` when `directory` itself cannot be read; a file that cannot be read is listed as
    skipped instead.
    """
    root = Path(directory)
    buffer = io.BytesIO()
    skipped: list[str] = []
    total = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in _walk(root):
            name = path.relative_to(root).as_posix()
            try:
                info = path.lstat()
                if not stat.S_ISREG(info.st_mode):
                    kind = "a symbolic link" if stat.S_ISLNK(info.st_mode) else "not a regular file"
                    skipped.append(f"{name}: {kind}")
                    continue
                if info.st_size > file_limit:
                    skipped.append(f"{name}: {info.st_size} bytes, over the limit of {file_limit} per file")
                    continue
                if total + info.st_size > total_limit:
                    skipped.append(f"{name}: {info.st_size} bytes, past the limit of {total_limit} for all files")
                    continue
                data = _read_regular(path)
                entry = zipfile.ZipInfo.from_file(path, name, strict_timestamps=False)
            except OSError as error:
                skipped.append(f"{name}: not readable ({error.strerror or error})")
                continue
            total += len(data)
            archive.writestr(entry, data, zipfile.ZIP_DEFLATED)
        if skipped:
            archive.writestr(SKIPPED_LIST_NAME, "".join(f"{line}\n" for line in skipped))
    return buffer.getvalue()


def _walk(root: Path) -> list[Path]:
    """Every entry under `root` that is not a directory, in name order; links to directories are not entered."""
    found: list[Path] = []

    def fail(error: OSError) -> None:
        if Path(error.filename or "") == root:
            raise error

    for current, directories, files in os.walk(root, onerror=fail, followlinks=False):
        directories.sort()
        base = Path(current)
        # os.walk lists a link to a directory among `directories` and does not enter it: keep it as an entry.
        entries = sorted(files) + [name for name in directories if (base / name).is_symlink()]
        found.extend(base / name for name in sorted(entries))
    return found


def _read_regular(path: Path) -> bytes:
    """The file's bytes; refuses to follow a link swapped in after it was checked."""
    descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(descriptor, "rb") as stream:
        return stream.read()


__all__ = ["SKIPPED_LIST_NAME", "WORKSPACE_FILE_LIMIT", "WORKSPACE_TOTAL_LIMIT", "zip_workspace"]
