"""Fixtures of the end-to-end tier: generated projects installed into fresh venvs, each made once per run."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.e2e.installed_projects import InstalledProject, install_project


@pytest.fixture(scope="session")
def installed_project(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], InstalledProject]:
    """`installed_project(template)`: that template's project, copied and installed (made on first use).

    A failed install is kept, so every case that needs the project reports the same failure once made.
    """
    made: dict[str, InstalledProject | BaseException] = {}

    def installed(template: str) -> InstalledProject:
        if template not in made:
            try:
                made[template] = install_project(template, tmp_path_factory.mktemp(f"installed-{template}"))
            except BaseException as error:
                made[template] = error
        found = made[template]
        if isinstance(found, BaseException):
            raise found
        return found

    return installed
