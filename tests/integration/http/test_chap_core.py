"""chap-core's own code judges chapkit: its info model validates what services serve, its registry takes them.

These tests run chap-core's Python (`CHAPKIT_CHAP_CORE_PYTHON`: the interpreter of an environment with
chap-core installed) in subprocesses and are skipped when it is not set. The registry tests also need a
Redis server (`CHAPKIT_TEST_REDIS_URL`, default `redis://127.0.0.1:6379/13`: a database of their own).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from chapkit import MLServiceBuilder, MLServiceInfo, ModelMetadata, ServiceInfo
from chapkit.adapters.http.info_values import is_http_url, is_routable_email
from chapkit.demo.main_service import INFO as DEMO_INFO
from tests.integration.http.conftest import log_events, serve
from tests.integration.http.ml_support import HIERARCHY, SlopeConfig, ml_service, slope_runner
from tests.integration.http.registration_support import eventually, served
from tests.integration.http.test_ml_history import historic, predicted
from tests.integration.http.test_ml_history import service as history_service
from tests.support.server import free_port

PYTHON_ENV = "CHAPKIT_CHAP_CORE_PYTHON"
REDIS_ENV = "CHAPKIT_TEST_REDIS_URL"
REGISTRY_SCRIPT = Path(__file__).with_name("chap_core_registry.py")
TTL_SECONDS = 3
"""The registry's TTL in these tests (chap-core's own is 30 s): pings come every second."""


@pytest.fixture(scope="module")
def chap_core_python() -> str:
    """chap-core's interpreter, or a skip naming the variable that gives it."""
    python = os.environ.get(PYTHON_ENV)
    if not python:
        pytest.skip(f"chap-core interoperability tests need {PYTHON_ENV} (a Python with chap-core installed)")
    return python


def run_chap_core(python: str, code: str, payload: Any) -> Any:
    """Run `code` under chap-core's Python with `payload` as JSON on stdin; return the JSON it prints.

    `-P`: the working directory (this checkout) is not put on its path, so `chapkit` is chap-core's own.
    """
    result = subprocess.run(
        [python, "-P", "-c", code], input=json.dumps(payload), capture_output=True, text=True, timeout=180, check=False
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout)


VALIDATE_INFOS = """
import json, sys
from chap_core.rest_api.services.schemas import MLServiceInfo, RegistrationRequest
answers = []
for body in json.load(sys.stdin):
    try:
        info = MLServiceInfo.model_validate(body)
        RegistrationRequest(url="http://model:8000", info=body)
        answers.append({"valid": True, "info": info.model_dump(mode="json")})
    except Exception as error:
        answers.append({"valid": False, "error": str(error)})
print(json.dumps(answers))
"""


async def served_info_of(info: MLServiceInfo) -> dict[str, Any]:
    async with serve(ml_service("memory://", info=info).build()) as client:
        body: dict[str, Any] = (await client.get("/api/v1/info")).json()
    return body


