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
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx

from chapkit.adapters.http.registration_lock import RegistrationLock
from chapkit.adapters.http.self_probe import served_port
from chapkit.adapters.observability import get_logger

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


__all__ = ["DEFAULT_PING_INTERVAL", "SERVICE_KEY_HEADER", "Registrar", "RegistrationSettings", "Sleep"]
