"""Projects made by `chapkit init`, copied elsewhere and installed into fresh venvs, as a user would.

`install_project(template, root)` runs `chapkit init flu-model --template T` in `root/made`, copies the
project to `root/elsewhere` (outside this checkout, as every pytest temporary directory is), makes a
venv there and installs the copy with exactly `python -m venv venv && venv/bin/pip install ./flu-model`:
no PYTHONPATH, no extra flag, the package index reachable for the other dependencies. What `init`
printed after "Next:" is kept, so the tests run those lines as written. Every command runs with an
environment stripped of this checkout: PATH starts with the venv's bin directory and PYTHONPATH,
VIRTUAL_ENV and the database variables are unset.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

NAME = "flu-model"
PACKAGE = "flu_model"
INSTALL_TIMEOUT = 900  # a hang guard only: an install takes seconds with pip's cache, a minute without


@dataclass(frozen=True)
class InstalledProject:
    """A generated project's copy and the fresh venv it was installed into."""

    template: str
    project: Path  # the copy, outside the directory init wrote to
    venv: Path
    next_lines: list[str]  # what `chapkit init` printed after "Next:", as written
    install_output: str

    @property
    def workdir(self) -> Path:
        """The directory the copy sits in: where `init`'s Next lines (`cd flu-model && ...`) start."""
        return self.project.parent

    def env(self, **extra: str) -> dict[str, str]:
        """An environment where `pip`, `python` and `chapkit` are the venv's, and nothing of this checkout."""
        env = {key: value for key, value in os.environ.items() if key not in _CHECKOUT_VARIABLES}
        env["PATH"] = f"{self.venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        return {**env, "LOG_LEVEL": "warning", **extra}

    def command(self, line: str) -> list[str]:
        """A command line (split as the shell would) with its program resolved on the venv's PATH."""
        words = shlex.split(line)
        program = shutil.which(words[0], path=self.env()["PATH"])
        assert program is not None, f"{words[0]} is not on the venv's PATH"
        return [program, *words[1:]]

    def run(self, command: list[str] | str, *, cwd: Path | None = None, timeout: float = INSTALL_TIMEOUT) -> str:
        """Run `command` (a list, or a shell line) in the project's environment; return its output or fail."""
        finished = subprocess.run(
            command,
            shell=isinstance(command, str),
            cwd=cwd or self.workdir,
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        output = finished.stdout + finished.stderr
        assert finished.returncode == 0, f"{command} exited {finished.returncode}:\n{output[-6000:]}"
        return output

    def chapkit_origin(self) -> dict[str, str]:
        """Where the venv's chapkit was imported from and the URL pip recorded for it (direct_url.json)."""
        script = (
            "import json, chapkit; from importlib import metadata; "
            "print(json.dumps({'file': chapkit.__file__, "
            "'direct_url': json.loads(metadata.distribution('chapkit').read_text('direct_url.json') or '{}')}))"
        )
        found: dict[str, object] = json.loads(self.run([str(self.venv / "bin" / "python"), "-c", script]))
        direct_url = found["direct_url"]
        assert isinstance(direct_url, dict)
        return {"file": str(found["file"]), "url": str(direct_url.get("url", ""))}


_CHECKOUT_VARIABLES = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "DATABASE_URL", "CHAPKIT_DATABASE_URL"}


def make_project(template: str, directory: Path) -> list[str]:
    """Run `chapkit init flu-model --template T` in `directory`; return the lines printed after "Next:"."""
    directory.mkdir(parents=True, exist_ok=True)
    chapkit = Path(sys.executable).with_name("chapkit")
    made = subprocess.run(
        [str(chapkit), "init", NAME, "--template", template],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    printed = made.stdout.splitlines()
    assert printed[0].endswith("Next:"), made.stdout
    return [line.strip() for line in printed[1:] if line.strip()]


def fresh_venv(directory: Path) -> Path:
    """`python -m venv DIRECTORY` with the interpreter the tests run on (its base Python, not this venv)."""
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True, timeout=300)
    return directory


def install_project(template: str, root: Path) -> InstalledProject:
    """Make a project of `template`, copy it outside the place it was made, install the copy into a fresh venv."""
    next_lines = make_project(template, root / "made")
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    project = Path(shutil.copytree(root / "made" / NAME, elsewhere / NAME))
    venv = fresh_venv(elsewhere / "venv")
    partial = InstalledProject(template, project, venv, next_lines, "")
    output = partial.run("venv/bin/pip install ./flu-model")
    return InstalledProject(template, project, venv, next_lines, output)


__all__ = ["NAME", "PACKAGE", "InstalledProject", "fresh_venv", "install_project", "make_project"]
