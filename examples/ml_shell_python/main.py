"""Train and predict with scripts: `ShellModelRunner` runs `train.py` and `predict.py` (beside this file).

chapkit writes `config.json`, `data.csv` (or `historic.csv` and `future.csv`) into a fresh working
directory, runs the command through `/bin/sh -c` (the placeholders are filled with the files' paths,
shell-quoted) and reads back the model file or the predictions CSV. `model_format="json"`
keeps the model file as bytes: the scripts own its format. Run from the repository root:

    chapkit serve examples.ml_shell_python.main:app

and use it as the functional example (`$train`, `$predict`; sample bodies in
`chapkit/demo/samples/`). Storage: `ml_shell_python.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path

from chapkit import ArtifactHierarchy, BaseConfig, MLServiceBuilder, MLServiceInfo, ShellModelRunner

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///ml_shell_python.db")
HERE = Path(__file__).resolve().parent
PYTHON = shlex.quote(sys.executable)  # the interpreter serving this app; scripts are given as absolute paths


class ScaleConfig(BaseConfig):
    """The factor the location means are multiplied by (the scripts read it from `config.json`)."""

    scale: float = 1.0


runner = ShellModelRunner(
    train_command=f"{PYTHON} {shlex.quote(str(HERE / 'train.py'))} {{config_file}} {{data_file}} {{model_file}}",
    predict_command=f"{PYTHON} {shlex.quote(str(HERE / 'predict.py'))} {{model_file}} {{future_file}} {{output_file}}",
    model_format="json",
    timeout=300,  # seconds; the script's process group is killed after it
)

app = MLServiceBuilder(
    info=MLServiceInfo(display_name="Shell Python model", summary="ShellModelRunner with Python scripts"),
    config_schema=ScaleConfig,
    hierarchy=ArtifactHierarchy(name="shell_python", level_labels={0: "trained_model", 1: "prediction"}),
    runner=runner,
    database_url=DATABASE_URL,
).build()
