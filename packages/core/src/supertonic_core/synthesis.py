"""The synthesis loop, split into stages that run on batches of rows.

One chunk goes duration → text encoding → N flow-matching steps → vocoder. Each stage here
takes any set of rows, pads them into one ONNX call with masks and slices the results
back, so the scheduler can batch rows of different streams, lengths, voices and speeds,
and let rows join or leave between denoising steps. Every row's result equals its solo
result: noise comes from the row's own seed, and padding is masked.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .chunk_request import ChunkRequest
    from .runtime import Runtime


class Stage(enum.Enum):
    PREPARE = "prepare"
    DENOISE = "denoise"
    VOCODE = "vocode"
    DONE = "done"


@dataclass(eq=False)
class Row:
    """One chunk's synthesis state between stages; only the scheduler's worker writes it."""

    request: ChunkRequest
    stage: Stage = Stage.PREPARE
    step: int = 0
    duration: float = 0.0  # seconds of speech, after speed
    text_emb: np.ndarray | None = None  # [256, T]
    latent: np.ndarray | None = None  # [C, L]

    @property
    def frames(self) -> int:
        return 0 if self.latent is None else int(self.latent.shape[1])


def _pad_ids(requests: Sequence[ChunkRequest]) -> tuple[np.ndarray, np.ndarray]:
    t_max = max(len(r.ids) for r in requests)
    ids = np.zeros((len(requests), t_max), dtype=np.int64)
    mask = np.zeros((len(requests), 1, t_max), dtype=np.float32)
    for row, request in enumerate(requests):
        ids[row, : len(request.ids)] = request.ids
        mask[row, 0, : len(request.ids)] = 1.0
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
    rt: Runtime, requests: Sequence[ChunkRequest], ids: np.ndarray, mask: np.ndarray
) -> list[float]:
    """Seconds of speech the duration predictor gives each request, after its speed."""
    dp = np.stack([r.style.dp for r in requests])
    durations = rt.run("duration_predictor", {"text_ids": ids, "style_dp": dp, "text_mask": mask})
    predicted = np.asarray(durations, dtype=np.float32).reshape(-1)
    # float32 division, as the official
    return [float(predicted[row] / np.float32(r.speed)) for row, r in enumerate(requests)]


def predict_audio_seconds(
    rt: Runtime, requests: Sequence[ChunkRequest], *, sample_rate: int, frame: int
) -> list[float]:
    """Seconds of audio each request will make, from the duration predictor alone.

    Why: a caller can learn how long a reply will be (a cost preview, a caption layout)
    for the price of the smallest graph, without synthesizing. The vocoder keeps every
    sample of every latent frame, so this is exact for the chunk's speech.
    """
    ids, mask = _pad_ids(requests)
    return [
        latent_frames(d, sample_rate, frame) * frame / sample_rate
        for d in _speech_durations(rt, requests, ids, mask)
    ]


def prepare(rt: Runtime, rows: Sequence[Row], *, sample_rate: int, frame: int) -> None:
    """Duration prediction and text encoding; leaves each row holding its start noise."""
    requests = [r.request for r in rows]
    ids, mask = _pad_ids(requests)
    ttl = np.stack([r.style.ttl for r in requests])
    durations = _speech_durations(rt, requests, ids, mask)
    emb = rt.run("text_encoder", {"text_ids": ids, "style_ttl": ttl, "text_mask": mask})
    for i, (row, request) in enumerate(zip(rows, requests, strict=True)):
        row.duration = durations[i]
        frames = latent_frames(row.duration, sample_rate, frame)
        row.text_emb = np.asarray(emb)[i, :, : len(request.ids)]
        rng = np.random.default_rng(request.seed)
        row.latent = rng.standard_normal((rt.latent_channels, frames), dtype=np.float32)
        row.stage = Stage.DENOISE if request.steps > 0 else Stage.VOCODE


def denoise(rt: Runtime, rows: Sequence[Row]) -> None:
    """One flow-matching step for each row, whatever step each one is at."""
    ids_len = [len(r.request.ids) for r in rows]
    t_max, l_max = max(ids_len), max(r.frames for r in rows)
    b = len(rows)
    channels = rows[0].latent.shape[0]  # type: ignore[union-attr]
    latent = np.zeros((b, channels, l_max), dtype=np.float32)
    emb = np.zeros((b, rows[0].text_emb.shape[0], t_max), dtype=np.float32)  # type: ignore[union-attr]
    text_mask = np.zeros((b, 1, t_max), dtype=np.float32)
    latent_mask = np.zeros((b, 1, l_max), dtype=np.float32)
    for i, row in enumerate(rows):
        latent[i, :, : row.frames] = row.latent
        emb[i, :, : ids_len[i]] = row.text_emb
        text_mask[i, 0, : ids_len[i]] = 1.0
        latent_mask[i, 0, : row.frames] = 1.0
    out = rt.run(
        "vector_estimator",
        {
            "noisy_latent": latent,
            "text_emb": emb,
            "style_ttl": np.stack([r.request.style.ttl for r in rows]),
            "text_mask": text_mask,
            "latent_mask": latent_mask,
            "current_step": np.array([r.step for r in rows], dtype=np.float32),
            "total_step": np.array([r.request.steps for r in rows], dtype=np.float32),
        },
    )
    out = np.asarray(out)
    for i, row in enumerate(rows):
        row.latent = out[i, :, : row.frames].copy()
        row.step += 1
        if row.step >= row.request.steps:
            row.stage = Stage.VOCODE


def vocode(rt: Runtime, rows: Sequence[Row]) -> list[np.ndarray]:
    """Latent to waveform: every sample of every frame, untrimmed, as the official.

    The speech is predicted to end within the last frame; what the vocoder makes past that
    point (0 to 70 ms) is the tail of the last sound or silence, and cutting it could only
    lose speech, so it is kept (the pause after the chunk follows it). The vocoder graph
    has no mask, so only rows of equal length may share a call; the scheduler groups them
    so.
    """
    assert len({r.frames for r in rows}) == 1, "vocoder rows must have equal length"
    wav = np.asarray(rt.run("vocoder", {"latent": np.stack([r.latent for r in rows])}))
    results = []
    for i, row in enumerate(rows):
        results.append(wav[i].astype(np.float32, copy=True))
        row.stage = Stage.DONE
        row.latent = row.text_emb = None  # free the state as soon as it is spent
    return results
