"""Hosting static web apps: every directory under `apps/` with a `manifest.json` is served at its prefix.

`with_apps(directory)` discovers the apps (`with_app(path, prefix=...)` adds one); the manifest names
the app, its version, its URL `prefix` (not `/api`) and its `entry` file. This service serves the
bundled landing page at `/` and `apps/dashboard` (a page listing and creating configs) at
`/dashboard/`; `GET /api/v1/system/apps` lists them. Run from the repository root:

    chapkit serve examples.app_hosting.main:app

and open http://127.0.0.1:8000/dashboard/. Storage: `app_hosting.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os
from pathlib import Path

from chapkit import BaseConfig, ServiceBuilder, ServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///app_hosting.db")
APPS = Path(__file__).resolve().parent / "apps"

app = (
    ServiceBuilder(info=ServiceInfo(display_name="Hosted apps", summary="Static web apps beside the API"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_system()
    .with_config(BaseConfig)
    .with_landing_page()
    .with_apps(APPS)
    .build()
)
