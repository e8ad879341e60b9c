"""A model in R: `ShellModelRunner` runs `train.R` and `predict.R` (beside this file) with `Rscript`.

The model file is R's own (`model_format="rds"`: `saveRDS` in training, `readRDS` in prediction);
chapkit keeps its bytes as the trained-model artifact. Needs `Rscript` on `PATH` (base R only). Run
from the repository root:

    chapkit serve examples.ml_shell_r.main:app

and use it as the functional example (`$train`, `$predict`; sample bodies in
`chapkit/demo/samples/`). Storage: `ml_shell_r.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

from chapkit import ArtifactHierarchy, BaseConfig, MLServiceBuilder, MLServiceInfo, ShellModelRunner

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///ml_shell_r.db")
HERE = Path(__file__).resolve().parent


class LinearConfig(BaseConfig):
    """No settings: the R scripts fit `disease_cases ~ rainfall + mean_temperature`."""


runner = ShellModelRunner(
    train_command=f"Rscript {shlex.quote(str(HERE / 'train.R'))} {{data_file}} {{model_file}}",
    predict_command=f"Rscript {shlex.quote(str(HERE / 'predict.R'))} {{model_file}} {{future_file}} {{output_file}}",
    model_format="rds",
    timeout=600,
)

app = MLServiceBuilder(
    info=MLServiceInfo(display_name="R linear model", summary="ShellModelRunner with R scripts"),
    config_schema=LinearConfig,
    hierarchy=ArtifactHierarchy(name="shell_r", level_labels={0: "trained_model", 1: "prediction"}),
    runner=runner,
    database_url=DATABASE_URL,
).build()
