"""Structured logging: console or JSON output chosen by LOG_FORMAT, request context in every line."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from structlog.testing import capture_logs

from chapkit import (
    add_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    reset_request_context,
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Leave structlog and the root logger as the test found them (not at structlog's defaults).

    Other tiers configure logging once per session and read events through `caplog`; a logger first
    used after a reset to the defaults would print past `caplog` for the rest of the run.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    plugins = logging.getLogger("alembic.runtime.plugins")
    plugins_level = plugins.level
    config = structlog.get_config()
    yield
    plugins.setLevel(plugins_level)
    reset_request_context()
    structlog.configure(**config)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_level_timestamp_and_request_context(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    configure_logging()
    add_request_context(request_id="r-1", path="/x")
    get_logger("test").info("hello", answer=42)
    clear_request_context("path")
    get_logger("test").debug("second")
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert lines[0]["event"] == "hello" and lines[0]["answer"] == 42
    assert lines[0]["level"] == "info" and lines[0]["request_id"] == "r-1" and lines[0]["path"] == "/x"
    assert lines[0]["timestamp"].endswith("Z")
    assert lines[1]["request_id"] == "r-1" and "path" not in lines[1]


def test_level_filters_and_stdlib_records_are_formatted_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOG_FORMAT", "json")
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    configure_logging()
    get_logger().info("hidden")
    logging.getLogger("some.library").warning("from stdlib")
    [line] = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["event"] == "from stdlib" and line["level"] == "warning"


def test_console_format_and_reconfiguring_keeps_one_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    configure_logging()
    configure_logging()
    assert len(logging.getLogger().handlers) == 1
    get_logger("console").info("readable", key="value")
    out = capsys.readouterr().out
    assert "readable" in out and "key=value" in out


def test_a_logger_cached_before_a_reconfiguration_still_follows_it() -> None:
    """Each app start calls configure_logging again: loggers cached under the earlier configuration follow."""
    configure_logging()
    logger = get_logger("chapkit.test.cached")
    logger.info("first")  # cached on first use, with the processors of that configuration
    configure_logging()
    with capture_logs() as logs:
        logger.warning("second", key=1)
    assert [(entry["event"], entry["log_level"]) for entry in logs] == [("second", "warning")]


@pytest.mark.parametrize(("level", "shown"), [("INFO", False), ("WARNING", False), ("DEBUG", True)])
def test_alembic_plugin_set_up_lines_show_at_debug_only(
    monkeypatch: pytest.MonkeyPatch, level: str, shown: bool
) -> None:
    monkeypatch.setenv("LOG_LEVEL", level)
    configure_logging()
    assert logging.getLogger("alembic.runtime.plugins").isEnabledFor(logging.INFO) is shown
    assert logging.getLogger("alembic.runtime.migration").isEnabledFor(logging.INFO) is (level != "WARNING")
