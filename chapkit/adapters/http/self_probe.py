"""Is this app being served yet, and on which port: what a service must know before it registers.

The lifespan's start-up ends before the server listens, so a registration sent then would name a service
that cannot be reached yet. `ReadinessMiddleware` answers a request carrying this service's readiness token
itself (204, the token echoed), before any other layer (auth, routes) sees it; `served_port` finds the TCP
sockets this process listens on (uvicorn's, also when it was started with `--port` by hand or shares one
socket among several worker processes) and asks each for the token. The first that echoes it is the port
served, and the service is ready.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.types import ASGIApp, Message, Receive, Scope, Send

READINESS_HEADER = "x-chapkit-readiness"
"""The header a readiness probe carries, and its answer echoes."""
_PROBE_PATH = "/.chapkit-readiness"

if TYPE_CHECKING:
    import httpx  # imported when a probe runs (registration only)
_WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}  # wildcards are asked on loopback


class ReadinessMiddleware:
    """Answer a readiness probe carrying `token` with 204 (the token echoed); pass everything else on."""

    def __init__(self, app: ASGIApp, *, token: str) -> None:
        """Wrap `app`; only requests with `token` in the readiness header are answered here."""
        self.app = app
        self._token = token.encode("latin-1")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer this service's probes, hand every other request to the app."""
        if scope["type"] == "http" and self._is_probe(scope):
            start: Message = {
                "type": "http.response.start",
                "status": 204,
                "headers": [(READINESS_HEADER.encode("latin-1"), self._token)],
            }
            await send(start)
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)

    def _is_probe(self, scope: Scope) -> bool:
        name = READINESS_HEADER.encode("latin-1")
        return any(key == name and value == self._token for key, value in scope.get("headers", ()))


def listening_addresses() -> list[tuple[str, int]]:
    """The (address, port) of every TCP socket this process listens on (empty where that cannot be read)."""
    directory = Path("/proc/self/fd") if Path("/proc/self/fd").is_dir() else Path("/dev/fd")
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    found: list[tuple[str, int]] = []
    for name in names:
        if name.isdigit():
            address = _listening_address(int(name))
            if address is not None and address not in found:
                found.append(address)
    return found


def _listening_address(fd: int) -> tuple[str, int] | None:
    try:
        if not stat.S_ISSOCK(os.fstat(fd).st_mode):
            return None
        # A duplicate, so closing our socket object leaves the server's own descriptor open.
        with socket.socket(fileno=os.dup(fd)) as sock:
            if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.type != socket.SOCK_STREAM:
                return None
            accepting = getattr(socket, "SO_ACCEPTCONN", None)
            if accepting is not None and not sock.getsockopt(socket.SOL_SOCKET, accepting):
                return None
            host, port = sock.getsockname()[:2]
    except OSError:
        return None
    return str(host), int(port)


def probe_url(address: str, port: int) -> str:
    """The URL a probe of a socket bound to `address` asks (a wildcard address is asked on loopback)."""
    host = _WILDCARDS.get(address, address)
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}{_PROBE_PATH}"


async def served_port(
    token: str,
    *,
    candidates: Iterable[int] = (),
    timeout: float = 2.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> int | None:
    """The port on which this service answers its readiness probe, or None while it answers on none.

    Asks the sockets this process listens on, then `candidates` (ports to try on loopback where the
    sockets cannot be read).
    """
    import httpx

    targets = listening_addresses()
    targets += [("127.0.0.1", port) for port in candidates if ("127.0.0.1", port) not in targets]
    async with httpx.AsyncClient(timeout=timeout, transport=transport, trust_env=False) as client:
        for address, port in targets:
            try:
                response = await client.get(probe_url(address, port), headers={READINESS_HEADER: token})
            except httpx.HTTPError:
                continue
            if response.status_code == 204 and response.headers.get(READINESS_HEADER) == token:
                return port
    return None


__all__ = ["READINESS_HEADER", "ReadinessMiddleware", "listening_addresses", "probe_url", "served_port"]
