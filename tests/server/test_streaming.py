"""Cancellation, back-pressure and shutdown: nothing leaks, every outcome is reported."""

from __future__ import annotations

import json
import socket
import threading

import httpx
import openai
import pytest
from supertonic_server import Settings

from .conftest import LiveServer, RecordingMetrics, decode, wait_for

#: Long enough that synthesizing all of it at 32 steps takes far longer than any test.
LONG = " ".join(f"Sentence number {i} keeps the synthesizer busy for a while." for i in range(60))
SLOW = {"input": LONG, "response_format": "pcm", "total_steps": 32}


def test_client_disconnect_mid_stream_stops_synthesis(
    live: LiveServer, recorder: RecordingMetrics
) -> None:
    with (
        httpx.Client(base_url=live.base_url, timeout=60) as client,
        client.stream("POST", "/v1/audio/speech", json=SLOW) as response,
    ):
        assert response.status_code == 200
        first = next(response.iter_bytes())
        assert first
    # The connection is closed here, long before the text is spoken.
    wait_for(live.idle, what="the scheduler to drop the stream and its jobs")
    record = wait_for(
        lambda: recorder.records and recorder.records[0].finished and recorder.records[0]
    )
    assert record.finished == [("cancelled", None)]
    assert not live.app.state.lifecycle.streams


def test_client_gone_before_the_first_byte_leaks_nothing(
    live: LiveServer, recorder: RecordingMetrics
) -> None:
    payload = json.dumps(SLOW)
    request = (
        f"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n{payload}"
    )
    with socket.create_connection(("127.0.0.1", live.port), timeout=30) as sock:
        sock.sendall(request.encode())
    wait_for(lambda: recorder.records and recorder.records[0].finished, what="the request to end")
    wait_for(live.idle, what="the scheduler to be idle")
    assert recorder.records[0].finished == [("cancelled", None)]


def test_full_queue_answers_429_with_retry_after(busy: LiveServer) -> None:
    with httpx.Client(base_url=busy.base_url, timeout=60) as client:
        with client.stream("POST", "/v1/audio/speech", json=SLOW) as holding:
            assert holding.status_code == 200
            pieces = holding.iter_bytes()  # kept referenced: dropping it closes the connection
            next(pieces)  # admitted and playing: the only slot is taken

            refused = client.post("/v1/audio/speech", json={"input": "Me too."})
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1
            error = refused.json()["error"]
            assert error["type"] == "rate_limit_error"
            assert error["code"] == "busy"
            assert "busy" in error["message"]

            sdk = openai.OpenAI(base_url=f"{busy.base_url}/v1", api_key="x", max_retries=0)
            with pytest.raises(openai.RateLimitError) as caught:
                sdk.audio.speech.create(model="tts-1", voice="alloy", input="Me too.")
            assert caught.value.code == "busy"

        wait_for(busy.idle, what="the held stream to be released")
        again = client.post("/v1/audio/speech", json={"input": "Now there is room."})
        assert again.status_code == 200


def test_a_client_leaving_while_queued_leaves_the_queue(base_settings: Settings) -> None:
    server = LiveServer(
        base_settings.model_copy(
            update={"max_concurrent": 1, "max_queue": 1, "total_steps": 32, "warmup": False}
        )
    ).start()
    try:
        with (
            httpx.Client(base_url=server.base_url, timeout=60) as client,
            client.stream("POST", "/v1/audio/speech", json=SLOW) as holding,
        ):
            pieces = holding.iter_bytes()
            next(pieces)
            payload = json.dumps({"input": "Waiting my turn.", "response_format": "pcm"})
            request = (
                "POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n{payload}"
            )
            with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
                sock.sendall(request.encode())
                wait_for(
                    lambda: server.engine.scheduler.state()["waiting_streams"] == 1,
                    what="the second stream to queue",
                )
            wait_for(
                lambda: server.engine.scheduler.state()["waiting_streams"] == 0,
                what="the queued stream to leave",
            )
            assert server.engine.scheduler.state()["active_streams"] == 1  # the first plays on
        wait_for(server.idle, what="everything released")
        assert not server.app.state.lifecycle.streams
    finally:
        server.stop()


