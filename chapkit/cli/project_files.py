"""Project-level files `chapkit init` writes: README, compose file, .gitignore (packaging: `project_packaging`)."""

from __future__ import annotations

README = """# __NAME__

A chapkit model service (template `__TEMPLATE__`): it forecasts `disease_cases` per location, from
weekly or monthly data with `rainfall` and `mean_temperature`.

```bash
pip install -e '.[dev]'
python -m pytest                                          # train and predict end to end
chapkit serve __PKG__.service:create_app --factory         # http://127.0.0.1:8000/docs
chapkit check http://127.0.0.1:8000                       # validate, train and predict against it
docker compose up --build                                 # the same in a container, database on a volume
```

- `__PKG__/service.py`: the service info (what CHAP reads at `/api/v1/info`), the config schema
  (`ModelConfig`, in `__PKG__/config.py`) and the runner.
__MODEL_LINE__
- `DATABASE_URL` picks the database (default `sqlite+aiosqlite:///__PKG__.db`); `HOST`, `PORT`,
  `WORKERS` and `LOG_LEVEL` are read by `chapkit serve`.

## Forecasts are samples

A prediction has one row per future location and period: `time_period`, `location`, `disease_cases`
(the model's mean) and `sample_0` ... `sample_99`, 100 draws from the fitted model's error
distribution (a normal distribution around the mean with the spread training learned, cut at zero).
CHAP reads the `sample_*` columns as the forecast's distribution; keep them when you change the model.

The draws are seeded from the request: a digest of the config and of the future rows (the config file
and the future file for script models). The same config and the same future rows give the same
samples, so a test can compare two predictions; another config or other future rows give other draws.

## Which chapkit

This project runs on the chapkit that created it, shipped as a wheel in `wheels/`: `setup.py` names
that wheel as the `chapkit` dependency, so `pip install .`, `pip install -e '.[dev]'` and the
Dockerfile install it and never ask the package index for `chapkit` (a different project of the same
name lives there). Keep `wheels/` with the project (commit it). To move to another chapkit, run that
chapkit's `chapkit init` on a scratch directory and copy its `wheels/` directory over this one.
"""

FN_MODEL_LINE = (
    "- `__PKG__/model.py`: `on_train` and `on_predict`, plain Python functions: each location's mean\n"
    "  and spread over its last `window` periods."
)
SHELL_PY_MODEL_LINE = (
    "- `__PKG__/scripts/train.py`, `predict.py`: the model as scripts on CSV files (the config's JSON\n"
    "  file is their first argument): each location's mean and spread over its last `window` periods."
)
SHELL_R_MODEL_LINE = (
    "- `__PKG__/scripts/train.R`, `predict.R`: the model as R scripts on CSV files (the config's JSON\n"
    "  file is their first argument; `train.R` reads `window` from it): a linear model of the cases on\n"
    "  the covariates over each location's last `window` periods."
)

SHELL_R_TIDYVERSE_MODEL_LINE = (
    "- `__PKG__/scripts/train.R`, `predict.R`: the model as R scripts using dplyr, readr, tidyr and\n"
    "  forecast (Debian's r-cran-* packages): per location, an ARIMA model of the cases with rainfall and\n"
    "  mean_temperature as regressors over the last `window` periods (the config's JSON file is the\n"
    "  scripts' first argument); the samples are 100 simulated future paths."
)

COMPOSE = """services:
  __NAME__:
    build: .
    ports:
      - "8000:8000"
    environment:
      DATABASE_URL: sqlite+aiosqlite:////data/__PKG__.db
      LOG_LEVEL: info
    volumes:
      - __PKG___data:/data

volumes:
  __PKG___data:
"""

GITIGNORE = """.venv/
__pycache__/
*.db
.pytest_cache/
"""
