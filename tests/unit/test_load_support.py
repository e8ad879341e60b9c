"""The busy-machine helper of the load tests: its spinners run while asked, and never outlive their starter."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.load import cpu_spinners

REPO = Path(__file__).resolve().parents[2]
WAIT = 30.0
"""Seconds to wait for a process to end before failing: a bound, never a synchronisation."""


def _running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def _until_ended(pids: list[int]) -> None:
    deadline = time.monotonic() + WAIT
    while any(_running(pid) for pid in pids):
        assert time.monotonic() < deadline, f"still running: {[pid for pid in pids if _running(pid)]}"
        time.sleep(0.02)


def test_spinners_spin_in_the_block_and_are_stopped_after_it() -> None:
    with cpu_spinners(2) as spinners:
        assert [spinner.poll() for spinner in spinners] == [None, None]
    assert all(spinner.returncode is not None for spinner in spinners)


def test_spinners_stop_by_themselves_when_their_starter_is_killed() -> None:
    starter = subprocess.Popen(
        [sys.executable, "-m", "tests.support.load", "2"], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert starter.stdout is not None
        pids = [int(pid) for pid in starter.stdout.readline().split()]
        assert len(pids) == 2 and all(_running(pid) for pid in pids)
        os.kill(starter.pid, signal.SIGKILL)  # no clean-up of its own runs
        starter.wait()
        _until_ended(pids)
    finally:
        if starter.poll() is None:
            starter.kill()
            starter.wait()
        if starter.stdout is not None:
            starter.stdout.close()
