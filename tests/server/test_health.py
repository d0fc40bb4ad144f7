"""Liveness, readiness (503 until loaded and warmed), a failed load, and the docs."""

from __future__ import annotations

import threading

import httpx
from supertonic_core import BundleNotFoundError, Engine
from supertonic_server import Settings, load_engine

from .conftest import LiveServer, wait_for


def test_healthz_reports_what_is_served(client: httpx.Client) -> None:
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["ready"] is True
    assert body["model"] == "supertonic-3"
    assert body["synthetic"] is True
    assert body["sample_rate"] == 44100
    assert "alloy" in body["voices"] and "F1" in body["voices"]
    assert len(body["languages"]) == 32 and "na" in body["languages"]
    assert body["providers"] == ["CPUExecutionProvider"]
    assert body["ws_enabled"] is True


def test_docs_and_openapi(client: httpx.Client) -> None:
    assert "swagger" in client.get("/docs").text.lower()
    spec = client.get("/openapi.json").json()
    assert "/v1/audio/speech" in spec["paths"]
    assert "SpeechRequest" in spec["components"]["schemas"]


def test_not_ready_until_the_engine_is_loaded_and_warm(base_settings: Settings) -> None:
    gate = threading.Event()

    def slow_factory(settings: Settings) -> Engine:
        assert gate.wait(timeout=30)
        return load_engine(settings)

    server = LiveServer(base_settings, engine_factory=slow_factory).start(wait_ready=False)
    try:
        with httpx.Client(base_url=server.base_url) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            assert ready.json()["error"]["code"] == "model_loading"
            health = client.get("/healthz").json()
            assert health["status"] == "loading" and health["ready"] is False
            busy = client.post("/v1/audio/speech", json={"input": "Too early."})
            assert busy.status_code == 503
            assert busy.headers["retry-after"] == "2"
            assert busy.json()["error"]["code"] == "model_loading"
            assert client.get("/v1/models").status_code == 200  # static: no engine needed
            gate.set()
            wait_for(server.ready, what="readiness after the gate opened")
            assert client.post("/v1/audio/speech", json={"input": "Now."}).status_code == 200
    finally:
        gate.set()
        server.stop()


def test_a_failed_load_is_reported_and_fatal(base_settings: Settings) -> None:
    fatal: list[BaseException] = []

    def broken(settings: Settings) -> Engine:
        raise BundleNotFoundError("no bundle at /nowhere")

    server = LiveServer(base_settings.model_copy(), engine_factory=broken, on_fatal=fatal.append)
    server.start(wait_ready=False)
    try:
        wait_for(lambda: fatal, what="on_fatal")
        with httpx.Client(base_url=server.base_url) as client:
            ready = client.get("/readyz")
            assert ready.status_code == 503
            error = ready.json()["error"]
            assert error["code"] == "model_unavailable"
            assert "no bundle at /nowhere" in error["message"]
            assert client.get("/healthz").json()["status"] == "failed"
    finally:
        server.stop()


def test_unready_while_the_waiting_queue_is_full(busy: LiveServer) -> None:
    """One slot, no queue: while a stream plays the next would get 429, so /readyz says 503
    (a load balancer sends new streams elsewhere) and ready again once the slot is free."""
    slow = {"input": " ".join(["A long sentence keeps the one slot busy."] * 40), "total_steps": 32}
    with httpx.Client(base_url=busy.base_url, timeout=60) as client:
        assert client.get("/readyz").status_code == 200
        with client.stream(
            "POST", "/v1/audio/speech", json={**slow, "response_format": "pcm"}
        ) as holding:
            pieces = holding.iter_bytes()  # kept referenced: dropping it closes the connection
            next(pieces)
            full = client.get("/readyz")
            assert full.status_code == 503
            assert full.json()["error"]["code"] == "queue_full"
            assert full.headers["retry-after"] == "1"
            assert client.get("/healthz").json()["ready"] is True  # alive, only full
        wait_for(busy.idle, what="the held stream to be released")
        assert client.get("/readyz").status_code == 200
