"""The synthesis loop, split into stages that run on batches of chunk jobs.

One chunk goes duration → text encoding → N flow-matching steps → vocoder → trim. Each
stage here takes any set of jobs, pads them into one ONNX call with masks and slices the
results back, so the scheduler can batch rows of different streams, lengths, voices and
speeds, and let rows join or leave between denoising steps. Every row's result equals its
solo result: noise comes from the row's own seed, and padding is masked.
"""

from __future__ import annotations

import enum
import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .voices import VoiceStyle

if TYPE_CHECKING:
    from .runtime import Runtime


class Stage(enum.Enum):
    PREPARE = "prepare"
    DENOISE = "denoise"
    VOCODE = "vocode"
    DONE = "done"


class CancelToken:
    """Shared by every chunk of one request; checked by the scheduler before each step."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(eq=False)
class ChunkJob:
    """One chunk of one request, carrying its own synthesis state between stages."""

    ids: np.ndarray  # int64 [T]
    style: VoiceStyle
    speed: float
    steps: int
    seed: int
    token: CancelToken = field(default_factory=CancelToken)
    # scheduling, filled by the scheduler and the stream that owns the job
    stream_id: int = 0
    index: int = 0
    seq: int = 0
    submitted: float = 0.0
    future: Future[np.ndarray] = field(default_factory=Future)
    # synthesis state
    stage: Stage = Stage.PREPARE
    step: int = 0
    duration: float = 0.0  # seconds of speech, after speed
    text_emb: np.ndarray | None = None  # [256, T]
    latent: np.ndarray | None = None  # [C, L]

    @property
    def frames(self) -> int:
        return 0 if self.latent is None else int(self.latent.shape[1])


def _pad_ids(jobs: list[ChunkJob]) -> tuple[np.ndarray, np.ndarray]:
    t_max = max(len(j.ids) for j in jobs)
    ids = np.zeros((len(jobs), t_max), dtype=np.int64)
    mask = np.zeros((len(jobs), 1, t_max), dtype=np.float32)
    for row, job in enumerate(jobs):
        ids[row, : len(job.ids)] = job.ids
        mask[row, 0, : len(job.ids)] = 1.0
    return ids, mask


def latent_frames(duration: float, sample_rate: int, frame: int) -> int:
    """Latent frames for ``duration`` seconds of speech, by the official rule.

    The official computes ``(duration * sample_rate + frame - 1) / frame`` in float32 and
    truncates, which is ``ceil(floor(samples) / frame)``: a length that passes a multiple
    of ``frame`` by less than one sample gets no extra frame (a float64 ``ceil`` of the
    exact quotient gave one, about one chunk in 3000). At least one frame.
    """
    samples = np.float32(duration) * np.float32(sample_rate)
    return max(1, int((samples + np.float32(frame - 1)) / np.float32(frame)))


def _speech_durations(
    rt: Runtime, jobs: list[ChunkJob], ids: np.ndarray, mask: np.ndarray
) -> list[float]:
    """Seconds of speech the duration predictor gives each job, after its speed."""
    dp = np.stack([j.style.dp for j in jobs])
    durations = rt.run("duration_predictor", {"text_ids": ids, "style_dp": dp, "text_mask": mask})
    predicted = np.asarray(durations, dtype=np.float32).reshape(-1)
    # float32 division, as the official
    return [float(predicted[row] / np.float32(job.speed)) for row, job in enumerate(jobs)]


def predict_audio_seconds(
    rt: Runtime, jobs: list[ChunkJob], *, sample_rate: int, frame: int
) -> list[float]:
    """Seconds of audio each job will make, from the duration predictor alone.

    Why: a caller can learn how long a reply will be (a cost preview, a caption layout)
    for the price of the smallest graph, without synthesizing. The vocoder keeps every
    sample of every latent frame, so this is exact for the chunk's speech.
    """
    ids, mask = _pad_ids(jobs)
    return [
        latent_frames(d, sample_rate, frame) * frame / sample_rate
        for d in _speech_durations(rt, jobs, ids, mask)
    ]


def prepare(rt: Runtime, jobs: list[ChunkJob], *, sample_rate: int, frame: int) -> None:
    """Duration prediction and text encoding; leaves each job holding its start noise."""
    ids, mask = _pad_ids(jobs)
    ttl = np.stack([j.style.ttl for j in jobs])
    durations = _speech_durations(rt, jobs, ids, mask)
    emb = rt.run("text_encoder", {"text_ids": ids, "style_ttl": ttl, "text_mask": mask})
    for row, job in enumerate(jobs):
        job.duration = durations[row]
        frames = latent_frames(job.duration, sample_rate, frame)
        job.text_emb = np.asarray(emb)[row, :, : len(job.ids)]
        rng = np.random.default_rng(job.seed)
        job.latent = rng.standard_normal((rt.latent_channels, frames), dtype=np.float32)
        job.stage = Stage.DENOISE if job.steps > 0 else Stage.VOCODE


def denoise(rt: Runtime, jobs: list[ChunkJob]) -> None:
    """One flow-matching step for each job, whatever step each one is at."""
    ids_len = [len(j.ids) for j in jobs]
    t_max, l_max = max(ids_len), max(j.frames for j in jobs)
    b = len(jobs)
    channels = jobs[0].latent.shape[0]  # type: ignore[union-attr]
    latent = np.zeros((b, channels, l_max), dtype=np.float32)
    emb = np.zeros((b, jobs[0].text_emb.shape[0], t_max), dtype=np.float32)  # type: ignore[union-attr]
    text_mask = np.zeros((b, 1, t_max), dtype=np.float32)
    latent_mask = np.zeros((b, 1, l_max), dtype=np.float32)
    for row, job in enumerate(jobs):
        latent[row, :, : job.frames] = job.latent
        emb[row, :, : ids_len[row]] = job.text_emb
        text_mask[row, 0, : ids_len[row]] = 1.0
        latent_mask[row, 0, : job.frames] = 1.0
    out = rt.run(
        "vector_estimator",
        {
            "noisy_latent": latent,
            "text_emb": emb,
            "style_ttl": np.stack([j.style.ttl for j in jobs]),
            "text_mask": text_mask,
            "latent_mask": latent_mask,
            "current_step": np.array([j.step for j in jobs], dtype=np.float32),
            "total_step": np.array([j.steps for j in jobs], dtype=np.float32),
        },
    )
    out = np.asarray(out)
    for row, job in enumerate(jobs):
        job.latent = out[row, :, : job.frames].copy()
        job.step += 1
        if job.step >= job.steps:
            job.stage = Stage.VOCODE


def vocode(rt: Runtime, jobs: list[ChunkJob]) -> list[np.ndarray]:
    """Latent to waveform: every sample of every frame, untrimmed, as the official.

    The speech is predicted to end within the last frame; what the vocoder makes past that
    point (0 to 70 ms) is the tail of the last sound or silence, and cutting it could only
    lose speech, so it is kept (the pause after the chunk follows it). The vocoder graph
    has no mask, so only rows of equal length may share a call; the scheduler groups them
    so.
    """
    assert len({j.frames for j in jobs}) == 1, "vocoder rows must have equal length"
    wav = np.asarray(rt.run("vocoder", {"latent": np.stack([j.latent for j in jobs])}))
    results = []
    for row, job in enumerate(jobs):
        results.append(wav[row].astype(np.float32, copy=True))
        job.stage = Stage.DONE
        job.latent = job.text_emb = None  # free the state as soon as it is spent
    return results
