"""`chapkit init NAME --template fn-py|shell-py|shell-r|shell-r-tidyverse`: write a ready model-service project."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from chapkit.cli import project_files as files
from chapkit.cli import project_models as models
from chapkit.cli import project_packaging as packaging
from chapkit.cli import project_templates as templates
from chapkit.cli.client import console, fail

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
R_PACKAGES = ["r-base-core"]
TIDYVERSE_R_PACKAGES = [*R_PACKAGES, "r-cran-dplyr", "r-cran-readr", "r-cran-tidyr", "r-cran-forecast"]


class Template(StrEnum):
    """The project templates."""

    fn_py = "fn-py"
    shell_py = "shell-py"
    shell_r = "shell-r"
    shell_r_tidyverse = "shell-r-tidyverse"


@dataclass(frozen=True)
class _Parts:
    """What one template puts into a project."""

    imports: tuple[str, str, str]  # standard library, names from chapkit, the project's own modules
    runner: str
    summary: str
    model: dict[str, str]  # path below the package -> text
    model_line: str  # the README's line about the model
    needs: str = ""  # a program the project's test needs ("" for none)
    apt_packages: list[str] = field(default_factory=list)  # Debian packages the Docker image installs


_PARTS = {
    Template.fn_py: _Parts(
        templates.FN_IMPORTS, templates.FN_RUNNER, templates.MEAN_SUMMARY, {"model.py": models.FN_MODEL},
        files.FN_MODEL_LINE,
    ),
    Template.shell_py: _Parts(
        templates.SHELL_PY_IMPORTS, templates.SHELL_PY_RUNNER, templates.MEAN_SUMMARY,
        {"scripts/train.py": models.SHELL_PY_TRAIN, "scripts/predict.py": models.SHELL_PY_PREDICT},
        files.SHELL_PY_MODEL_LINE,
    ),
    Template.shell_r: _Parts(
        templates.SHELL_R_IMPORTS, templates.SHELL_R_RUNNER, templates.LINEAR_R_SUMMARY,
        {"scripts/train.R": models.SHELL_R_TRAIN, "scripts/predict.R": models.SHELL_R_PREDICT},
        files.SHELL_R_MODEL_LINE, "Rscript", R_PACKAGES,
    ),
    Template.shell_r_tidyverse: _Parts(
        templates.SHELL_R_IMPORTS, templates.SHELL_R_TIDYVERSE_RUNNER, templates.ARIMA_R_SUMMARY,
        {"scripts/train.R": models.SHELL_R_TIDYVERSE_TRAIN, "scripts/predict.R": models.SHELL_R_TIDYVERSE_PREDICT},
        files.SHELL_R_TIDYVERSE_MODEL_LINE, "Rscript", TIDYVERSE_R_PACKAGES,
    ),
}  # fmt: skip


def package_name(name: str) -> str:
    """The Python package of a project name ("My-Model" -> "my_model")."""
    return name.lower().replace("-", "_")


def service_id(name: str) -> str:
    """The service id (CHAP's key) of a project name ("My_Flu-Model" -> "my-flu-model")."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def serve_command(package: str) -> list[str]:
    """The command that serves a generated project (the Dockerfile's CMD, the README's and `init`'s)."""
    return ["chapkit", "serve", f"{package}.service:create_app", "--factory"]


def project_files(name: str, template: Template) -> dict[str, str]:
    """Every text file of a new project, by relative path (the chapkit wheel: `project_packaging`)."""
    package = package_name(name)
    parts = _PARTS[template]
    stdlib, chapkit_names, local = parts.imports
    service = (
        templates.SERVICE.replace("__STDLIB_IMPORTS__\n", stdlib + "\n")
        .replace("__CHAPKIT_NAMES__", chapkit_names)
        .replace("__LOCAL_IMPORTS__", local)
        .replace("__RUNNER__\n", parts.runner)
    )
    raw = {
        **packaging.packaging_files(name, package, serve_command(package), apt_packages=parts.apt_packages),
        "README.md": files.README.replace("__MODEL_LINE__", parts.model_line),
        "compose.yaml": files.COMPOSE,
        ".gitignore": files.GITIGNORE,
        f"{package}/__init__.py": f'"""{name}: a chapkit model service."""\n',
        f"{package}/config.py": templates.CONFIG,
        f"{package}/service.py": service,
        **{f"{package}/{path}": text for path, text in parts.model.items()},
        "tests/__init__.py": "",
        "tests/test_service.py": templates.TEST.replace("__NEEDS__", parts.needs),
    }
    replacements = {
        "__SUMMARY__": parts.summary,
        "__SLUG__": service_id(name),
        "__NAME__": name,
        "__PKG__": package,
        "__TEMPLATE__": template.value,
    }
    result = {}
    for path, text in raw.items():
        for placeholder, value in replacements.items():
            text = text.replace(placeholder, value)
        result[path] = text
    return result


def init(
    name: Annotated[str, typer.Argument(help="Project name: a letter, then letters, digits, - or _.")],
    template: Annotated[Template, typer.Option("--template", "-t", help="How the model is written.")] = Template.fn_py,
    directory: Annotated[
        Path | None, typer.Option("--directory", "-d", help="Where to create the project (default ./NAME).")
    ] = None,
) -> None:
    """Create a ready model-service project: service, config schema, model, tests, Dockerfile, compose file.

    The project installs the chapkit that created it, shipped as a wheel in its wheels/ directory.
    """
    if not _NAME.match(name):
        raise fail(f"{name!r} is not a project name: start with a letter; use letters, digits, - and _", 2)
    target = directory or Path(name)
    if target.exists() and any(target.iterdir()):
        raise fail(f"{target} exists and is not empty", 2)
    try:
        packaging.running_chapkit_wheel()
    except packaging.NotInstalledError as error:
        raise fail(str(error), 1) from error
    for path, text in project_files(name, template).items():
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    packaging.write_chapkit_wheel(target)
    console.print(f"Created {target} ({template.value}). Next:", highlight=False)
    console.print(f"  cd {target} && pip install -e '.[dev]' && python -m pytest", highlight=False)
    console.print("  " + " ".join(serve_command(package_name(name))), highlight=False)


__all__ = ["Template", "init", "package_name", "project_files", "serve_command", "service_id"]
