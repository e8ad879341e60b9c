"""chapkit as a library, without HTTP: `ChapkitService.open(...)` in a plain asyncio script.

The script opens a service on an SQLite file in a temporary directory (the bundled migrations run
first), stores two configs, trains a model with each, predicts with both and prints the results; the
typed facades (`configs`, `artifacts`, `ml`, `jobs`) raise the errors the HTTP API reports as problems.
Run from the repository root:

    python examples/library/main.py

(pass a directory to keep the database there: `python examples/library/main.py ./data`).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from chapkit import (
    ArtifactHierarchy,
    BaseConfig,
    ChapkitService,
    FunctionalModelRunner,
    NotFoundError,
    PandasDataFrame,
    PredictRequest,
    TrainRequest,
)


class TrendConfig(BaseConfig):
    """How strongly the last change carries into the future."""

    damping: float = 1.0


def train(config: TrendConfig, data: pd.DataFrame, geo: Any = None) -> dict[str, float]:
    """The model: the last value and the last change of `cases`, damped."""
    cases = data["cases"].astype(float)
    return {"last": float(cases.iloc[-1]), "step": float(cases.iloc[-1] - cases.iloc[-2]) * config.damping}


def predict(
    config: TrendConfig, model: dict[str, float], historic: pd.DataFrame, future: pd.DataFrame, geo: Any = None
) -> pd.DataFrame:
    """Continue the trend over the future periods."""
    steps = pd.Series(range(1, len(future) + 1), index=future.index, dtype=float)
    return future.assign(cases=model["last"] + steps * model["step"])


HISTORY = pd.DataFrame({"period": ["2024-01", "2024-02", "2024-03", "2024-04"], "cases": [10, 12, 15, 19]})
FUTURE = pd.DataFrame({"period": ["2024-05", "2024-06", "2024-07"]})


async def main(directory: Path) -> None:
    """Train and predict with two configs on an SQLite file in `directory`; print what happens."""
    url = f"sqlite+aiosqlite:///{directory / 'library.db'}"
    hierarchy = ArtifactHierarchy(name="trend", level_labels={0: "trained_model", 1: "prediction"})
    runner = FunctionalModelRunner(on_train=train, on_predict=predict)
    async with ChapkitService.open(url, config_schema=TrendConfig, hierarchy=hierarchy, runner=runner) as service:
        for name, damping in [("full", 1.0), ("damped", 0.5)]:
            config = await service.configs.create(name, {"damping": damping})
            data = PandasDataFrame.from_dataframe(HISTORY)
            model = await service.ml.train_and_wait(TrainRequest(config_id=config.id, data=data))
            request = PredictRequest(
                model_artifact_id=model.id, historic=data, future=PandasDataFrame.from_dataframe(FUTURE)
            )
            prediction = await service.ml.predict_and_wait(request)
            frame = PandasDataFrame.model_validate(prediction.data["predictions"]).to_dataframe()
            print(f"{name}: cases {frame['cases'].round(2).tolist()}")
        tree = await service.artifacts.tree(model.id)
        children = tree.children or []
        labels = ", ".join(sorted({str(child.level_label) for child in children}))
        print(f"tree: {tree.level_label} with {len(children)} {labels}")
        jobs = await service.jobs.list()
        print(f"jobs: {len(jobs)} {sorted({job.status.value for job in jobs})}")
        try:
            await service.configs.get(model.id)
        except NotFoundError as error:
            print(f"not found: {error}")


if __name__ == "__main__":
    if len(sys.argv) > 1:
        asyncio.run(main(Path(sys.argv[1])))
    else:
        with tempfile.TemporaryDirectory() as temporary:
            asyncio.run(main(Path(temporary)))
