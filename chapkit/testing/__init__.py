"""Testing kit for services built with chapkit: an in-memory service, an HTTP client for your app, job waits.

Installed as a pytest plugin (`chapkit.testing.plugin`, registered through the `pytest11` entry point):
the fixtures `chapkit_service` and `chapkit_client` are available in every test once chapkit is installed.
"""

from chapkit.testing.helpers import TERMINAL_JOB_STATUSES, serve_app, wait_for_job

__all__ = ["TERMINAL_JOB_STATUSES", "serve_app", "wait_for_job"]
