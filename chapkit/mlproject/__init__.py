"""Existing CHAP models served as they are: a directory with an `MLproject` file becomes a chapkit service.

`load_mlproject` reads and checks the file (`MLProject`, `MLProjectError`); `mlproject_builder` and
`mlproject_app` build the service; `chapkit mlproject run DIR` serves it and `chapkit mlproject migrate
DIR` writes a chapkit project around it.
"""

from chapkit.mlproject.environment import ModelEnvironment, resolve_environment
from chapkit.mlproject.options import config_schema
from chapkit.mlproject.project import PARAMETER_FILES, MLProject, MLProjectError, find_mlproject, load_mlproject
from chapkit.mlproject.service import config_format_of, mlproject_app, mlproject_builder, service_info

__all__ = [
    "PARAMETER_FILES",
    "MLProject",
    "MLProjectError",
    "ModelEnvironment",
    "config_format_of",
    "config_schema",
    "find_mlproject",
    "load_mlproject",
    "mlproject_app",
    "mlproject_builder",
    "resolve_environment",
    "service_info",
]
