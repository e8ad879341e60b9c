"""The main job: a demo model service built with chapkit (`python -m chapkit`, `chapkit demo`)."""

MAIN_JOB = "chapkit.demo.main_service:main_app"
"""The main job as uvicorn imports it: a factory that builds the app on CHAPKIT_DATABASE_URL."""

__all__ = ["MAIN_JOB"]
