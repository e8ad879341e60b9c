"""`chapkit init NAME --template fn-py|shell-py|shell-r`: write a ready model-service project."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from chapkit.cli import project_files as files
from chapkit.cli import project_models as models
from chapkit.cli import project_templates as templates
from chapkit.cli.client import console, fail

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class Template(StrEnum):
    """The project templates."""

    fn_py = "fn-py"
    shell_py = "shell-py"
    shell_r = "shell-r"


def package_name(name: str) -> str:
    """The Python package of a project name ("My-Model" -> "my_model")."""
    return name.lower().replace("-", "_")


def service_id(name: str) -> str:
    """The service id (CHAP's key) of a project name ("My_Flu-Model" -> "my-flu-model")."""
    return "-".join(re.findall(r"[a-z0-9]+", name.lower()))


def project_files(name: str, template: Template) -> dict[str, str]:
    """Every file of a new project, by relative path."""
    package = package_name(name)
    if template is Template.fn_py:
        imports, runner, summary = templates.FN_IMPORTS, templates.FN_RUNNER, templates.MEAN_SUMMARY
        model = {f"{package}/model.py": models.FN_MODEL}
        model_line, needs = files.FN_MODEL_LINE, ""
    elif template is Template.shell_py:
        imports, runner, summary = templates.SHELL_PY_IMPORTS, templates.SHELL_PY_RUNNER, templates.MEAN_SUMMARY
        model = {
            f"{package}/scripts/train.py": models.SHELL_PY_TRAIN,
            f"{package}/scripts/predict.py": models.SHELL_PY_PREDICT,
        }
        model_line, needs = files.SHELL_PY_MODEL_LINE, ""
    else:
        imports, runner, summary = templates.SHELL_R_IMPORTS, templates.SHELL_R_RUNNER, templates.LINEAR_R_SUMMARY
        model = {
            f"{package}/scripts/train.R": models.SHELL_R_TRAIN,
            f"{package}/scripts/predict.R": models.SHELL_R_PREDICT,
        }
        model_line, needs = files.SHELL_R_MODEL_LINE, "Rscript"
    stdlib, chapkit_names, local = imports
    service = (
        templates.SERVICE.replace("__STDLIB_IMPORTS__\n", stdlib + "\n")
        .replace("__CHAPKIT_NAMES__", chapkit_names)
        .replace("__LOCAL_IMPORTS__", local)
        .replace("__RUNNER__\n", runner)
    )
    dockerfile = files.DOCKERFILE.replace("__R_INSTALL__", files.R_INSTALL if template is Template.shell_r else "")
    raw = {
        "pyproject.toml": files.PYPROJECT,
        "README.md": files.README.replace("__MODEL_LINE__", model_line),
        "Dockerfile": dockerfile,
        "compose.yaml": files.COMPOSE,
        ".dockerignore": files.DOCKERIGNORE,
        ".gitignore": files.GITIGNORE,
        f"{package}/__init__.py": f'"""{name}: a chapkit model service."""\n',
        f"{package}/config.py": templates.CONFIG,
        f"{package}/service.py": service,
        **model,
        "tests/__init__.py": "",
        "tests/test_service.py": templates.TEST.replace("__NEEDS__", needs),
    }
    replacements = {
        "__SUMMARY__": summary,
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
    """Create a ready model-service project: service, config schema, model, tests, Dockerfile, compose file."""
    if not _NAME.match(name):
        raise fail(f"{name!r} is not a project name: start with a letter; use letters, digits, - and _", 2)
    target = directory or Path(name)
    if target.exists() and any(target.iterdir()):
        raise fail(f"{target} exists and is not empty", 2)
    for path, text in project_files(name, template).items():
        file = target / path
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_text(text)
    console.print(f"Created {target} ({template.value}). Next:", highlight=False)
    console.print(f"  cd {target} && pip install -e '.[dev]' && python -m pytest", highlight=False)
    console.print(f"  chapkit serve {package_name(name)}.service:create_app --factory", highlight=False)


__all__ = ["Template", "init", "package_name", "project_files", "service_id"]
