"""Backend-specific behaviour: capacity, keys, lost connections, loading, and the error
mapping that gives each failure its LiveKit type and retryability."""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest
from livekit.agents import (
    APIConnectionError,
    APIConnectOptions,
    APIError,
    APIStatusError,
    APITimeoutError,
)
from livekit.plugins import supertonic
from livekit.plugins.supertonic.backends import RemoteBackend, api_error, api_error_from_event
from supertonic_core import (
    BundleNotFoundError,
    CapacityError,
    Engine,
    UnknownVoiceError,
    mux,
)
from supertonic_core.bundle import Bundle
from supertonic_core.client import SpeechClientError
from supertonic_core.errors import ErrorCode
from supertonic_core.protocol import Error
from supertonic_server import Settings
from supertonic_server.testing import LiveServer, wait_for

from .conftest import API_KEY, NO_RETRY, Backend, capture
from .test_tts import transcripts

TEXT = "Hello there, this is a test."


@pytest.fixture(params=["in-process", "remote"])
async def busy_backend(request: pytest.FixtureRequest, tiny_bundle: Bundle):
    """A backend whose engine runs one stream at a time with no queue."""
    if request.param == "remote":
        server = request.getfixturevalue("lk_busy_server")
        backend = Backend(
            "remote", server.engine, base_url=server.base_url, tts_kwargs={"api_key": API_KEY}
        )
        yield backend
        await backend.aclose()
    else:
        engine = Engine(tiny_bundle, max_streams=1, max_queue=0)
        backend = Backend("in-process", engine)
        yield backend
        await backend.aclose()
        engine.close()


async def test_busy_engine_is_a_retryable_429(busy_backend: Backend) -> None:
    tts_ = busy_backend.tts()
    holder = tts_.stream()
    holder.push_text("This stream holds the only place. And it keeps it")  # not ended
    await asyncio.wait_for(anext(holder), 20)  # admitted and speaking
    with pytest.raises(APIStatusError) as info:
        await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()
    assert info.value.status_code == 429 and info.value.retryable
    assert "busy" in info.value.message
    await holder.aclose()
    await asyncio.to_thread(wait_for, busy_backend.idle, timeout=10, what="the holder to leave")
    # once the place is free the same request succeeds
    assert (await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()).duration > 0


async def test_wrong_api_key_is_a_non_retryable_401(lk_busy_server) -> None:
    tts_ = supertonic.TTS(base_url=lk_busy_server.base_url, api_key="wrong-key-123")
    errors = capture(tts_, "error")
    try:
        with pytest.raises(APIStatusError) as info:
            await tts_.synthesize(TEXT, conn_options=APIConnectOptions(max_retry=2)).collect()
        assert info.value.status_code == 401 and not info.value.retryable
        assert "wrong-key-123" not in repr(info.value) and "wrong-key-123" not in str(info.value)
        assert [e.recoverable for e in errors()] == [False]
    finally:
        await tts_.aclose()


