"""run_app's options: arguments over environment over defaults; reload only for import strings."""

from __future__ import annotations

from typing import Any

import pytest

from chapkit import BaseServiceBuilder, ServiceInfo
from chapkit.adapters.http.serving import logs_requests, resolve_run_options, run_app


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOST", "PORT", "WORKERS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    assert resolve_run_options(object()) == {
        "host": "127.0.0.1",
        "port": 8000,
        "workers": 1,
        "reload": False,
        "log_level": "info",
    }


def test_environment_and_arguments(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOST", "0.0.0.0")
    monkeypatch.setenv("PORT", "9001")
    monkeypatch.setenv("WORKERS", "1")
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    options = resolve_run_options("pkg.module:app")
    assert options == {"host": "0.0.0.0", "port": 9001, "workers": 1, "reload": True, "log_level": "debug"}
    assert resolve_run_options("pkg.module:app", port=7000, reload=False)["port"] == 7000
    assert resolve_run_options("pkg.module:app", reload=False)["reload"] is False


def test_reload_needs_an_import_string_and_a_single_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WORKERS", raising=False)
    assert resolve_run_options(object())["reload"] is False
    assert resolve_run_options(object(), reload=True)["reload"] is False
    assert resolve_run_options("m:app", workers=4)["reload"] is False
    assert resolve_run_options("m:app", workers=4, reload=True)["reload"] is False
    monkeypatch.setenv("WORKERS", "3")
    assert resolve_run_options("m:app") == resolve_run_options("m:app") | {"workers": 3, "reload": False}


def test_several_workers_need_an_import_string(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKERS", "2")
    app = BaseServiceBuilder(info=ServiceInfo(display_name="x")).build()
    with pytest.raises(ValueError, match="import string"):
        run_app(app)


def test_apps_that_log_requests_turn_uvicorns_access_log_off(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: dict[str, Any] = {}
    monkeypatch.setattr("chapkit.adapters.http.serving.uvicorn.run", lambda app, **options: seen.update(options))
    logged = BaseServiceBuilder(info=ServiceInfo(display_name="x")).with_logging().build()
    assert logs_requests(logged)
    run_app(logged, workers=1)
    assert seen["access_log"] is False
    seen.clear()
    plain = BaseServiceBuilder(info=ServiceInfo(display_name="y")).build()
    assert not logs_requests(plain)
    run_app(plain, workers=1)
    assert "access_log" not in seen  # uvicorn's default: its access line is the only one
