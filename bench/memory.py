"""Memory at rest: what a started model service holds, against the same demo built on chapkit 2.4.1.

Many model services run side by side on one CHAP host, so every megabyte an idle service holds counts
once per model. This starts each service in its own process on an SQLite file in a fresh directory,
asks `/health` once, waits a moment and reads the server process's resident memory (VmRSS from
/proc). Each figure is the median of `--runs` starts.

- **chapkit** (this checkout): `python -m chapkit`, the main job, under the interpreter running this
  script, and under Python 3.13 from a venv with this checkout's wheel installed.
- **chapkit 2.4.1** (the newer upstream on PyPI, what a user would pick instead of us): the equivalent
  demo, same config schema (`features`, `ridge`, `samples`), the same model functions in a
  `FunctionalModelRunner`, the same modules (configs, artifacts with config linking, jobs, ML, landing
  page, health, system, info; `MLServiceBuilder`'s defaults), served by uvicorn in one process, under
  Python 3.13. Its interpreter is CHAPKIT_BENCH_UPSTREAM_PYTHON, else the chap-core environment
  (scripts/chap-core-env, which holds chapkit 2.4.1).

The budget (issue "Speed", item 4): chapkit on Python 3.13 holds no more than chapkit 2.4.1. The
demo's model imports numpy and pandas inside its functions in both services, so neither holds them
at rest; the first train or predict loads them (about 90 MB).

    .venv/bin/python bench/memory.py [--runs 3] [--no-upstream]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from upstream import clean_env, free_port, side_by_side, started

UPSTREAM_DEMO = '''
"""The chapkit demo (python -m chapkit) rebuilt on chapkit 2.4.1: same config schema, model and modules."""

import hashlib
import json
import os

import uvicorn
from chapkit import ArtifactHierarchy, BaseConfig
from chapkit.api import AssessedStatus, MLServiceBuilder, MLServiceInfo, ModelMetadata
from chapkit.ml import FunctionalModelRunner
from pydantic import Field

TARGET = "disease_cases"


class DiseaseModelConfig(BaseConfig):
    features: list[str] = Field(default_factory=lambda: ["rainfall", "mean_temperature"], min_length=1)
    ridge: float = Field(default=0.0, ge=0, le=1e6)
    samples: int = Field(default=100, ge=1, le=1000)


def _design(frame, features):
    import numpy as np
    import pandas as pd

    values = frame[features].apply(pd.to_numeric, errors="raise").to_numpy(dtype=float)
    return np.column_stack([np.ones(len(values)), values])


async def on_train(config, data, geo=None):
    import numpy as np

    usable = data.dropna(subset=[*config.features, TARGET])
    x = _design(usable, config.features)
    y = usable[TARGET].to_numpy(dtype=float)
    penalty = config.ridge * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    coefficients = np.linalg.solve(x.T @ x + penalty, x.T @ y)
    residuals = y - x @ coefficients
    return {
        "features": list(config.features),
        "intercept": float(coefficients[0]),
        "coefficients": dict(zip(config.features, map(float, coefficients[1:]))),
        "rmse": float(np.sqrt(np.mean(residuals**2))),
    }


async def on_predict(config, model, historic, future, geo=None):
    import numpy as np
    import pandas as pd

    weights = np.array([model["intercept"], *(model["coefficients"][name] for name in model["features"])])
    predicted = _design(future, model["features"]) @ weights
    out = future.copy()
    out[TARGET] = np.clip(predicted, 0.0, None)
    digest = hashlib.sha256(json.dumps(model, sort_keys=True).encode() + future.to_json().encode())
    rng = np.random.default_rng(int.from_bytes(digest.digest()[:8], "big"))
    draws = np.clip(predicted[:, None] + rng.normal(0.0, max(model["rmse"], 1e-9), (len(out), config.samples)), 0, None)
    samples = pd.DataFrame(draws, columns=[f"sample_{i}" for i in range(config.samples)], index=out.index)
    return pd.concat([out, samples], axis=1)


app = MLServiceBuilder(
    info=MLServiceInfo(
        id="chapkit",
        display_name="chapkit",
        version="0.1.0",
        description="A demo model service: disease cases from rainfall and temperature (least squares)",
        model_metadata=ModelMetadata(author="chapkit", author_assessed_status=AssessedStatus.red),
        period_type="monthly",
        min_prediction_periods=1,
        max_prediction_periods=24,
        required_covariates=["rainfall", "mean_temperature"],
    ),
    config_schema=DiseaseModelConfig,
    hierarchy=ArtifactHierarchy(name="disease_model", level_labels={0: "trained_model", 1: "prediction"}),
    runner=FunctionalModelRunner(on_train=on_train, on_predict=on_predict),
    database_url="sqlite+aiosqlite:///chapkit.db",
).build()

uvicorn.run(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
'''


def resident_mb(command: list[str], runs: int) -> float:
    """The median VmRSS (MB) of the server started by `command`, after start-up and one /health."""
    figures = []
    for _ in range(runs):
        directory = Path(tempfile.mkdtemp(prefix="chapkit-bench-memory-"))
        try:
            with started(command, directory, clean_env(free_port())) as server:
                time.sleep(0.5)  # let start-up work scheduled after the first answer finish
                status = Path(f"/proc/{server.pid}/status").read_text()
                figures.append(int(status.split("VmRSS:")[1].split()[0]) / 1024)
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return statistics.median(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-upstream", action="store_true", help="measure chapkit only (no chapkit 2.4.1)")
    options = parser.parse_args()

    here = resident_mb([sys.executable, "-m", "chapkit"], options.runs)
    print(f"chapkit demo, Python {sys.version.split()[0]}: {here:.1f} MB resident after start-up and one /health")
    if options.no_upstream:
        return
    upstream, ours = side_by_side()
    demo = Path(tempfile.mkdtemp(prefix="chapkit-bench-upstream-")) / "upstream_demo.py"
    demo.write_text(UPSTREAM_DEMO)
    version = subprocess.run([ours, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True, text=True)
    ours_mb = resident_mb([ours, "-m", "chapkit"], options.runs)
    upstream_mb = resident_mb([upstream, "-I", str(demo)], options.runs)
    print(f"chapkit demo, Python {version.stdout.strip()}: {ours_mb:.1f} MB")
    print(f"chapkit 2.4.1 equivalent demo, same Python: {upstream_mb:.1f} MB")
    verdict = "PASS" if ours_mb <= upstream_mb else "FAIL"
    print(f"memory at rest, chapkit / 2.4.1: {ours_mb:.1f} / {upstream_mb:.1f} MB (budget <= 1.00x): {verdict}")


if __name__ == "__main__":
    main()