async def test_api_key_from_the_environment(
    lk_busy_server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERTONIC_API_KEY", API_KEY)
    tts_ = supertonic.TTS(base_url=lk_busy_server.base_url)
    try:
        assert (await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()).duration > 0
    finally:
        await tts_.aclose()


async def test_unreachable_server_is_a_connection_error() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    tts_ = supertonic.TTS(base_url=f"http://127.0.0.1:{port}")
    try:
        with pytest.raises(APIConnectionError) as info:
            await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()
        assert info.value.retryable and not isinstance(info.value, APIStatusError)
    finally:
        await tts_.aclose()


async def test_a_socket_dropped_mid_stream_is_resumed_without_losing_a_word(lk_server) -> None:
    """The network drops the socket after the first audio: the stream reconnects, sends
    only the text not yet spoken, and ends normally; the aligned transcript has every word
    once, in order (issue 24)."""
    tts_ = supertonic.TTS(base_url=lk_server.base_url, steps=32)
    text = " ".join(f"Sentence {n} takes a while to say." for n in range(1, 13))
    try:
        stream = tts_.stream(conn_options=NO_RETRY)
        stream.push_text(text)
        stream.end_input()
        events = [await asyncio.wait_for(anext(stream), 20)]
        backend = tts_._backend
        assert isinstance(backend, RemoteBackend)
        (connection,) = backend._pool._connections
        connection.conn._ws.transport.abort()  # the network drops the socket
        events += [event async for event in stream]
        assert "".join(transcripts(events)).split() == text.split()
        await stream.aclose()
        await asyncio.to_thread(wait_for, lk_server.idle, timeout=10, what="the server to idle")
    finally:
        await tts_.aclose()


async def test_pooled_socket_is_reused(lk_server) -> None:
    tts_ = supertonic.TTS(base_url=lk_server.base_url)
    try:
        tts_.prewarm()
        backend = tts_._backend
        assert isinstance(backend, RemoteBackend)
        await asyncio.to_thread(wait_for, lambda: backend._pool._connections, what="prewarm")
        (first,) = backend._pool._connections
        assert first.conn._ws.protocol.extensions == []  # PCM is sent uncompressed
        for _ in range(2):
            await tts_.synthesize(TEXT).collect()
        # an interrupted stream's socket is reused too, once the server confirmed the cancel
        stream = tts_.stream()
        stream.push_text(" ".join(["A sentence to interrupt."] * 10))
        stream.end_input()
        await asyncio.wait_for(anext(stream), 20)
        await stream.aclose()
        await tts_.synthesize(TEXT).collect()
        assert list(backend._pool._connections) == [first]
    finally:
        await tts_.aclose()


async def test_in_process_prewarm_loads_and_aclose_frees(tiny_bundle_dir: Path) -> None:
    tts_ = supertonic.TTS(model_dir=tiny_bundle_dir)
    assert tts_.engine is None
    tts_.prewarm()
    await asyncio.to_thread(wait_for, lambda: tts_.engine, what="the model to load")
    engine = tts_.engine
    assert engine.scheduler.calls > 0  # warmed up: the first request pays no set-up
    assert (await tts_.synthesize(TEXT).collect()).duration > 0
    await tts_.aclose()
    assert tts_.engine is None
    assert not engine.scheduler._threads
    with pytest.raises(APIConnectionError):
        await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()


async def test_model_dir_from_the_environment(
    tiny_bundle_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SUPERTONIC_MODEL_DIR", str(tiny_bundle_dir))
    tts_ = supertonic.TTS()
    try:
        assert (await tts_.synthesize(TEXT).collect()).duration > 0
    finally:
        await tts_.aclose()


async def test_missing_model_is_a_non_retryable_error(tmp_path: Path) -> None:
    tts_ = supertonic.TTS(model_dir=tmp_path / "nothing-here")
    errors = capture(tts_, "error")
    try:
        with pytest.raises(APIError) as info:
            await tts_.synthesize(TEXT, conn_options=APIConnectOptions(max_retry=2)).collect()
        assert not info.value.retryable and "download-files" in str(info.value)
        assert len(errors()) == 1
    finally:
        await tts_.aclose()


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="sample_rate"):
        supertonic.TTS(sample_rate=12345)
    with pytest.raises(ValueError, match="speed"):
        supertonic.TTS(speed=0.1)
    with pytest.raises(ValueError, match="base_url"):
        supertonic.TTS(base_url="http://127.0.0.1:1", model_dir="/models")
    with pytest.raises(ValueError, match="phrase_cache"):
        supertonic.TTS(base_url="http://127.0.0.1:1", phrase_cache=8)


def test_a_phrase_cache_for_an_engine_passed_in_is_refused(engine: Engine) -> None:
    with pytest.raises(ValueError, match="phrase_cache"):
        supertonic.TTS(engine=engine, phrase_cache=8)


async def test_the_loaded_engine_gets_a_phrase_cache(tiny_bundle_dir: Path) -> None:
    tts_ = supertonic.TTS(model_dir=tiny_bundle_dir, phrase_cache=8)
    try:
        for _ in range(2):
            assert (await tts_.synthesize("Sure.").collect()).duration > 0
        stats = tts_.engine.phrase_cache.stats()
        assert stats["capacity"] == 8 and stats["hits"] >= 1
    finally:
        await tts_.aclose()


@pytest.mark.parametrize(
    ("code", "status", "retryable"),
    [
        ("invalid_request", 400, False),
        ("invalid_config", 400, False),
        ("unauthorized", 401, False),
        ("busy", 429, True),
        ("synthesis_failed", 500, True),
        ("model_loading", 503, True),
        ("something_new", 500, True),
    ],
)
def test_error_events_map_to_status(code: str, status: int, retryable: bool) -> None:
    error = api_error_from_event(Error("why", code=code, context_id="c"))
    assert isinstance(error, APIStatusError)
    assert (error.status_code, error.retryable) == (status, retryable)


@pytest.mark.parametrize("code", [c for c in ErrorCode if not c.retryable], ids=str)
def test_every_code_a_retry_cannot_fix_is_final(code: ErrorCode) -> None:
    """Each code the session may send is in the table; those a retry cannot fix are never
    retried (``input_too_long`` was an unknown code, so a retryable 500: an over-long input
    was sent again and again)."""
    error = api_error_from_event(Error("why", code=code, context_id="c"))
    assert not error.retryable
    if isinstance(error, APIStatusError):
        assert error.status_code == code.status


@pytest.fixture(scope="module")
def lk_short_server(tiny_bundle_dir: Path):
    """A server that takes at most 40 characters of waiting text per context."""
    settings = Settings(model_dir=str(tiny_bundle_dir), max_input_chars=40, warmup=False)
    server = LiveServer(settings).start()
    yield server
    server.stop()


async def test_an_over_long_input_fails_once_and_is_not_sent_again(lk_short_server) -> None:
    tts_ = supertonic.TTS(base_url=lk_short_server.base_url)
    errors = capture(tts_, "error")
    retries = APIConnectOptions(max_retry=3, retry_interval=0.01, timeout=20.0)
    try:
        with pytest.raises(APIStatusError) as info:
            await tts_.synthesize(
                "This sentence is far longer than forty characters.", conn_options=retries
            ).collect()
        assert info.value.status_code == 400 and not info.value.retryable
        assert "input_too_long" in str(info.value.body)
        assert [e.recoverable for e in errors()] == [False]  # one attempt, no retry
        assert (await tts_.synthesize("Short.", conn_options=retries).collect()).duration > 0
    finally:
        await tts_.aclose()


def test_exceptions_map_to_livekit_errors() -> None:
    assert isinstance(api_error_from_event(Error("bye", code="idle_timeout")), APIConnectionError)
    lost = api_error(SpeechClientError("connection to ws://h lost"))
    assert type(lost) is APIConnectionError and lost.retryable
    timeout = SpeechClientError("cannot open ws://h")
    timeout.__cause__ = TimeoutError()
    assert isinstance(api_error(timeout), APITimeoutError)
    assert isinstance(api_error(TimeoutError()), APITimeoutError)
    refused = api_error(SpeechClientError("refused: key sk-1", status=403), secret="sk-1")
    assert isinstance(refused, APIStatusError) and refused.status_code == 401
    assert "sk-1" not in repr(refused)
    voice = api_error(UnknownVoiceError("X", ["F1"]))
    assert isinstance(voice, APIStatusError) and voice.status_code == 400
    busy = api_error(CapacityError("full", retry_after=2.0))
    assert isinstance(busy, APIStatusError) and busy.status_code == 429 and busy.retryable
    missing = api_error(BundleNotFoundError("no bundle"))
    assert not missing.retryable
    other = api_error(RuntimeError("boom"))
    assert type(other) is APIConnectionError


async def test_failed_releases_do_not_use_up_the_in_process_session(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A context that cannot be ended cleanly retires its session instead of staying open
    in it: after more such failures than the session has contexts, streams still run."""
    tts_ = supertonic.TTS(engine=engine)
    tts_._backend._max_contexts = 2  # white box: a small session, so the test stays short
    try:
        monkeypatch.setattr(mux, "CLEANUP_TIMEOUT_S", 0.0)  # every cancel "times out"
        for _ in range(3):
            stream = tts_.stream(conn_options=NO_RETRY)
            stream.push_text(" ".join(["A sentence to interrupt."] * 10))
            stream.end_input()
            await asyncio.wait_for(anext(stream), 20)
            await stream.aclose()
        monkeypatch.undo()
        assert (await tts_.synthesize(TEXT, conn_options=NO_RETRY).collect()).duration > 0
    finally:
        await tts_.aclose()
