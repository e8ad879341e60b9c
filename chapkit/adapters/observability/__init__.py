"""Observability shared by every adapter: structured logging (and, later, metrics)."""

from chapkit.adapters.observability.logging import (
    add_request_context,
    clear_request_context,
    configure_logging,
    get_logger,
    reset_request_context,
)

__all__ = [
    "add_request_context",
    "clear_request_context",
    "configure_logging",
    "get_logger",
    "reset_request_context",
]
