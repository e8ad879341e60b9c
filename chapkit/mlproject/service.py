"""An MLproject directory served as a chapkit model service, unchanged (`mlproject_app`, `mlproject_builder`).

The service is an ordinary ML service (`MLServiceBuilder`):

- its info comes from the MLproject: `id` from `name`, `display_name`, `description` and the authorship
  (`author`, `author_note`, `author_assessed_status`, `contact_email`, `organization`,
  `organization_logo_url`, `citation_info`, `repository_url`, `documentation_url`) from `meta_data`,
  falling back to the name; `version` (default 1.0.0), `target`, `required_covariates`,
  `allow_free_additional_continuous_covariates`, `requires_geo`, the prediction bounds and
  `hpo_search_space` from the keys of the same names; `supported_period_type` `month`, `week` or `any`
  becomes `period_type` `monthly`, `weekly` or `any` (unset: `any`); `git_revision` is `GIT_REVISION`,
  else the commit checked out where the directory is (chap-core keeps no model template without one);
- its config schema is made from `user_options` (`chapkit.mlproject.options`);
- its runner is a `ShellModelRunner` in workspace mode (`ModelWorkspace`): the entry points' commands
  run in a fresh copy of the directory, on the files their parameters name, with `config.yml` in the
  chosen layout, the MLproject's `adapters` and the environment `resolve_environment` finds.

The layout of `config.yml` is the `config_format` argument, else the MLproject's
`meta_data.config_format`, else `chap_core`.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from pydantic import ValidationError

from chapkit.adapters.http.info import GIT_REVISION_ENV, service_id_from
from chapkit.adapters.http.ml_info import AUTHORSHIP_FIELDS, MLServiceInfo
from chapkit.adapters.runners.model_workspace import CONFIG_FORMATS, ConfigFormat, ModelWorkspace
from chapkit.adapters.runners.shell_model_runner import ShellModelRunner
from chapkit.bootstrap.base_service_builder import DEFAULT_DATABASE_URL
from chapkit.bootstrap.ml_service_builder import MLServiceBuilder
from chapkit.domain.artifact import ArtifactHierarchy
from chapkit.mlproject.environment import resolve_environment
from chapkit.mlproject.options import config_schema
from chapkit.mlproject.project import MLProject, MLProjectError, load_mlproject

PERIOD_TYPES = {"month": "monthly", "monthly": "monthly", "week": "weekly", "weekly": "weekly", "any": "any"}
"""`supported_period_type` values and the `period_type` each becomes."""

DEFAULT_CONFIG_FORMAT: ConfigFormat = "chap_core"
LEVEL_LABELS = {0: "trained_model", 1: "prediction"}


def service_info(project: MLProject) -> MLServiceInfo:
    """The `/api/v1/info` of an MLproject's service; `MLProjectError` names a `meta_data` value it cannot serve."""
    meta = project.meta_data
    period = project.supported_period_type
    if period is not None and period.lower() not in PERIOD_TYPES:
        raise MLProjectError(f"{project.file}: supported_period_type: {period!r} is not one of month, week or any")
    values: dict[str, Any] = {
        "id": service_id_from(project.name),
        "display_name": _text(meta.get("display_name")) or project.name,
        "description": _text(meta.get("description")) or f"The {project.name} model, served from its MLproject",
        "period_type": PERIOD_TYPES[period.lower()] if period is not None else "any",
        "required_covariates": project.required_covariates,
        "allow_free_additional_continuous_covariates": project.allow_free_additional_continuous_covariates,
        "requires_geo": project.requires_geo,
        "target": project.target,
        "min_prediction_periods": project.min_prediction_periods,
        "max_prediction_periods": project.max_prediction_periods,
        "hpo_search_space": project.hpo_search_space,
    }
    if project.version is not None:
        values["version"] = project.version
    if not os.environ.get(GIT_REVISION_ENV):
        values["git_revision"] = git_commit(project.directory)
    for name in AUTHORSHIP_FIELDS:
        if _text(meta.get(name)) is not None:
            values[name] = _text(meta.get(name))
    values = {name: value for name, value in values.items() if value is not None}
    try:
        return MLServiceInfo.model_validate(values)
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"])
        key = f"meta_data.{where}" if where in AUTHORSHIP_FIELDS or where in ("display_name", "description") else where
        raise MLProjectError(f"{project.file}: {key}: {problem['msg']} (got {problem.get('input')!r})") from None


def config_format_of(project: MLProject, config_format: str | None = None) -> ConfigFormat:
    """The layout of `config.yml`: `config_format`, else `meta_data.config_format`, else `chap_core`."""
    chosen = config_format if config_format is not None else _text(project.meta_data.get("config_format"))
    if chosen is None:
        return DEFAULT_CONFIG_FORMAT
    for known in CONFIG_FORMATS:
        if chosen == known:
            return known
    source = "config_format" if config_format is not None else f"{project.file}: meta_data.config_format"
    raise MLProjectError(f"{source}: {chosen!r} is not one of {', '.join(CONFIG_FORMATS)}")


def mlproject_runner(
    project: MLProject, *, config_format: str | None = None, timeout: float | None = None
) -> ShellModelRunner:
    """The `ShellModelRunner` (workspace mode) that runs the MLproject's train and predict commands."""
    workspace = ModelWorkspace(
        project.directory,
        config_format=config_format_of(project, config_format),
        adapters=project.adapters,
        environment=resolve_environment(project).variables,
    )
    return ShellModelRunner(project.train.template, project.predict.template, timeout=timeout, workspace=workspace)


def mlproject_builder(
    path: str | Path | MLProject,
    *,
    config_format: str | None = None,
    database_url: str = DEFAULT_DATABASE_URL,
    timeout: float | None = None,
) -> MLServiceBuilder:
    """The `MLServiceBuilder` of the MLproject at `path` (its file or directory), to add to before `build()`.

    `config_format` is the layout of `config.yml` (`chap_core` or `flat`; default: the MLproject's
    `meta_data.config_format`, else `chap_core`); `timeout` the seconds each command may run (None: no
    limit). Raises `MLProjectError` for an MLproject that cannot be served.
    """
    project = path if isinstance(path, MLProject) else load_mlproject(path)
    return MLServiceBuilder(
        info=service_info(project),
        config_schema=config_schema(project),
        hierarchy=ArtifactHierarchy(name=_hierarchy_name(project.name), level_labels=LEVEL_LABELS),
        runner=mlproject_runner(project, config_format=config_format, timeout=timeout),
        database_url=database_url,
    )


def mlproject_app(
    path: str | Path | MLProject,
    *,
    config_format: str | None = None,
    database_url: str | None = None,
    timeout: float | None = None,
) -> FastAPI:
    """The chapkit service of the MLproject at `path`, built (database: `database_url`, default in memory)."""
    url = database_url if database_url is not None else DEFAULT_DATABASE_URL
    return mlproject_builder(path, config_format=config_format, database_url=url, timeout=timeout).build()


def git_commit(directory: Path) -> str | None:
    """The commit checked out where `directory` is (`git rev-parse HEAD`); None outside git or without git."""
    try:
        found = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "--verify", "--quiet", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = found.stdout.strip()
    return commit if found.returncode == 0 and commit else None


def _hierarchy_name(name: str) -> str:
    return service_id_from(name).replace("-", "_")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


__all__ = [
    "DEFAULT_CONFIG_FORMAT",
    "PERIOD_TYPES",
    "config_format_of",
    "git_commit",
    "mlproject_app",
    "mlproject_builder",
    "mlproject_runner",
    "service_info",
]
