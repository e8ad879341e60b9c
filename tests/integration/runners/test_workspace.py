"""zip_workspace: the regular files of a directory, bounded, links never followed, what was left out listed."""

from __future__ import annotations

import io
import os
import zipfile
from pathlib import Path

import pytest

from chapkit.adapters.runners.workspace import SKIPPED_LIST_NAME, zip_workspace


def unzip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def test_files_and_subdirectories_with_relative_names(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("x,y\n1,2\n")
    (tmp_path / "out" / "deep").mkdir(parents=True)
    (tmp_path / "out" / "deep" / "log.txt").write_bytes(b"\x00\xff binary")
    (tmp_path / "empty").mkdir()
    assert unzip(zip_workspace(tmp_path)) == {"data.csv": b"x,y\n1,2\n", "out/deep/log.txt": b"\x00\xff binary"}


def test_links_are_never_followed_and_big_files_are_left_out_and_listed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("not for the zip")
    work = tmp_path / "work"
    work.mkdir()
    (work / "a.txt").write_bytes(b"a" * 10)
    (work / "big.bin").write_bytes(b"b" * 101)
    (work / "c.txt").write_bytes(b"c" * 60)
    (work / "d.txt").write_bytes(b"d" * 50)
    (work / "link.txt").symlink_to(outside / "secret.txt")
    (work / "linked-dir").symlink_to(outside)
    os.mkfifo(work / "pipe")
    files = unzip(zip_workspace(work, file_limit=100, total_limit=100))
    assert files.keys() == {"a.txt", "c.txt", SKIPPED_LIST_NAME}
    assert files[SKIPPED_LIST_NAME].decode().splitlines() == [
        "big.bin: 101 bytes, over the limit of 100 per file",
        "d.txt: 50 bytes, past the limit of 100 for all files",
        "link.txt: a symbolic link",
        "linked-dir: a symbolic link",
        "pipe: not a regular file",
    ]


def test_an_old_timestamp_does_not_stop_the_zip(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_text("from 1970")
    os.utime(tmp_path / "old.txt", (0, 0))
    assert unzip(zip_workspace(tmp_path)) == {"old.txt": b"from 1970"}


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        zip_workspace(tmp_path / "gone")
