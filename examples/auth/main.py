"""API-key authentication, with the keys read from the environment or from a file.

`with_auth(api_key_file=...)` reads one key per line from the file (blank lines and `#` comments are
skipped; a Docker secret is such a file); without a file it reads `CHAPKIT_API_KEYS`
(comma-separated). Every request then needs an `X-API-Key` header holding one of the keys, except
`/health`, `/docs`, `/redoc`, `/openapi.json` and `/`; without one the answer is a 401
`application/problem+json`. Run from the repository root, with keys from the environment:

    CHAPKIT_API_KEYS=sk_dev_one,sk_dev_two chapkit serve examples.auth.main:app

or from a file (`API_KEY_FILE` names it here; e.g. `/run/secrets/api_keys` in a container):

    API_KEY_FILE=keys.txt chapkit serve examples.auth.main:app

With neither, importing the app fails: a service that requires keys does not start without any.
Storage: `auth.db` (or `DATABASE_URL`).
"""

from __future__ import annotations

import os

from chapkit import BaseConfig, ServiceBuilder, ServiceInfo

DATABASE_URL = os.environ.get("DATABASE_URL", "sqlite+aiosqlite:///auth.db")
API_KEY_FILE = os.environ.get("API_KEY_FILE")  # None: the keys come from CHAPKIT_API_KEYS


app = (
    ServiceBuilder(info=ServiceInfo(display_name="Protected configs", summary="API-key authentication"))
    .with_database(DATABASE_URL)
    .with_logging()
    .with_health()
    .with_system()
    .with_config(BaseConfig)
    .with_auth(api_key_file=API_KEY_FILE, env_var="CHAPKIT_API_KEYS")
    .build()
)
