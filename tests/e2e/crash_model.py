"""The shell model of the crash tests: `train DATA MODEL` or `predict MODEL FUTURE OUTPUT` (see crash_service).

A run whose first row has `hold` = 1 starts a child (`sleep`) in its process group, writes its marker
and waits: killing the service must take the whole group with it. `fail` = 1 exits 1.
"""

from __future__ import annotations

import csv
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path


def _rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as file:
        return list(csv.DictReader(file))


def _marker(tag: str, **ids: int) -> None:
    markers = Path(os.environ["CHAPKIT_E2E_MARKERS"])
    partial = markers / f".{tag}.partial"
    partial.write_text(json.dumps(ids))
    partial.rename(markers / tag)


def main() -> None:
    """Train the mean of `y`, or predict it."""
    phase, *paths = sys.argv[1:]
    rows = _rows(paths[0] if phase == "train" else paths[1])
    first = rows[0]
    if first["fail"] == "1":
        print("failing on purpose", file=sys.stderr)
        sys.exit(1)
    if first["hold"] == "1":
        child = subprocess.Popen(["sleep", "3600"])
        _marker(first["tag"], pid=os.getpid(), pgid=os.getpgrp(), child=child.pid)
        child.wait()
        sys.exit(1)
    _marker(first["tag"], pid=os.getpid(), pgid=os.getpgrp())
    if phase == "train":
        values = [float(row["y"]) for row in rows]
        with open(paths[1], "wb") as model:
            pickle.dump({"mean": sum(values) / len(values)}, model)
        return
    with open(paths[0], "rb") as model:
        mean = pickle.load(model)["mean"]
    with open(paths[2], "w", newline="") as output:
        writer = csv.DictWriter(output, fieldnames=[*first, "y"])
        writer.writeheader()
        writer.writerows({**row, "y": mean} for row in rows)


if __name__ == "__main__":
    main()
