"""Live servers for the server tests: real uvicorn on 127.0.0.1, a random free port, in a thread
(:class:`supertonic_server.testing.LiveServer`).

Each serves the session's tiny synthetic bundle (``tiny_bundle_dir`` from the root conftest).
Waits are bounded polls, never sleeps of a guessed length.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from supertonic_server import Settings
from supertonic_server.metrics import Metrics
from supertonic_server.testing import LiveServer, submitted_steps, wait_for

# re-exported: the server tests import them from here
__all__ = ["LiveServer", "submitted_steps", "wait_for"]


@pytest.fixture(scope="session")
def base_settings(tiny_bundle_dir: Path) -> Settings:
    return Settings(model_dir=str(tiny_bundle_dir), shutdown_grace=2.0)


@pytest.fixture(scope="session")
def live(base_settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(base_settings).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def busy(base_settings: Settings) -> Iterator[LiveServer]:
    """One stream at a time and no queue: the second concurrent request gets 429."""
    server = LiveServer(
        base_settings.model_copy(
            update={"max_concurrent": 1, "max_queue": 0, "total_steps": 32, "warmup": False}
        )
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tuned(base_settings: Settings) -> Iterator[LiveServer]:
    """A server started with a phrase cache and a fast start by default, as
    ``--phrase-cache 32 --first-chunk-steps 2`` would."""
    settings = base_settings.model_copy(
        update={"phrase_cache": 32, "first_chunk_steps": 2, "warmup": False}
    )
    server = LiveServer(settings).start()
    yield server
    server.stop()


@pytest.fixture()
def client(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.base_url, timeout=60) as c:
        yield c


# --------------------------------------------------------------------------- metrics recorder


@dataclass
class RecordedRequest:
    meta: dict[str, Any]
    first_byte: int = 0
    bytes: int = 0
    audio_s: float = 0.0
    finished: list[tuple[str, str | None]] = field(default_factory=list)


class RecordingTracker:
    def __init__(self, record: RecordedRequest) -> None:
        self.record = record

    def first_byte(self) -> None:
        self.record.first_byte += 1

    def add(self, *, bytes_: int, audio_s: float) -> None:
        self.record.bytes += bytes_
        self.record.audio_s += audio_s

    def finish(self, *, status: str, error: str | None = None) -> None:
        self.record.finished.append((status, error))


class RecordingMetrics:
    """A stand-in for the observability module, through the same interface."""

    def __init__(self) -> None:
        self.records: list[RecordedRequest] = []

    def start(self, **meta: Any) -> RecordingTracker:
        record = RecordedRequest(meta)
        self.records.append(record)
        return RecordingTracker(record)


@pytest.fixture()
def recorder(live: LiveServer) -> Iterator[RecordingMetrics]:
    previous = live.app.state.metrics
    live.app.state.metrics = rec = RecordingMetrics()
    yield rec
    live.app.state.metrics = previous


# --------------------------------------------------------------------------- decoding


def decode(fmt: str, data: bytes, *, pcm_rate: int = 24000) -> tuple[np.ndarray, int]:
    """Audio bytes of any response format → (float32 mono samples, sample rate)."""
    if fmt == "pcm":
        return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0, pcm_rate
    if fmt == "wav":
        with wave.open(io.BytesIO(data)) as w:
            assert w.getnchannels() == 1 and w.getsampwidth() == 2
            frames = w.readframes(w.getnframes())
            return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0, w.getframerate()
    with av.open(io.BytesIO(data)) as container:
        stream = container.streams.audio[0]
        rate = stream.rate
        parts = [_as_float(f.to_ndarray().reshape(-1)) for f in container.decode(stream)]
    samples = np.concatenate(parts) if parts else np.zeros(0, np.float32)
    return samples, rate


def _as_float(samples: np.ndarray) -> np.ndarray:
    if samples.dtype == np.int16:
        return samples.astype(np.float32) / 32768.0
    if samples.dtype == np.int32:
        return samples.astype(np.float32) / 2147483648.0
    return samples.astype(np.float32)


# --------------------------------------------------------------------------- observability


@contextmanager
def fresh_metrics(server: LiveServer, *, buffer_size: int = 100) -> Iterator[Metrics]:
    """A new, empty :class:`Metrics` on ``server`` for the block (the session servers are shared,
    so counts start from zero here whatever ran before); the previous one is put back after."""
    previous = server.app.state.metrics
    server.app.state.metrics = metrics = Metrics(
        buffer_size=buffer_size, engine=lambda: server.app.state.engine
    )
    try:
        yield metrics
    finally:
        server.app.state.metrics = previous


API_KEY = "sk-test-console-0123456789"


@pytest.fixture(scope="session")
def keyed(base_settings: Settings) -> Iterator[LiveServer]:
    """A server that asks for ``API_KEY`` on the ``/v1/`` routes (and ``/metrics/recent``)."""
    server = LiveServer(
        base_settings.model_copy(update={"api_keys": (API_KEY,), "warmup": False})
    ).start()
    yield server
    server.stop()