async def test_chap_core_accepts_every_info_chapkit_serves(
    chap_core_python: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GIT_REVISION", "0123456789ABCDEF0123456789abcdef01234567")
    infos = [
        MLServiceInfo(display_name="Minimal"),
        DEMO_INFO,
        MLServiceInfo(
            display_name="EWARS weekly (v2)",
            version="2.1.0",
            description="Weekly dengue cases",
            author="A. Modeller",
            author_assessed_status="yellow",  # type: ignore[arg-type]
            contact_email="modeller@example.org",
            model_metadata=ModelMetadata(
                organization="HISP", repository_url="https://github.com/org/ewars", citation_info="Doe (2024)"
            ),
            period_type="week",  # type: ignore[arg-type]
            min_prediction_periods=1,
            max_prediction_periods=12,
            required_covariates=["rainfall", "mean_temperature"],
            allow_free_additional_continuous_covariates=True,
            requires_geo=True,
            target="dengue_cases",
            hpo_search_space={"ridge": {"low": 0.0, "high": 1.0}},
        ),
        # What chap-core would refuse is served flat only; the info as a whole stays valid.
        MLServiceInfo(
            display_name="Local lab",
            organization_logo_url="/static/logo.png",
            contact_email="modeller@lab.local",
            documentation_url="docs/index.html",
            git_revision="not-a-sha",
        ),
    ]
    bodies = [await served_info_of(info) for info in infos]
    # A model service written for the reference, with a plain ServiceInfo, is usable by chap-core too.
    legacy = MLServiceBuilder(
        info=ServiceInfo(display_name="Legacy model", summary="Written for the reference"),
        config_schema=SlopeConfig,
        hierarchy=HIERARCHY,
        runner=slope_runner(),
    )
    async with serve(legacy.build()) as client:
        bodies.append((await client.get("/api/v1/info")).json())
    answers = run_chap_core(chap_core_python, VALIDATE_INFOS, bodies)
    assert [answer["valid"] for answer in answers] == [True] * len(bodies), answers

    minimal, demo, full, local, legacy_info = (answer["info"] for answer in answers)
    assert legacy_info["id"] == "legacy-model" and legacy_info["period_type"] == "any"
    assert minimal["id"] == "minimal" and minimal["period_type"] == "any"
    assert (minimal["min_prediction_periods"], minimal["max_prediction_periods"]) == (0, 100)
    assert minimal["git_revision"] == "0123456789abcdef0123456789abcdef01234567"
    assert demo["period_type"] == "monthly" and demo["required_covariates"] == ["rainfall", "mean_temperature"]
    assert full["id"] == "ewars-weekly-v2" and full["version"] == "2.1.0" and full["period_type"] == "weekly"
    assert full["model_metadata"] == {
        "author": "A. Modeller",
        "author_note": None,
        "author_assessed_status": "yellow",
        "contact_email": "modeller@example.org",
        "organization": "HISP",
        "organization_logo_url": None,
        "citation_info": "Doe (2024)",
        "repository_url": "https://github.com/org/ewars",
        "documentation_url": None,
    }
    assert (full["min_prediction_periods"], full["max_prediction_periods"], full["requires_geo"]) == (1, 12, True)
    assert full["allow_free_additional_continuous_covariates"] is True and full["target"] == "dengue_cases"
    assert full["hpo_search_space"] == {"ridge": {"low": 0.0, "high": 1.0}}
    assert full["chapkit_version"] == bodies[2]["chapkit_version"] is not None
    assert local["model_metadata"]["organization_logo_url"] is None and local["git_revision"] is None


CHECK_METADATA_VALUES = """
import json, sys
from chap_core.rest_api.services.schemas import ModelMetadata
samples = json.load(sys.stdin)
def accepts(field, value):
    try:
        ModelMetadata(**{field: value})
    except Exception:
        return False
    return True
print(json.dumps({
    "emails": [accepts("contact_email", value) for value in samples["emails"]],
    "urls": [accepts("repository_url", value) for value in samples["urls"]],
}))
"""

EMAILS = [
    "modeller@example.org",
    "first.last+tag@sub.example.co.uk",
    "o'brien@example.org",
    "modeller@lab.local",
    "modeller@localhost",
    "modeller@example.test",
    "modeller@example",
    "modeller@1.2.3.4",
    "a..b@example.org",
    ".a@example.org",
    "a_b@ex_ample.org",
    "a@-example.org",
    "a@example-.org",
    '"quoted name"@example.org',
    "a@b@example.org",
]
URLS = [
    "https://example.org/logo.png",
    "http://localhost:8000/docs",
    "HTTPS://EXAMPLE.ORG",
    "http://1.2.3.4/",
    "/static/logo.png",
    "logo.png",
    "ftp://example.org/file",
    "https://",
    "https://exa mple.org",
    "https://example.org:99999/",
    "mailto:modeller@example.org",
]
# Beyond ASCII (and for IDNA-encoded domains) chapkit may be stricter than chap-core, never more lenient.
STRICTER_EMAILS = ["møller@example.org", "a@exämple.org", "a@xn--bcher-kva.example", "x" * 65 + "@example.org"]


READ_PREDICTION = """
import json, sys
from chapkit.artifact.schemas import MLPredictionArtifactData
data = MLPredictionArtifactData.model_validate(json.load(sys.stdin))
print(json.dumps({"metadata": data.metadata.model_dump(mode="json"), "content": data.content}))
"""


async def test_chap_core_reads_a_prediction_that_keeps_its_history(chap_core_python: str) -> None:
    """chap-core reads the newer shape's prediction as it reads one without history: the forecast unchanged."""
    async with serve(history_service("memory://")) as client:
        stored = await predicted(client, "chap", historic())
    assert stored["metadata"]["history"]["data"]  # a history is stored, inside `metadata`

    read = run_chap_core(chap_core_python, READ_PREDICTION, stored)

    assert read["content"] == stored["content"]
    assert "history" not in read["metadata"]  # chap-core's reader ignores the member
    assert read["metadata"] == {name: value for name, value in stored["metadata"].items() if name != "history"}


def test_chapkit_keeps_in_model_metadata_only_what_chap_core_accepts(chap_core_python: str) -> None:
    answers = run_chap_core(chap_core_python, CHECK_METADATA_VALUES, {"emails": EMAILS + STRICTER_EMAILS, "urls": URLS})
    ours = [is_routable_email(value) for value in EMAILS]
    assert ours == answers["emails"][: len(EMAILS)], list(zip(EMAILS, ours, answers["emails"], strict=False))
    assert [is_http_url(value) for value in URLS] == answers["urls"]
    for value, theirs in zip(STRICTER_EMAILS, answers["emails"][len(EMAILS) :], strict=True):
        assert not is_routable_email(value) or theirs


# ---------------------------------------------------------------- registration against chap-core's registry


@pytest.fixture(scope="module")
def redis_url() -> str:
    """A Redis database for chap-core's registry, or a skip when no Redis server answers."""
    url = os.environ.get(REDIS_ENV, "redis://127.0.0.1:6379/13")
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=2):
            pass
    except OSError:
        pytest.skip(f"chap-core's registry needs Redis at {url} ({REDIS_ENV})")
    return url


