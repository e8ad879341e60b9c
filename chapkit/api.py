"""Service-building names (D1): builders, routers, middleware and helpers arrive with the HTTP adapter."""

from chapkit.adapters.observability import (
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
