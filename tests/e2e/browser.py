"""The system Chromium for page tests: found on PATH, never downloaded.

With CHAPKIT_REQUIRE_BROWSER=1 (set by CI) its absence fails the tests instead of skipping them.
"""

from __future__ import annotations

import os
import shutil

import pytest

BROWSERS = ("chromium", "chromium-browser", "google-chrome")


def find_browser() -> str | None:
    """The first headless-capable browser on PATH."""
    return next((path for name in BROWSERS if (path := shutil.which(name))), None)


def require_browser() -> str:
    """The browser's path; without one the test skips, or fails when CHAPKIT_REQUIRE_BROWSER=1 (as in CI)."""
    path = find_browser()
    if path is not None:
        return path
    message = f"no headless browser found on PATH (looked for {', '.join(BROWSERS)})"
    if os.environ.get("CHAPKIT_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{message}, and CHAPKIT_REQUIRE_BROWSER=1 requires one")
    pytest.skip(message)