def test_shutdown_cancels_streams_that_outlive_the_grace(base_settings: Settings) -> None:
    server = LiveServer(
        base_settings.model_copy(update={"shutdown_grace": 1.0, "warmup": False})
    ).start()
    engine = server.engine
    outcome: dict[str, object] = {}

    def listen() -> None:
        try:
            with (
                httpx.Client(base_url=server.base_url, timeout=60) as client,
                client.stream("POST", "/v1/audio/speech", json=SLOW) as response,
            ):
                for piece in response.iter_bytes():
                    outcome.setdefault("first", piece)
                outcome["ended"] = "cleanly"
        except httpx.HTTPError as exc:
            outcome["ended"] = type(exc).__name__

    listener = threading.Thread(target=listen)
    listener.start()
    wait_for(lambda: "first" in outcome, what="the first audio bytes")
    server.stop()  # bounded: raises if the thread is still alive after 30 s
    listener.join(timeout=30)
    assert not listener.is_alive()
    assert "ended" in outcome
    assert server.app.state.lifecycle.status == "draining"
    assert not server.app.state.lifecycle.streams
    state = engine.scheduler.state()
    assert state["active_streams"] == 0 and state["queued_jobs"] == 0


THREE = "First sentence is here. Second sentence follows it. Third one ends the text."


@pytest.fixture()
def vocoder_fails_after_first_chunk(live: LiveServer, monkeypatch: pytest.MonkeyPatch) -> float:
    """The second vocoder call of the request raises, as a broken device would.

    Returns the duration the whole of ``THREE`` has (seed 0) when nothing fails.
    """
    engine = live.engine
    full_s = len(engine.synthesize(THREE, engine.options(seed=0))) / engine.sample_rate
    runtime = engine.runtime
    real = runtime.run
    calls = {"vocoder": 0}

    def flaky(graph: str, feeds: dict) -> object:
        if graph == "vocoder":
            calls["vocoder"] += 1
            if calls["vocoder"] >= 2:
                raise RuntimeError("simulated device failure")
        return real(graph, feeds)

    monkeypatch.setattr(runtime, "run", flaky)
    return full_s


def test_failure_after_the_first_byte_ends_audio_cleanly_and_counts_an_error(
    live: LiveServer,
    client: httpx.Client,
    recorder: RecordingMetrics,
    vocoder_fails_after_first_chunk: float,
) -> None:
    body = {"input": THREE, "response_format": "wav", "seed": 0}
    response = client.post("/v1/audio/speech", json=body)
    assert response.status_code == 200  # already sent when the failure happened
    samples, rate = decode("wav", response.content)  # a valid file: the first chunk only
    (record,) = recorder.records
    assert abs(len(samples) / rate - record.audio_s) < 0.01
    assert 0 < record.audio_s < vocoder_fails_after_first_chunk * 0.8
    assert record.finished == [("error", "RuntimeError: simulated device failure")]
    wait_for(live.idle, what="the failed stream to be released")


@pytest.mark.usefixtures("vocoder_fails_after_first_chunk")
def test_failure_after_the_first_event_ends_sse_with_an_error_event(
    client: httpx.Client, recorder: RecordingMetrics
) -> None:
    body = {"input": THREE, "response_format": "pcm", "stream_format": "sse"}
    with client.stream("POST", "/v1/audio/speech", json=body) as response:
        rid = response.headers["x-request-id"]
        events = [json.loads(line[6:]) for line in response.iter_lines() if line]
    types = [e["type"] for e in events]
    assert types[0] == "speech.audio.delta"
    assert types[-1] == "error" and "speech.audio.done" not in types
    error = events[-1]["error"]
    assert error["code"] == "synthesis_failed" and rid in error["message"]
    assert recorder.records[0].finished[0][0] == "error"
