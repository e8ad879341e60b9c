"""A served service registers with an orchestrator: at the port it is served on, once ready, until it stops."""

from __future__ import annotations

import httpx
import pytest

from chapkit import MLServiceBuilder, MLServiceInfo, ServiceBuilder, ServiceInfo
from tests.integration.http.conftest import log_events, serve
from tests.integration.http.ml_support import HIERARCHY, SlopeConfig, ml_service, slope_runner
from tests.integration.http.registration_support import eventually, orchestrator, served

FAST = {"retry_delay": 0.05, "max_retry_delay": 0.2}


def test_a_service_registers_at_the_port_it_is_served_on_pings_and_deregisters_on_shutdown() -> None:
    chap, registry = orchestrator(ttl=1)
    with served(chap) as chap_port:
        register_url = f"http://127.0.0.1:{chap_port}/v2/services/$register"
        info = MLServiceInfo(display_name="Slope model", period_type="monthly")
        app = ml_service("memory://", info=info).with_registration(
            orchestrator_url=register_url, host="127.0.0.1", **FAST
        )
        with served(app.build()) as port:
            eventually(lambda: len(registry.pings) >= 3)  # a third of the 1 s TTL apart
            [registration] = registry.registrations
            assert registration["id"] == "slope-model" and registration["url"] == f"http://127.0.0.1:{port}"
            # What the orchestrator stored is what the service serves, and the URL reaches it.
            served_info = httpx.get(f"{registration['url']}/api/v1/info").json()
            assert registration["info"] == served_info
            assert registry.live == {"slope-model": f"http://127.0.0.1:{port}"}
        assert registry.deletes == ["slope-model"] and registry.live == {}


def test_the_environment_turns_registration_on_with_key_host_and_advertised_port(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    chap, registry = orchestrator()
    with served(chap) as chap_port:
        monkeypatch.setenv("SERVICEKIT_ORCHESTRATOR_URL", f"http://127.0.0.1:{chap_port}/v2/services/$register")
        monkeypatch.setenv("SERVICEKIT_HOST", "model.example.org")
        monkeypatch.setenv("SERVICEKIT_PORT", "9090")
        monkeypatch.setenv("SERVICEKIT_REGISTRATION_KEY", "registration-key")
        app = ServiceBuilder(info=ServiceInfo(display_name="Plain Service")).with_health().build()
        with served(app):
            eventually(lambda: len(registry.registrations) == 1)
            [registration] = registry.registrations
        assert registration["url"] == "http://model.example.org:9090"
        # A plain ServiceInfo serves the reference's fields; its registration carries the derived id.
        assert registration["id"] == registration["info"]["id"] == "plain-service"
        assert set(registry.keys) == {"registration-key"}
        assert registry.deletes == ["plain-service"]


def test_without_an_orchestrator_url_nothing_registers_and_no_probe_is_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SERVICEKIT_ORCHESTRATOR_URL", raising=False)
    app = ServiceBuilder(info=ServiceInfo(display_name="x")).with_registration(**FAST).build()
    with served(app) as port:
        answer = httpx.get(f"http://127.0.0.1:{port}/.chapkit-readiness", headers={"x-chapkit-readiness": "x"})
        assert answer.status_code == 404


def test_registration_with_auth_warns_that_chap_core_cannot_call_it_and_still_registers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    chap, registry = orchestrator()
    with served(chap) as chap_port:
        app = (
            ServiceBuilder(info=MLServiceInfo(display_name="Locked"))
            .with_auth(api_keys=["sk-local-key"])
            .with_registration(orchestrator_url=f"http://127.0.0.1:{chap_port}/v2/services/$register", **FAST)
            .build()
        )
        with served(app):
            # The readiness probe passes auth: it is answered outside every other layer.
            eventually(lambda: len(registry.registrations) == 1)
    [warning] = log_events(caplog, "registration.auth")
    assert warning["level"] == "warning" and "chap-core sends none" in warning["message"]


def test_an_orchestrator_that_never_answers_neither_blocks_nor_fails_the_service(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from tests.support.server import free_port

    nowhere = f"http://127.0.0.1:{free_port()}/v2/services/$register"
    app = ml_service("memory://").with_registration(orchestrator_url=nowhere, **FAST).build()
    with served(app) as port:
        assert httpx.get(f"http://127.0.0.1:{port}/health").json()["status"] == "healthy"
        eventually(lambda: len(log_events(caplog, "registration.failed")) >= 3)
    failures = log_events(caplog, "registration.failed")
    assert [entry["retry_in"] for entry in failures[:3]] == [0.05, 0.1, 0.2]
    assert log_events(caplog, "registration.deregistered") == []


def test_start_up_warns_about_what_chap_core_will_miss(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GIT_REVISION", raising=False)
    info = MLServiceInfo(display_name="x", organization_logo_url="/static/logo.png")
    with served(ml_service("memory://", info=info).build()) as port:
        body = httpx.get(f"http://127.0.0.1:{port}/api/v1/info").json()
    assert body["organization_logo_url"] == "/static/logo.png"
    assert body["model_metadata"]["organization_logo_url"] is None
    messages = [entry["message"] for entry in log_events(caplog, "info.chap_core")]
    assert len(messages) == 2
    assert "organization_logo_url" in messages[0] and "git_revision is unset" in messages[1]


def test_malformed_registration_settings_are_refused_when_the_service_is_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = ServiceBuilder(info=ServiceInfo(display_name="x"))
    with pytest.raises(ValueError, match="not an http"):
        builder.with_registration(orchestrator_url="chap:8000/v2/services/$register").build()
    monkeypatch.setenv("SERVICEKIT_ORCHESTRATOR_URL", "http://chap:8000/v2/services/$register")
    monkeypatch.setenv("SERVICEKIT_PORT", "eighty")
    with pytest.raises(ValueError, match="SERVICEKIT_PORT"):
        ServiceBuilder(info=ServiceInfo(display_name="x")).build()
    for bad in ({"port": 0}, {"retry_delay": 0}, {"retry_delay": 5, "max_retry_delay": 1}, {"timeout": -1}):
        with pytest.raises(ValueError):
            builder.with_registration(**bad)  # type: ignore[arg-type]


async def test_a_model_service_built_with_a_plain_service_info_serves_chap_cores_fields_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GIT_REVISION", "abcdef1")
    legacy = MLServiceBuilder(
        info=ServiceInfo(display_name="Legacy model", version="0.3.0", summary="Written for the reference"),
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=slope_runner(),
        include_logging=False,
    )
    async with serve(legacy.build()) as client:
        body = (await client.get("/api/v1/info")).json()
    assert body["display_name"] == "Legacy model" and body["summary"] == "Written for the reference"
    assert body["id"] == "legacy-model" and body["period_type"] == "any" and body["git_revision"] == "abcdef1"
    assert (body["min_prediction_periods"], body["max_prediction_periods"]) == (0, 100)

    class OwnInfo(ServiceInfo):
        team: str

    plain = ServiceBuilder(info=OwnInfo(display_name="Own", team="a")).build()
    async with serve(plain) as client:
        assert (await client.get("/api/v1/info")).json()["team"] == "a"
    without_ml = ServiceBuilder(info=ServiceInfo(display_name="No model")).build()
    async with serve(without_ml) as client:
        assert "id" not in (await client.get("/api/v1/info")).json()
