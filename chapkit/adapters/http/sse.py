"""Server-Sent Events: the `data: <json>` framing and the headers every chapkit stream sends."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

SSE_HEADERS = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
"""Headers that keep proxies from buffering or caching a stream."""

SSE_MEDIA_TYPE = "text/event-stream"


def format_sse_event(data: Any) -> bytes:
    """Frame a JSON-encodable value as one SSE event."""
    return b"data: " + json.dumps(data).encode() + b"\n\n"


def format_sse_model_event(model: BaseModel, *, exclude_none: bool = False) -> bytes:
    """Frame a pydantic model as one SSE event (JSON mode, so ULIDs and datetimes are strings)."""
    return b"data: " + model.model_dump_json(exclude_none=exclude_none).encode() + b"\n\n"


__all__ = ["SSE_HEADERS", "SSE_MEDIA_TYPE", "format_sse_event", "format_sse_model_event"]
