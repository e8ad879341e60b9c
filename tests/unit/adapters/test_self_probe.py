"""The readiness probe: this process's listening sockets, the probe URL, and the middleware that answers it."""

from __future__ import annotations

import socket
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from chapkit.adapters.http.registration_lock import RegistrationLock
from chapkit.adapters.http.self_probe import READINESS_HEADER, ReadinessMiddleware, listening_addresses, probe_url


def test_the_sockets_this_process_listens_on_are_found_and_others_are_not() -> None:
    with socket.socket() as listening, socket.socket() as bound_only, socket.socket(type=socket.SOCK_DGRAM) as udp:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        bound_only.bind(("127.0.0.1", 0))
        udp.bind(("127.0.0.1", 0))
        port = listening.getsockname()[1]
        found = listening_addresses()
        assert ("127.0.0.1", port) in found
        assert ("127.0.0.1", bound_only.getsockname()[1]) not in found
        assert ("127.0.0.1", udp.getsockname()[1]) not in found
    assert ("127.0.0.1", port) not in listening_addresses()


@pytest.mark.parametrize(
    ("address", "url"),
    [
        ("0.0.0.0", "http://127.0.0.1:8000/.chapkit-readiness"),
        ("::", "http://[::1]:8000/.chapkit-readiness"),
        ("10.1.2.3", "http://10.1.2.3:8000/.chapkit-readiness"),
        ("fe80::1", "http://[fe80::1]:8000/.chapkit-readiness"),
    ],
)
def test_a_wildcard_address_is_probed_on_loopback(address: str, url: str) -> None:
    assert probe_url(address, 8000) == url


async def test_the_middleware_answers_its_own_token_only_and_passes_everything_else_on() -> None:
    app = FastAPI()

    @app.get("/.chapkit-readiness")
    async def taken() -> dict[str, str]:
        return {"served_by": "the app"}

    wrapped = ReadinessMiddleware(app, token="t0ken")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://test") as client:
        probe = await client.get("/anything", headers={READINESS_HEADER: "t0ken"})
        assert probe.status_code == 204 and probe.headers[READINESS_HEADER] == "t0ken" and probe.content == b""
        other = await client.get("/.chapkit-readiness", headers={READINESS_HEADER: "another"})
        assert other.json() == {"served_by": "the app"} and READINESS_HEADER not in other.headers


def test_a_lock_file_planted_as_a_symlink_is_neither_followed_nor_damaged(tmp_path: Path) -> None:
    lock = RegistrationLock("k", directory=tmp_path)
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    lock.path.symlink_to(precious)
    assert lock.try_acquire()  # runs unlocked rather than not at all
    lock.release()
    assert precious.read_text() == "keep me"
