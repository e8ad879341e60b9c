"""Fixtures of the end-to-end tier: generated projects installed into fresh venvs, each made once per run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.installed_projects import InstalledProject, install_project
from tests.support.once import Once


@pytest.fixture(scope="session")
def installed_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], InstalledProject]:
    """`installed_project(template)`: that template's project, copied and installed (made on first use).

    A failed install is kept, so every case that needs the project reports the same failure once made.
    """
    return Once(lambda template: install_project(template, tmp_path_factory.mktemp(f"installed-{template}")))
