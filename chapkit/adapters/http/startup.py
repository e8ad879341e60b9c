"""A service that cannot start because an optional extra is missing says so in one line.

Starlette reports a failed start-up to the server as `lifespan.startup.failed` carrying the formatted
traceback, and uvicorn logs it whole: a missing driver (`postgresql://` without asyncpg) printed a
page of traceback before the line that says what to install. `StartupFailureMiddleware` holds that
message until the failure's exception is known: a `MissingExtraError` (its message is the `pip install`
to run) replaces the traceback; any other failure is reported as Starlette wrote it.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from chapkit.domain.extras import MissingExtraError


class StartupFailureMiddleware:
    """Report a start-up that failed for a missing extra as that extra's one-line message (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        """Wrap `app`; only its lifespan is looked at."""
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass every scope on; hold a lifespan's `startup.failed` message until its cause is known."""
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def holding_send(message: Message) -> None:
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
                return
            await send(message)

        try:
            await self.app(scope, receive, holding_send)
        except BaseException as error:
            missing = _missing_extra(error)
            if held and missing is not None:
                held[:] = [{"type": "lifespan.startup.failed", "message": str(missing)}]
            for message in held:
                await send(message)
            raise
        for message in held:
            await send(message)


def _missing_extra(error: BaseException) -> MissingExtraError | None:
    """The `MissingExtraError` that `error` is, was caused by, or holds in an exception group."""
    seen: set[int] = set()
    pending = [error]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, MissingExtraError):
            return current
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        for linked in (current.__cause__, current.__context__):
            if linked is not None:
                pending.append(linked)
    return None


__all__ = ["StartupFailureMiddleware"]
