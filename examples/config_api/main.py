"""Typed config CRUD: a `BaseConfig` subclass validates the `data` of every config.

Run from the repository root:

    chapkit serve examples.config_api.main:app

then try `POST /api/v1/configs` with `{"name": "weekly", "data": {"lags": 4}}` (201), the same with
`{"lags": -1}` (422, a problem naming the field), `GET /api/v1/configs` and `GET /api/v1/configs/$schema`.
The configs live in `config_api.db` in the working directory (`DATABASE_URL` picks another database).
"""

from __future__ import annotations

import os

from pydantic import Field

from chapkit import BaseConfig, ServiceBuilder, ServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///config_api.db")


class ForecastConfig(BaseConfig):
    """How a forecast is made: the lags it uses, how far ahead it looks, and which covariates it reads."""

    lags: int = Field(ge=1, description="Past periods the model looks at")
    horizon: int = Field(default=3, ge=1, le=24, description="Periods ahead to forecast")
    covariates: list[str] = Field(default_factory=lambda: ["rainfall", "mean_temperature"])


app = (
    ServiceBuilder(info=ServiceInfo(display_name="Forecast configs", summary="Typed config CRUD"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_system()
    .with_config(ForecastConfig)
    .build()
)
