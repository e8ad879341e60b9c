"""`Registrar`: announces a service to a CHAP orchestrator and keeps the announcement alive.

The protocol is chap-core's service registry (servicekit's before it): `POST <register URL>` with
`{"id", "url", "info"}` answers a `ping_url` and a `ttl_seconds`; the registration lapses unless
`PUT ping_url` arrives within the TTL; `DELETE <register URL without "/$register">/<id>` removes it. An
`X-Service-Key` header carries the registration key when there is one.

The registrar runs as one background task of the service's lifespan and never fails the service: it
waits until the app is served (`self_probe`), takes the host's `RegistrationLock` (one worker process
registers), registers (retrying with capped exponential back-off while the orchestrator is down or
refuses), pings every third of the TTL the orchestrator answered (so two pings may be lost before the
registration lapses), registers again when a ping answers 404 (the orchestrator forgot the service:
restarted, TTL passed, evicted by an operator), and deregisters when the service stops.

A service registers when an orchestrator URL is known: `with_registration(orchestrator_url=...)`, else
`SERVICEKIT_ORCHESTRATOR_URL` (the variable chap-core deployments already set; `chapkit serve --register
URL` sets it), read when the service is built (`resolve_registration`). The advertised address is
`host`/`SERVICEKIT_HOST` (default: the host name) and `port`/`SERVICEKIT_PORT` (default: the port the
service is served on); `SERVICEKIT_REGISTRATION_KEY` is sent as `X-Service-Key`. Arguments win over the
environment. `registered(...)` keeps the service registered for the lifespan of the block.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from fastapi import FastAPI

from chapkit.adapters.http.info import ServiceInfo, service_id_of
from chapkit.adapters.http.registration_lock import RegistrationLock
from chapkit.adapters.http.self_probe import ReadinessMiddleware, served_port
from chapkit.adapters.observability import get_logger

if TYPE_CHECKING:
    import httpx  # imported where a registration runs: most services never register

SERVICE_KEY_HEADER = "X-Service-Key"
"""The header that carries the registration key."""
DEFAULT_PING_INTERVAL = 10.0
"""Seconds between pings when the orchestrator answers no TTL."""
_DEREGISTER_TIMEOUT = 5.0  # shutdown waits at most this long for an orchestrator that does not answer
_REASON_LENGTH = 300

Sleep = Callable[[float], Awaitable[None]]
"""How the registrar waits (tests pass one that records the delays)."""


@dataclass(frozen=True, slots=True)
class RegistrationSettings:
    """Where a service registers, as what, and how patiently."""

    register_url: str
    """The orchestrator's register URL, e.g. `http://chap:8000/v2/services/$register`."""
    service_id: str
    info: Mapping[str, Any]
    """The info JSON the service serves (sent with each registration)."""
    host: str
    """The host name the orchestrator reaches the service at."""
    port: int | None = None
    """The port the orchestrator reaches the service at; None: the port the service is served on."""
    service_key: str | None = None
    timeout: float = 10.0
    """Seconds each request to the orchestrator may take."""
    retry_delay: float = 1.0
    """First wait after a failed registration; doubled after each further failure, up to `max_retry_delay`."""
    max_retry_delay: float = 60.0
    deregister: bool = True
    """Whether to deregister when the service stops."""
    candidate_ports: tuple[int, ...] = ()
    """Ports to probe on loopback where this process's sockets cannot be read (e.g. `PORT`)."""
    readiness_timeout: float = 30.0
    """Seconds without the app answering on a port of its own before a warning says so (it keeps waiting)."""
    lock_directory: Path | None = field(default=None)
    """Where the one-registrar-per-host lock file lives (default: the temporary directory)."""

    @property
    def deregister_url(self) -> str:
        """`DELETE` this to remove the registration: the register URL's collection, then the id."""
        url = self.register_url.rstrip("/")
        base = url.removesuffix("/$register") if url.endswith("/$register") else url.rsplit("/", 1)[0]
        return f"{base}/{self.service_id}"


