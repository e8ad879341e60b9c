"""A model service whose training script fails with a message on stderr, for the console's page tests."""

from __future__ import annotations

import shlex
import sys

from chapkit import ShellModelRunner
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.demo.main_service import EXAMPLE_HIERARCHY, INFO
from chapkit.demo.model import DiseaseModelConfig

STDERR = "the model exploded: rainfall is all missing"

FAIL = f"{shlex.quote(sys.executable)} -c {shlex.quote(f'import sys; sys.stderr.write({STDERR!r}); sys.exit(3)')}"

app = MLServiceBuilder(
    info=INFO,
    config_schema=DiseaseModelConfig,
    hierarchy=EXAMPLE_HIERARCHY,
    runner=ShellModelRunner(train_command=FAIL, predict_command=FAIL),
    database_url="sqlite+aiosqlite:///failing.db",
).build()
