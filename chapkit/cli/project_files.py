"""Project-level files `chapkit init` writes: pyproject.toml, README, Dockerfile, compose file."""

from __future__ import annotations

PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "__NAME__"
version = "0.1.0"
description = "A chapkit model service"
requires-python = ">=3.11"
dependencies = ["chapkit"]

[project.optional-dependencies]
dev = ["chapkit[testing]"]  # pytest, pytest-asyncio, httpx and the chapkit pytest plugin

[tool.setuptools.packages.find]
include = ["__PKG__*"]

[tool.setuptools.package-data]
__PKG__ = ["scripts/*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"
"""

README = """# __NAME__

A chapkit model service (template `__TEMPLATE__`): it predicts `disease_cases` from `rainfall` and
`mean_temperature`, monthly, per location.

```bash
pip install -e '.[dev]'
python -m pytest                                          # train and predict end to end
chapkit serve __PKG__.service:create_app --factory         # http://127.0.0.1:8000/docs
chapkit check http://127.0.0.1:8000                       # validate, train and predict against it
docker compose up --build                                 # the same in a container, database on a volume
```

- `__PKG__/service.py`: the service info, the config schema (`ModelConfig`) and the runner.
__MODEL_LINE__
- `DATABASE_URL` picks the database (default `sqlite+aiosqlite:///__PKG__.db`); `HOST`, `PORT`,
  `WORKERS` and `LOG_LEVEL` are read by `chapkit serve`.
"""

FN_MODEL_LINE = "- `__PKG__/model.py`: `on_train` and `on_predict`, plain Python functions."
SHELL_PY_MODEL_LINE = "- `__PKG__/scripts/train.py`, `predict.py`: the model as scripts on CSV files."
SHELL_R_MODEL_LINE = "- `__PKG__/scripts/train.R`, `predict.R`: the model as R scripts on CSV files."

DOCKERFILE = """FROM python:3.12-slim
__R_INSTALL__WORKDIR /app
COPY . /app
RUN pip install --no-cache-dir .
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite+aiosqlite:////data/__PKG__.db
VOLUME ["/data"]
EXPOSE 8000
CMD ["chapkit", "serve", "__PKG__.service:create_app", "--factory"]
"""

R_INSTALL = (
    "RUN apt-get update && apt-get install -y --no-install-recommends r-base-core && rm -rf /var/lib/apt/lists/*\n"
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

DOCKERIGNORE = """.venv
__pycache__
*.db
.pytest_cache
"""

GITIGNORE = """.venv/
__pycache__/
*.db
.pytest_cache/
"""
