"""What the R model tests need: Rscript, and for the tidyverse template the R packages it loads."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

TIDYVERSE_PACKAGES = ("dplyr", "readr", "tidyr", "forecast")
"""The R packages the shell-r-tidyverse template loads (Debian's r-cran-*; .ci/run installs them)."""


@cache
def missing_for(template: str) -> str | None:
    """Why a project of `template` cannot run here (None when it can): no Rscript, or missing R packages."""
    if not template.startswith("shell-r"):
        return None
    if shutil.which("Rscript") is None:
        return f"the {template} project needs Rscript"
    if template != "shell-r-tidyverse":
        return None
    probe = "for (p in commandArgs(TRUE)) if (!requireNamespace(p, quietly = TRUE)) cat(p, '')"
    found = subprocess.run(["Rscript", "-e", probe, *TIDYVERSE_PACKAGES], capture_output=True, text=True, timeout=120)
    absent = found.stdout.split()
    return f"the {template} project needs the R packages {', '.join(absent)}" if absent else None


__all__ = ["TIDYVERSE_PACKAGES", "missing_for"]
