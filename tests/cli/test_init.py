"""`chapkit init`: the files each template writes, and the chapkit wheel every project ships (D28).

That each project installs from a copy into a fresh venv, passes its own test, serves and passes
`chapkit check` is shown end to end in tests/e2e/test_project_install.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chapkit.cli.init import Template, project_files, service_id
from tests.cli.support import chapkit

DOCKERFILE_INSTRUCTIONS = {
    "FROM", "RUN", "CMD", "LABEL", "EXPOSE", "ENV", "ADD", "COPY", "ENTRYPOINT", "VOLUME", "USER", "WORKDIR",
    "ARG", "ONBUILD", "STOPSIGNAL", "HEALTHCHECK", "SHELL", "MAINTAINER",
}  # fmt: skip


def dockerfile_instructions(text: str) -> list[str]:
    """The instruction of every logical line (continuations joined, comments and blank lines skipped)."""
    logical, current = [], ""
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        current += line.rstrip("\\") + " "
        if not line.endswith("\\"):
            logical.append(current.split()[0].upper())
            current = ""
    assert not current, "the last line continues into nothing"
    return logical


def _init(tmp_path: Path, template: str) -> Path:
    result = chapkit("init", "flu-model", "--template", template, "--directory", str(tmp_path / "flu-model"))
    assert result.exit_code == 0, result.output
    return tmp_path / "flu-model"


@pytest.mark.parametrize("template", list(Template))
def test_the_dockerfile_and_compose_file_are_well_formed(template: Template) -> None:
    files = project_files("flu-model", template)
    instructions = dockerfile_instructions(files["Dockerfile"])
    assert instructions[0] == "FROM"
    assert set(instructions) <= DOCKERFILE_INSTRUCTIONS, set(instructions) - DOCKERFILE_INSTRUCTIONS
    assert "CMD" in instructions and "VOLUME" in instructions
    compose = files["compose.yaml"]
    assert "volumes:\n      - flu_model_data:/data" in compose and "\nvolumes:\n  flu_model_data:" in compose
    assert "/data/flu_model.db" in compose
    assert not any("__" in path.replace("__init__", "") for path in files)
    assert not any(placeholder in text for text in files.values() for placeholder in ("__PKG__", "__NAME__"))


def test_the_service_id_is_a_slug_of_the_project_name() -> None:
    assert service_id("flu-model") == "flu-model"
    assert service_id("My_Flu--Model2") == "my-flu-model2"
    service = project_files("My_Flu--Model2", Template.shell_r)["my_flu__model2/service.py"]
    assert 'id="my-flu-model2"' in service and 'display_name="My_Flu--Model2"' in service


def test_the_dockerfile_check_catches_mistakes() -> None:
    assert dockerfile_instructions("# base\nFROM python:3.12\nRUN a \\\n  && b\n") == ["FROM", "RUN"]
    assert dockerfile_instructions("RUNN x\n") == ["RUNN"]


def test_init_refuses_a_bad_name_and_a_non_empty_directory(tmp_path: Path) -> None:
    assert chapkit("init", "9lives", "--directory", str(tmp_path / "x")).exit_code == 2
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    refused = chapkit("init", "taken", "--directory", str(tmp_path / "taken"))
    assert refused.exit_code == 2 and "not empty" in refused.stderr
    assert (tmp_path / "taken" / "file").read_text() == "mine"


def test_init_refuses_when_chapkit_cannot_be_shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without installed metadata there is no wheel to ship: one line saying what to do, nothing written."""
    from importlib import metadata

    from chapkit.cli import project_packaging

    def missing(name: str) -> metadata.Distribution:
        raise metadata.PackageNotFoundError(name)

    project_packaging.running_chapkit_wheel.cache_clear()
    monkeypatch.setattr(project_packaging.metadata, "distribution", missing)
    try:
        result = chapkit("init", "flu-model", "--directory", str(tmp_path / "p"))
    finally:
        project_packaging.running_chapkit_wheel.cache_clear()
    assert result.exit_code == 1
    assert "not installed" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "p").exists()


def test_the_wheel_holds_the_running_chapkit_and_is_the_same_every_time(tmp_path: Path) -> None:
    """Package files and metadata, a RECORD whose hashes match, no caches; the same bytes on a rebuild."""
    import base64
    import hashlib
    import zipfile

    import chapkit
    from chapkit.cli import project_packaging

    first = project_packaging.write_chapkit_wheel(tmp_path / "one")
    project_packaging.running_chapkit_wheel.cache_clear()
    second = project_packaging.write_chapkit_wheel(tmp_path / "two")
    assert first.name == f"chapkit-{chapkit.__version__}-py3-none-any.whl" == second.name
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        names = archive.namelist()
        dist_info = f"chapkit-{chapkit.__version__}.dist-info"
        record = archive.read(f"{dist_info}/RECORD").decode().splitlines()
        for line in record:
            name, digest, size = line.rsplit(",", 2)
            if name.endswith("RECORD"):
                continue
            content = archive.read(name)
            expected = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
            assert digest == f"sha256={expected}" and int(size) == len(content), name
    package = Path(chapkit.__file__).parent
    assert "chapkit/__init__.py" in names and "chapkit/py.typed" in names
    assert "chapkit/adapters/http/apps/landing/index.html" in names  # package data travels too
    assert f"{dist_info}/METADATA" in names and f"{dist_info}/entry_points.txt" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    sources = {f"chapkit/{path.relative_to(package).as_posix()}" for path in package.rglob("*.py")}
    assert sources <= set(names)


def test_init_writes_the_wheel_and_a_setup_py_that_names_it(tmp_path: Path) -> None:
    result = chapkit("init", "flu-model", "--directory", str(tmp_path / "p"))
    assert result.exit_code == 0, result.output
    wheels = list((tmp_path / "p" / "wheels").glob("chapkit-*.whl"))
    assert len(wheels) == 1
    setup = (tmp_path / "p" / "setup.py").read_text()
    assert 'install_requires=[f"chapkit @ {WHEEL_URL}"]' in setup
    pyproject = (tmp_path / "p" / "pyproject.toml").read_text()
    assert 'dynamic = ["dependencies", "optional-dependencies"]' in pyproject
    assert "dependencies = [" not in pyproject  # nothing asks the package index for chapkit
