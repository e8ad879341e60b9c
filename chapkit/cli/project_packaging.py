"""How a generated project installs the chapkit that made it: that chapkit's wheel, inside the project (D28).

The package index's `chapkit` is another distribution (the newer upstream, Python >= 3.13 only), so a
project must never ask the index for `chapkit`. `chapkit init` (and `chapkit mlproject migrate`) write
the running chapkit as a wheel into the project's `wheels/` directory, and the project's `setup.py`
names that wheel as its dependency by an absolute `file:` URL computed when the project is built. pip
builds a local project in place, so the URL points into whichever copy is being installed:
`pip install ./copy`, `pip install -e '.[dev]'` and the Dockerfile's `pip install .` all install that
wheel and nothing else under the name `chapkit`, with no extra flag.

The wheel is made from the running chapkit's own files (its package directory, caches left out) and
its installed metadata (`METADATA`, `entry_points.txt`), so it is the same whether chapkit was installed
from a wheel or from a source checkout in editable mode. Its entries are sorted and stamped with one
fixed time: the same chapkit always gives the same bytes, so regenerating a project does not change
its wheel.
"""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile
from functools import cache
from importlib import metadata
from pathlib import Path

WHEELS = "wheels"
"""The project directory that holds the chapkit wheel."""

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_SKIPPED_DIRECTORIES = {"__pycache__"}
_SKIPPED_SUFFIXES = {".pyc", ".pyo"}


class NotInstalledError(RuntimeError):
    """The running chapkit has no installed metadata to build its wheel from."""


def wheel_name(version: str) -> str:
    """The file name of chapkit's wheel at `version` (pure Python, any platform)."""
    return f"chapkit-{version}-py3-none-any.whl"


