"""Working directories of model runs (D16): locked while in use, removed after, swept once their process died."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from chapkit.adapters.runners.workdirs import remove_abandoned_workspaces, working_directory, workspace_root

PROJECT_ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def private_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temporary directory of the test's own, as TMPDIR makes it for a service."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    return tmp_path


def _entries(root: Path) -> list[str]:
    return sorted(os.listdir(root))


async def test_a_run_gets_a_private_directory_that_no_sweep_touches_while_in_use(private_tmp: Path) -> None:
    root = workspace_root()
    assert root.parent == private_tmp and oct(root.stat().st_mode & 0o777) == oct(0o700)
    async with working_directory("chapkit_ml_train_") as first, working_directory("chapkit_ml_train_") as second:
        assert first != second and first.parent == root and first.name.startswith("chapkit_ml_train_")
        assert oct(first.stat().st_mode & 0o777) == oct(0o700)
        (first / "data.csv").write_text("a\n1\n")
        assert remove_abandoned_workspaces() == 0
        assert _entries(root) == sorted([first.name, second.name])
    assert _entries(root) == []


async def test_a_canceled_run_removes_its_directory() -> None:
    entered = asyncio.Event()
    seen: list[Path] = []

    async def run() -> None:
        async with working_directory("chapkit_ml_predict_") as path:
            seen.append(path)
            entered.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(run())
    await entered.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not seen[0].exists()


async def test_the_directories_of_a_killed_process_are_swept_and_a_live_ones_kept() -> None:
    child = subprocess.Popen(  # noqa: ASYNC220 - a plain child we kill -9; its pipe is read in a thread
        [sys.executable, "-c", _RUN], stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT, env=os.environ.copy()
    )
    try:
        assert child.stdout is not None
        left = Path((await asyncio.to_thread(child.stdout.readline)).strip())
        (left / "model.pickle").write_bytes(b"partial")
        async with working_directory("chapkit_ml_train_") as mine:
            assert remove_abandoned_workspaces() == 0  # both in use: the child's and this process's own
            os.kill(child.pid, signal.SIGKILL)
            await asyncio.to_thread(child.wait, 30)

            assert remove_abandoned_workspaces() == 1
            assert (await asyncio.to_thread(left.exists), await asyncio.to_thread(mine.exists)) == (False, True)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()


def test_a_workspace_root_that_is_not_private_is_not_used_nor_swept(private_tmp: Path) -> None:
    shared = private_tmp / f"chapkit-workspaces-{os.getuid()}"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)  # another user could read or plant workspaces here
    (shared / "chapkit_ml_train_planted").mkdir()
    assert workspace_root() == private_tmp
    assert remove_abandoned_workspaces(private_tmp) == 0
    assert (shared / "chapkit_ml_train_planted").exists()


_RUN = textwrap.dedent(
    """
    import asyncio
    from chapkit.adapters.runners.workdirs import working_directory

    async def main() -> None:
        async with working_directory("chapkit_ml_train_") as path:
            print(path, flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())
    """
)