class Registrar:
    """Registers one service with an orchestrator, keeps it registered, and deregisters it (see the module)."""

    def __init__(
        self,
        settings: RegistrationSettings,
        *,
        readiness_token: str,
        transport: httpx.AsyncBaseTransport | None = None,
        find_port: Callable[[], Awaitable[int | None]] | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        """Prepare a registrar; `run()` does the work, `close()` ends it."""
        self.settings = settings
        self._token = readiness_token
        self._find_port = find_port or self._probe_own_port
        self._sleep = sleep
        import httpx

        self._client = httpx.AsyncClient(timeout=settings.timeout, transport=transport)
        self._headers = {SERVICE_KEY_HEADER: settings.service_key} if settings.service_key else {}
        self._lock: RegistrationLock | None = None
        self._log = get_logger(__name__)  # bound on first use, so each registrar logs as configured then
        self.service_url: str | None = None
        """The URL the service registers with, once it is known."""
        self.ping_url: str | None = None
        self.ping_interval = DEFAULT_PING_INTERVAL
        self.registered = False
        """Whether the orchestrator holds this service's registration (as far as the last answer said)."""

    # ---------------------------------------------------------------- the background task

    async def run(self) -> None:
        """Wait until served, take the host's lock, then register and keep registered until cancelled."""
        try:
            port = await self._wait_until_served()
            self.service_url = f"http://{self.settings.host}:{port}"
            await self._wait_for_lock(self.service_url)
            while True:
                await self._register()
                await self._keep_alive()
        except asyncio.CancelledError:
            raise
        except Exception as error:  # a bug here must never take the service down with it
            self._log.error("registration.stopped", error=f"{type(error).__name__}: {error}", exc_info=error)

    async def close(self) -> None:
        """Deregister (when this process registered and `deregister` is on), release the lock, close the client."""
        try:
            if self.registered and self.settings.deregister:
                await self._deregister()
        finally:
            self.registered = False
            if self._lock is not None:
                self._lock.release()
            await self._client.aclose()

    # ---------------------------------------------------------------- steps

    async def _probe_own_port(self) -> int | None:
        return await served_port(self._token, candidates=self.settings.candidate_ports)

    async def _wait_until_served(self) -> int:
        # Never registers an app nobody serves (an app run in process by tests, say): it waits, and says so.
        started = time.monotonic()
        delay = 0.05
        warned = False
        while True:
            port = await self._find_port()
            if port is not None:
                return self.settings.port or port
            if not warned and time.monotonic() - started > self.settings.readiness_timeout:
                warned = True
                self._log.warning(
                    "registration.not_served",
                    message="the service answers on none of this process's ports yet; it registers once it does",
                    probed_ports=list(self.settings.candidate_ports),
                )
            await self._sleep(delay)
            delay = min(delay * 2, 1.0)

    async def _wait_for_lock(self, service_url: str) -> None:
        key = f"{self.settings.register_url} {self.settings.service_id} {service_url}"
        self._lock = RegistrationLock(key, directory=self.settings.lock_directory)
        if self._lock.try_acquire():
            return
        self._log.info(
            "registration.standby",
            message="another process of this service registers it",
            service_id=self.settings.service_id,
            lock=str(self._lock.path),
        )
        while not self._lock.try_acquire():
            await self._sleep(self.settings.max_retry_delay)
        self._log.info("registration.takeover", service_id=self.settings.service_id)

    async def _register(self) -> None:
        import httpx

        body = {"id": self.settings.service_id, "url": self.service_url, "info": dict(self.settings.info)}
        failures = 0
        while True:
            try:
                response = await self._client.post(self.settings.register_url, json=body, headers=self._headers)
                if response.is_success:
                    self._registered(response)
                    return
                reason = f"HTTP {response.status_code}: {response.text[:_REASON_LENGTH]}"
            except httpx.HTTPError as error:
                reason = f"{type(error).__name__}: {error}"
            delay = self._backoff(failures)
            failures += 1
            self._log.warning(
                "registration.failed",
                orchestrator=self.settings.register_url,
                attempt=failures,
                retry_in=delay,
                reason=reason,
            )
            await self._sleep(delay)

    def _registered(self, response: httpx.Response) -> None:
        try:
            answer = response.json()
        except ValueError:
            answer = {}
        answer = answer if isinstance(answer, dict) else {}
        ping_url = answer.get("ping_url")
        self.ping_url = (
            urljoin(self.settings.register_url, ping_url)
            if isinstance(ping_url, str) and ping_url
            else f"{self.settings.deregister_url}/$ping"
        )
        ttl = answer.get("ttl_seconds")
        if isinstance(ttl, int | float) and not isinstance(ttl, bool) and ttl > 0:
            self.ping_interval = ttl / 3  # two pings may be lost before the registration lapses
        else:
            self.ping_interval = DEFAULT_PING_INTERVAL
        self.registered = True
        self._log.info(
            "registration.registered",
            service_id=self.settings.service_id,
            service_url=self.service_url,
            orchestrator=self.settings.register_url,
            ping_interval=self.ping_interval,
            orchestrator_message=answer.get("message"),
        )

    async def _keep_alive(self) -> None:
        """Ping until the orchestrator no longer knows the service (404); failures are retried sooner."""
        import httpx

        assert self.ping_url is not None
        failures = 0
        while True:
            wait = self.ping_interval if failures == 0 else min(self._backoff(failures - 1), self.ping_interval)
            await self._sleep(wait)
            try:
                response = await self._client.put(self.ping_url, headers=self._headers)
            except httpx.HTTPError as error:
                failures += 1
                self._log.warning("registration.ping_failed", reason=f"{type(error).__name__}: {error}")
                continue
            if response.status_code == 404:
                self.registered = False
                self._log.warning(
                    "registration.lapsed",
                    message="the orchestrator no longer knows this service; registering again",
                    service_id=self.settings.service_id,
                )
                return
            if response.is_success:
                failures = 0
                continue
            failures += 1
            reason = f"HTTP {response.status_code}: {response.text[:_REASON_LENGTH]}"
            self._log.warning("registration.ping_failed", reason=reason)

    async def _deregister(self) -> None:
        import httpx

        url = self.settings.deregister_url
        timeout = min(self.settings.timeout, _DEREGISTER_TIMEOUT)
        try:
            response = await self._client.delete(url, headers=self._headers, timeout=timeout)
        except httpx.HTTPError as error:
            self._log.warning("registration.deregister_failed", url=url, reason=f"{type(error).__name__}: {error}")
            return
        if response.is_success or response.status_code == 404:
            self._log.info("registration.deregistered", service_id=self.settings.service_id)
        else:
            reason = f"HTTP {response.status_code}: {response.text[:_REASON_LENGTH]}"
            self._log.warning("registration.deregister_failed", url=url, reason=reason)

    def _backoff(self, failures: int) -> float:
        """The wait after `failures + 1` failures in a row: doubling from `retry_delay`, capped."""
        return float(min(self.settings.retry_delay * 2 ** min(failures, 32), self.settings.max_retry_delay))


@dataclass(slots=True)
class RegistrationOptions:
    """What `with_registration` was given (None: the environment decides, when the service is built)."""

    orchestrator_url: str | None = None
    host: str | None = None
    port: int | None = None
    service_key: str | None = None
    timeout: float = 10.0
    retry_delay: float = 1.0
    max_retry_delay: float = 60.0
    deregister: bool = True

    def __post_init__(self) -> None:
        """Refuse settings that could never work, when `with_registration` is called."""
        if self.port is not None and not 0 < self.port < 65536:
            raise ValueError(f"port must be a TCP port number (1-65535), not {self.port}")
        for name in ("timeout", "retry_delay", "max_retry_delay"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be a positive number of seconds")
        if self.max_retry_delay < self.retry_delay:
            raise ValueError("max_retry_delay must not be shorter than retry_delay")


ORCHESTRATOR_URL_ENV = "SERVICEKIT_ORCHESTRATOR_URL"
HOST_ENV = "SERVICEKIT_HOST"
PORT_ENV = "SERVICEKIT_PORT"
REGISTRATION_KEY_ENV = "SERVICEKIT_REGISTRATION_KEY"

AUTH_WARNING = (
    "this service requires an API key, and chap-core sends none: chap-core can register it but cannot call it"
)


@dataclass(frozen=True, slots=True)
class Registration:
    """A service's registration, resolved when it is built: the settings and its readiness token."""

    settings: RegistrationSettings
    readiness_token: str


def resolve_registration(
    options: RegistrationOptions | None, info: ServiceInfo, environ: Mapping[str, str]
) -> Registration | None:
    """The service's registration, or None when no orchestrator URL is known; a malformed setting raises."""
    options = options or RegistrationOptions()
    url = options.orchestrator_url or environ.get(ORCHESTRATOR_URL_ENV) or None
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(
            f"the orchestrator URL {url!r} is not an http(s) URL (e.g. http://chap:8000/v2/services/$register)"
        )
    port = options.port if options.port is not None else _port(environ.get(PORT_ENV), PORT_ENV)
    body = info.model_dump(mode="json")
    service_id = service_id_of(info)
    body.setdefault("id", service_id)
    settings = RegistrationSettings(
        register_url=url,
        service_id=service_id,
        info=body,
        host=options.host or environ.get(HOST_ENV) or socket.gethostname(),
        port=port,
        service_key=options.service_key or environ.get(REGISTRATION_KEY_ENV) or None,
        timeout=options.timeout,
        retry_delay=options.retry_delay,
        max_retry_delay=options.max_retry_delay,
        deregister=options.deregister,
        candidate_ports=tuple(p for p in (port, _port_or_none(environ.get("PORT"))) if p is not None),
    )
    # The same for every worker process of one service, so any of them answers another's probe.
    token = hashlib.sha256(json.dumps([url, service_id, body], sort_keys=True).encode()).hexdigest()[:32]
    return Registration(settings=settings, readiness_token=token)


def install_readiness(app: FastAPI, registration: Registration) -> None:
    """Answer the registrar's readiness probes outside every other layer, middleware added later included."""
    build_stack = app.build_middleware_stack

    def build_with_readiness() -> Any:
        return ReadinessMiddleware(build_stack(), token=registration.readiness_token)

    app.build_middleware_stack = build_with_readiness  # type: ignore[method-assign]


@asynccontextmanager
async def registered(registration: Registration | None, *, auth_on: bool) -> AsyncIterator[None]:
    """Keep the service registered while the block runs (in the background); deregister when it ends."""
    if registration is None:
        yield
        return
    if auth_on:
        get_logger(__name__).warning("registration.auth", message=AUTH_WARNING)
    registrar = Registrar(registration.settings, readiness_token=registration.readiness_token)
    task = asyncio.create_task(registrar.run(), name=f"chapkit-registration-{registration.settings.service_id}")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await registrar.close()


def _port(value: str | None, name: str) -> int | None:
    if not value:
        return None
    port = _port_or_none(value)
    if port is None:
        raise ValueError(f"{name}={value!r} is not a port number")
    return port


def _port_or_none(value: str | None) -> int | None:
    try:
        port = int(value or "")
    except ValueError:
        return None
    return port if 0 < port < 65536 else None


__all__ = [
    "AUTH_WARNING",
    "DEFAULT_PING_INTERVAL",
    "HOST_ENV",
    "ORCHESTRATOR_URL_ENV",
    "PORT_ENV",
    "REGISTRATION_KEY_ENV",
    "SERVICE_KEY_HEADER",
    "Registrar",
    "Registration",
    "RegistrationOptions",
    "RegistrationSettings",
    "Sleep",
    "install_readiness",
    "registered",
    "resolve_registration",
]