@contextmanager
def chap_core_registry(python: str, redis_url: str, port: int, directory: Path, **env: str) -> Iterator[str]:
    """Serve chap-core's registry on `port` until the block ends; yield its base URL once it answers."""
    log = directory / f"chap-core-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [python, str(REGISTRY_SCRIPT), str(port), redis_url, str(TTL_SECONDS)],
            cwd=directory,
            env={**{name: value for name, value in os.environ.items() if name != "PYTHONPATH"}, **env},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:

        def answers() -> bool:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                return httpx.get(f"{base}/v2/services", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        eventually(answers, timeout=120)  # importing chap-core takes seconds on a busy machine
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def registered(base: str, service_id: str) -> dict[str, Any] | None:
    """What chap-core's registry holds for `service_id` (None: nothing)."""
    response = httpx.get(f"{base}/v2/services/{service_id}", timeout=10)
    if response.status_code == 404:
        return None
    response.raise_for_status()
    detail: dict[str, Any] = response.json()
    return detail


@pytest.mark.slow
def test_registration_with_chap_cores_registry_survives_downtime_404_and_ttl_then_deregisters(
    chap_core_python: str, redis_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service_id = f"chapkit-test-{uuid.uuid4().hex[:10]}"
    chap_port = free_port()
    register_url = f"http://127.0.0.1:{chap_port}/v2/services/$register"
    info = MLServiceInfo(display_name="Registration test", id=service_id, period_type="monthly")
    app = ml_service("memory://", info=info).with_registration(
        orchestrator_url=register_url, host="127.0.0.1", service_key="shared-key", retry_delay=0.1, max_retry_delay=0.5
    )
    service = ExitStack()
    with service:
        port = service.enter_context(served(app.build()))
        # chap-core is down when the service starts: it keeps retrying, and serves meanwhile.
        eventually(lambda: len(log_events(caplog, "registration.failed")) >= 2)
        assert httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200

        with chap_core_registry(
            chap_core_python, redis_url, chap_port, tmp_path, SERVICEKIT_REGISTRATION_KEY="shared-key"
        ) as chap:
            eventually(lambda: registered(chap, service_id) is not None)
            first = registered(chap, service_id)
            assert first is not None and first["url"] == f"http://127.0.0.1:{port}"
            assert first["info"]["id"] == service_id and first["info"]["period_type"] == "monthly"

            # Pings a third of the TTL apart keep the one registration alive over several TTLs.
            seen = {first["last_ping_at"]}

            def pinged_often() -> bool:
                detail = registered(chap, service_id)
                assert detail is not None, "the registration lapsed"
                assert detail["registered_at"] == first["registered_at"], "the registration lapsed and was redone"
                seen.add(detail["last_ping_at"])
                return len(seen) >= 8  # seven pings: more than twice the TTL

            eventually(pinged_often)

            # An operator evicts it: the next ping answers 404 and the service registers again.
            evicted = httpx.delete(f"{chap}/v2/services/{service_id}", headers={"X-Service-Key": "shared-key"})
            assert evicted.status_code == 204
            eventually(lambda: registered(chap, service_id) is not None)
            again = registered(chap, service_id)
            assert again is not None and again["registered_at"] != first["registered_at"]
            assert log_events(caplog, "registration.lapsed")

            # The service stops while chap-core is up: it deregisters.
            service.close()
            assert registered(chap, service_id) is None
            assert log_events(caplog, "registration.deregistered")
