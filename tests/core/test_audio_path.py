"""The one audio path: resampling state across chunks, encoders, and where the work runs."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import soxr
from supertonic_core.audio_path import (
    AudioPath,
    Encoder,
    Float32Encoder,
    G711Encoder,
    Pcm16Encoder,
    raw_encoder,
)


class Recording(Encoder):
    """Records the thread each call ran on."""

    format = "test"

    def __init__(self, sample_rate: int, *, costly: bool) -> None:
        super().__init__(sample_rate)
        self.costly = costly  # type: ignore[misc]
        self.threads: list[threading.Thread] = []

    def _encode(self, samples: np.ndarray) -> bytes:
        self.threads.append(threading.current_thread())
        return samples.astype("<f4").tobytes()


def tone(n: int, rate: int = 44100) -> np.ndarray:
    return (0.3 * np.sin(2 * np.pi * 220 * np.arange(n) / rate)).astype(np.float32)


async def test_chunks_resampled_on_the_path_equal_the_whole_resampled_at_once() -> None:
    """No click at joins: the resampler's state carries from chunk to chunk."""
    audio = tone(44100)
    path = AudioPath(44100, Float32Encoder(24000))
    out = b"".join([await path.push(part) for part in np.array_split(audio, 7)])
    out += await path.finish()
    whole = soxr.resample(audio, 44100, 24000, "HQ")
    got = np.frombuffer(out, "<f4")
    assert len(got) == len(whole) and path.samples_out == len(got)
    assert np.abs(got - whole).max() < 1e-5


@pytest.mark.parametrize(
    ("costly", "rate", "off_loop"),
    [(True, 44100, True), (False, 24000, True), (False, 44100, False)],
)
async def test_work_that_costs_runs_off_the_event_loop(
    costly: bool, rate: int, off_loop: bool
) -> None:
    """A codec or a resampler would hold up every socket on the loop; raw samples at the
    model's rate cost microseconds and stay on it."""
    encoder = Recording(rate, costly=costly)
    path = AudioPath(44100, encoder)
    await path.push(tone(4410))
    await path.finish()
    main = threading.current_thread()
    assert all((t is not main) == off_loop for t in encoder.threads) and encoder.threads


def test_raw_encoders_by_session_encoding() -> None:
    assert isinstance(raw_encoder("pcm_s16le", 8000), Pcm16Encoder)
    assert isinstance(raw_encoder("pcm_f32le", 8000), Float32Encoder)
    law = raw_encoder("alaw", 8000)
    assert isinstance(law, G711Encoder) and law.format == "alaw"
    samples = np.array([0.0, 0.5, -0.5], dtype=np.float32)
    assert np.frombuffer(Pcm16Encoder(8000).encode(samples), "<i2").tolist() == [0, 16383, -16383]
    assert len(law.encode(samples)) == 3