@cache
def running_chapkit_wheel() -> tuple[str, bytes]:
    """The file name and bytes of a wheel of the running chapkit (built once per process)."""
    import chapkit

    package = Path(chapkit.__file__).resolve().parent
    try:
        distribution = metadata.distribution("chapkit")
    except metadata.PackageNotFoundError as error:
        raise NotInstalledError(
            "chapkit is imported but not installed, so there is no wheel to put into the project: "
            "install it (pip install -e . in a checkout) and run the command again"
        ) from error
    if distribution.version != chapkit.__version__:
        raise NotInstalledError(
            f"the installed chapkit is {distribution.version} but the imported one is {chapkit.__version__} "
            f"({package}): run the command with the chapkit that is installed"
        )
    dist_info = f"chapkit-{distribution.version}.dist-info"
    entries: dict[str, bytes] = {}
    for path in sorted(package.rglob("*")):
        relative = path.relative_to(package)
        if path.is_dir() or _SKIPPED_DIRECTORIES & set(relative.parts) or path.suffix in _SKIPPED_SUFFIXES:
            continue
        entries[f"chapkit/{relative.as_posix()}"] = path.read_bytes()
    entries[f"{dist_info}/METADATA"] = _core_metadata(distribution).encode()
    entry_points = distribution.read_text("entry_points.txt")
    if entry_points:
        entries[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    entries[f"{dist_info}/top_level.txt"] = b"chapkit\n"
    entries[f"{dist_info}/WHEEL"] = (
        b"Wheel-Version: 1.0\nGenerator: chapkit\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    )
    return wheel_name(distribution.version), _zip(entries, record=f"{dist_info}/RECORD")


def write_chapkit_wheel(project: Path) -> Path:
    """Write the running chapkit's wheel into `project/wheels/` and return its path."""
    name, content = running_chapkit_wheel()
    target = project / WHEELS / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(content)
    return target


def _core_metadata(distribution: metadata.Distribution) -> str:
    """The distribution's core metadata: METADATA of an installed dist-info, PKG-INFO of a checkout's egg-info."""
    text = distribution.read_text("METADATA") or distribution.read_text("PKG-INFO")
    if text is None:
        raise NotInstalledError("the installed chapkit has no METADATA file: reinstall it")
    return text


def _zip(entries: dict[str, bytes], *, record: str) -> bytes:
    """A wheel archive of `entries`, with a RECORD of their hashes and sizes (sorted, fixed times)."""
    lines = [f"{name},sha256={_digest(content)},{len(content)}" for name, content in entries.items()]
    entries = {**entries, record: ("\n".join([*lines, f"{record},,"]) + "\n").encode()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries.items():
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, content)
    return buffer.getvalue()


def _digest(content: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()


PYPROJECT = """[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "__NAME__"
version = "0.1.0"
description = "A chapkit model service"
requires-python = ">=3.11"
# chapkit comes from the wheel in wheels/ (setup.py names it), never from the package index: see README.
dynamic = ["dependencies", "optional-dependencies"]

[tool.setuptools.packages.find]
include = ["__PKG__*"]

[tool.setuptools.package-data]
__PKG__ = ["scripts/*"]

[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["."]
asyncio_mode = "auto"
asyncio_default_fixture_loop_scope = "function"

[tool.ruff]
line-length = 120
target-version = "py311"

[tool.ruff.lint]
select = ["E", "F", "I", "W", "UP", "B"]
"""

SETUP_PY = '''"""Install this project with the chapkit that created it: the one wheel in wheels/ (see README).

The package index's `chapkit` is another project, so chapkit is named here by the absolute path of the
wheel, computed when pip builds this directory (pip builds a local project in place, so the path
points into the copy being installed). To move to another chapkit, replace the wheel: run
`chapkit init` of that chapkit on a new directory and copy its wheels/ directory here.
"""

from pathlib import Path

from setuptools import setup

WHEELS = Path(__file__).resolve().parent / "wheels"
found = sorted(WHEELS.glob("chapkit-*.whl"))
if len(found) != 1:
    raise SystemExit(f"expected exactly one chapkit wheel in {WHEELS}, found {len(found)}")
WHEEL_URL = found[0].as_uri()

setup(
    install_requires=[f"chapkit @ {WHEEL_URL}"],
    # dev: pytest, pytest-asyncio, httpx and the chapkit pytest plugin
    extras_require={"dev": [f"chapkit[testing] @ {WHEEL_URL}"]},
)
'''

DOCKERFILE = """FROM python:3.12-slim
__APT_INSTALL__WORKDIR /app
COPY . /app
# The same install as on a laptop: setup.py takes chapkit from wheels/, never from the package index.
RUN pip install --no-cache-dir .
ENV HOST=0.0.0.0 PORT=8000 DATABASE_URL=sqlite+aiosqlite:////data/__PKG__.db
VOLUME ["/data"]
EXPOSE 8000
CMD __CMD__
"""

DOCKERIGNORE = """.venv
__pycache__
*.db
.pytest_cache
"""


def apt_install(packages: list[str]) -> str:
    """The Dockerfile line that installs Debian `packages` (empty for none)."""
    if not packages:
        return ""
    return (
        "RUN apt-get update && apt-get install -y --no-install-recommends "
        + " ".join(packages)
        + " && rm -rf /var/lib/apt/lists/*\n"
    )


def dockerfile(package: str, command: list[str], *, apt_packages: list[str]) -> str:
    """A Dockerfile that installs the project the way `pip install .` does and runs `command`."""
    exec_form = "[" + ", ".join(f'"{part}"' for part in command) + "]"
    return (
        DOCKERFILE.replace("__APT_INSTALL__", apt_install(apt_packages))
        .replace("__PKG__", package)
        .replace("__CMD__", exec_form)
    )


def packaging_files(name: str, package: str, command: list[str], *, apt_packages: list[str]) -> dict[str, str]:
    """pyproject.toml, setup.py, Dockerfile and .dockerignore of a project (the wheel: `write_chapkit_wheel`)."""
    return {
        "pyproject.toml": PYPROJECT.replace("__NAME__", name).replace("__PKG__", package),
        "setup.py": SETUP_PY,
        "Dockerfile": dockerfile(package, command, apt_packages=apt_packages),
        ".dockerignore": DOCKERIGNORE,
    }


__all__ = [
    "WHEELS",
    "NotInstalledError",
    "apt_install",
    "dockerfile",
    "packaging_files",
    "running_chapkit_wheel",
    "wheel_name",
    "write_chapkit_wheel",
]
