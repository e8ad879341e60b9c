"""A busy machine on demand: processes that keep CPUs spinning while a test runs.

`cpu_spinners(2)` starts two Python processes that do nothing but loop, and stops them when the block
ends, however it ends. A spinner also stops by itself once the process that started it is gone (it
checks its parent a few times a second), so a test run killed outright leaves none behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

_SPIN = (
    "import os, sys\n"
    "parent = int(sys.argv[1])\n"
    "while os.getppid() == parent:\n"
    "    for _ in range(200_000):\n"
    "        pass\n"
)
"""Loop until orphaned: a tight loop, with a parent check every ~10 ms of CPU time."""


@contextmanager
def cpu_spinners(count: int = 2) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Keep `count` processes spinning a CPU each until the block ends; yield them."""
    spinners: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(count):
            spinners.append(
                subprocess.Popen(
                    [sys.executable, "-c", _SPIN, str(os.getpid())],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
        yield spinners
    finally:
        for spinner in spinners:
            spinner.kill()
        for spinner in spinners:
            spinner.wait()


def main() -> None:
    """Spin `argv[1]` CPUs (default 2) until interrupted: a busy machine for running other tests under."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    with cpu_spinners(count) as spinners:
        print(" ".join(str(spinner.pid) for spinner in spinners), flush=True)
        with suppress(KeyboardInterrupt):
            spinners[0].wait()


if __name__ == "__main__":
    main()
