"""`MLServiceBuilder`: a `ServiceBuilder` with everything an ML service needs switched on."""

from __future__ import annotations

from chapkit.adapters.http.info import ServiceInfo
from chapkit.adapters.http.ml_info import MLServiceInfo
from chapkit.bootstrap.base_service_builder import DEFAULT_DATABASE_URL
from chapkit.bootstrap.service_builder import ServiceBuilder
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.domain.config import BaseConfig
from chapkit.domain.ml import ModelRunnerProtocol


class MLServiceBuilder(ServiceBuilder):
    """Specialized service builder for ML services with all required components pre-configured.

    Health, system, configs, artifacts with config linking, jobs, the landing page and the ML routes
    (`$train`, `$predict`, `$validate`) are on, and so is request logging; every `with_*` method can
    still be called to change them (e.g. `with_jobs(max_concurrency=4)`, `with_database(url)`).
    """

    def __init__(
        self,
        *,
        info: ServiceInfo | MLServiceInfo,
        config_schema: type[BaseConfig],
        hierarchy: ArtifactHierarchy,
        runner: ModelRunnerProtocol,
        database_url: str = DEFAULT_DATABASE_URL,
        include_error_handlers: bool = True,
        include_logging: bool = True,
    ) -> None:
        """Initialize ML service builder with required ML components."""
        super().__init__(
            info=info,
            database_url=database_url,
            include_error_handlers=include_error_handlers,
            include_logging=include_logging,
        )
        self.with_health()
        self.with_system()
        self.with_config(config_schema)
        self.with_artifacts(hierarchy=hierarchy, enable_config_linking=True)
        self.with_jobs()
        self.with_landing_page()
        self.with_ml(runner=runner)


__all__ = ["MLServiceBuilder"]
