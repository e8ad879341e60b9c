"""The demo model service behind an API key, for the console's page tests (served with `chapkit serve`)."""

from __future__ import annotations

from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.demo.main_service import EXAMPLE_HIERARCHY, INFO
from chapkit.demo.model import DiseaseModelConfig, disease_model_runner

API_KEY = "sk-console-e2e"

app = (
    MLServiceBuilder(
        info=INFO,
        config_schema=DiseaseModelConfig,
        hierarchy=EXAMPLE_HIERARCHY,
        runner=disease_model_runner(),
        database_url="sqlite+aiosqlite:///console.db",
    )
    .with_auth(api_keys=[API_KEY])
    .build()
)
