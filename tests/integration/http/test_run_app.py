"""run_app's options: arguments over environment over defaults; reload only for import strings."""

from __future__ import annotations

import pytest

from chapkit.bootstrap.run import resolve_run_options


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
