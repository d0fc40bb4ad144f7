"""The synthesis loop, split into stages that run on batches of rows.

One chunk goes duration → text encoding → N flow-matching steps → vocoder. Each stage here
takes any set of rows, pads them into one ONNX call with masks and slices the results
back, so the scheduler can batch rows of different streams, lengths, voices and speeds,
and let rows join or leave between denoising steps. Every row's result equals its solo
result: noise comes from the row's own seed, padding is masked, and the vocoder (which has
no mask) gets a second, exact pass over the ends that padding reached.

Shapes are rounded up to the runtime's buckets (:mod:`.shapes`; exact shapes unless on),
and with IO binding the denoising state stays on the device between steps
(:mod:`.device`).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .chunk_request import ChunkRequest
from .device import BoundBatch

if TYPE_CHECKING:
    from .runtime import Runtime
    from .shapes import Buckets
    from .voices import VoiceStyle


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
    frames: int = 0  # latent frames, once prepared
    text_emb: np.ndarray | None = None  # [256, T]
    latent: np.ndarray | None = None  # [C, L]; stale while ``bound`` holds it on the device
    bound: BoundBatch | None = None


def _pad_ids(requests: Sequence[ChunkRequest], buckets: Buckets) -> tuple[np.ndarray, np.ndarray]:
    """Ids and text mask of ``requests``, padded to the buckets (rows past the requests
    repeat the last one)."""
    requests = buckets.fill(requests)
    t_max = buckets.text_len(max(len(r.ids) for r in requests))
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
    dp = np.stack([r.style.dp for r in rt.buckets.fill(requests)])
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
    ids, mask = _pad_ids(requests, rt.buckets)
    return [
        latent_frames(d, sample_rate, frame) * frame / sample_rate
        for d in _speech_durations(rt, requests, ids, mask)
    ]


def prepare(rt: Runtime, rows: Sequence[Row], *, sample_rate: int, frame: int) -> None:
    """Duration prediction and text encoding; leaves each row holding its start noise."""
    requests = [r.request for r in rows]
    ids, mask = _pad_ids(requests, rt.buckets)
    ttl = np.stack([r.style.ttl for r in rt.buckets.fill(requests)])
    durations = _speech_durations(rt, requests, ids, mask)
    emb = rt.run("text_encoder", {"text_ids": ids, "style_ttl": ttl, "text_mask": mask})
    for i, (row, request) in enumerate(zip(rows, requests, strict=True)):
        row.duration = durations[i]
        row.frames = latent_frames(row.duration, sample_rate, frame)
        row.text_emb = np.asarray(emb)[i, :, : len(request.ids)]
        rng = np.random.default_rng(request.seed)
        row.latent = rng.standard_normal((rt.latent_channels, row.frames), dtype=np.float32)
        row.stage = Stage.DENOISE if request.steps > 0 else Stage.VOCODE


def _denoise_feeds(rt: Runtime, rows: Sequence[Row]) -> dict[str, np.ndarray]:
    """The vector estimator's inputs for ``rows``, padded to the buckets, from their host
    state."""
    padded = rt.buckets.fill(rows)
    t_max = rt.buckets.text_len(max(len(r.request.ids) for r in padded))
    l_max = rt.buckets.latent_len(max(r.frames for r in padded))
    b = len(padded)
    latent = np.zeros((b, rt.latent_channels, l_max), dtype=np.float32)
    emb = np.zeros((b, rows[0].text_emb.shape[0], t_max), dtype=np.float32)  # type: ignore[union-attr]
    text_mask = np.zeros((b, 1, t_max), dtype=np.float32)
    latent_mask = np.zeros((b, 1, l_max), dtype=np.float32)
    for i, row in enumerate(padded):
        ids = len(row.request.ids)
        latent[i, :, : row.frames] = row.latent
        emb[i, :, :ids] = row.text_emb
        text_mask[i, 0, :ids] = 1.0
        latent_mask[i, 0, : row.frames] = 1.0
    return {
        "noisy_latent": latent,
        "text_emb": emb,
        "style_ttl": np.stack([r.request.style.ttl for r in padded]),
        "text_mask": text_mask,
        "latent_mask": latent_mask,
        "current_step": _current_steps(rt, rows),
        "total_step": np.array([r.request.steps for r in padded], dtype=np.float32),
    }


def _current_steps(rt: Runtime, rows: Sequence[Row]) -> np.ndarray:
    return np.array([r.step for r in rt.buckets.fill(rows)], dtype=np.float32)


def _to_host(rows: Sequence[Row]) -> None:
    """Bring the rows held on the device back to the host (with their batch-mates)."""
    for batch in {id(r.bound): r.bound for r in rows if r.bound is not None}.values():
        batch.release()


def denoise(rt: Runtime, rows: Sequence[Row]) -> None:
    """One flow-matching step for each row, whatever step each one is at.

    With IO binding, a batch that runs its next step with the same rows finds its state
    on the device and uploads only the step numbers; a batch that changed brings its rows
    back to the host once and forms anew.
    """
    if rt.io_binding:
        batch = rows[0].bound
        if batch is None or batch.rows != tuple(rows):
            _to_host(rows)
            batch = BoundBatch(rt.device_path, rows, _denoise_feeds(rt, rows))
        batch.step(_current_steps(rt, rows))
    else:
        out = np.asarray(rt.run("vector_estimator", _denoise_feeds(rt, rows)))
        for i, row in enumerate(rows):
            row.latent = out[i, :, : row.frames].copy()
    for row in rows:
        row.step += 1
        if row.step >= row.request.steps:
            row.stage = Stage.VOCODE


def vocode(rt: Runtime, rows: Sequence[Row]) -> list[np.ndarray]:
    """Latent to waveform: every sample of every frame, untrimmed, as the official.

    The speech is predicted to end within the last frame; what the vocoder makes past that
    point (0 to 70 ms) is the tail of the last sound or silence, and cutting it could only
    lose speech, so it is kept (the pause after the chunk follows it).

    Rows of any lengths share one call: the vocoder has no mask, so a row padded past its
    end (to a longer row's length, or to a bucket) gets other audio in its last
    :attr:`.Runtime.vocoder_context` frames, and those are made again exactly: each such
    row's last ``2 * context`` frames, a window of one length for all rows, in one more
    call, of which the last ``context`` frames are kept (the window's first half is their
    left context). A row shorter than the window runs alone at its own length. Audio is
    then within float rounding of each row's solo call. A vocoder that is not
    length-local (``vocoder_context`` None) gets rows of equal length only.
    """
    length = rt.buckets.latent_len(max(r.frames for r in rows))
    short = [r.frames < length for r in rows]  # padded: their ends need the exact pass
    context = rt.vocoder_context if any(short) else 0
    batch = rows[0].bound
    if batch is not None and batch.rows == tuple(rows) and context is not None:
        audio = rt.device_path.vocode(batch)
        batch.release(keep=any(short))  # the exact pass below reads the latents
    else:
        _to_host(rows)
        audio = _vocoder(rt, [r.latent for r in rows], length)  # type: ignore[misc]
    per_frame = audio.shape[1] // length
    wavs = [audio[i, : r.frames * per_frame] for i, r in enumerate(rows)]
    window = 2 * (context or 0)
    redo = [i for i, r in enumerate(rows) if short[i] and context != 0]
    tails = [i for i in redo if context is not None and rows[i].frames >= window]
    if tails:
        ends = [rows[i].latent[:, -window:] for i in tails]  # type: ignore[index]
        tail_audio = _vocoder(rt, ends, window)
        kept = window // 2 * per_frame
        for j, i in enumerate(tails):
            wavs[i] = np.concatenate([wavs[i][:-kept], tail_audio[j, kept:]])
    for i, row in enumerate(rows):
        if i in redo and i not in tails:  # shorter than the window: alone, exact
            wavs[i] = _vocoder(rt, [row.latent], row.frames)[0]  # type: ignore[list-item]
        row.stage = Stage.DONE
        row.latent = row.text_emb = None  # free the state as soon as it is spent
    return [w.astype(np.float32, copy=True) for w in wavs]


def _vocoder(rt: Runtime, latents: Sequence[np.ndarray], length: int) -> np.ndarray:
    """The vocoder's audio for ``latents``, zero-padded to ``length`` frames, in a batch of
    the bucketed size (padded rows repeat the last)."""
    padded = rt.buckets.fill(latents)
    batch = np.zeros((len(padded), rt.latent_channels, length), dtype=np.float32)
    for i, latent in enumerate(padded):
        batch[i, :, : latent.shape[1]] = latent
    return np.asarray(rt.run("vocoder", {"latent": batch}))


def warm_up_buckets(
    rt: Runtime, style: VoiceStyle, *, max_batch: int, sample_rate: int, frame: int
) -> int:
    """Run every stage at every bucket shape up to ``max_batch`` rows, through the serving
    code path; returns the number of the vector estimator's shapes visited.

    Why: with buckets a call's shape is one of a few, and each one's first call pays the
    device's set-up (cuDNN's algorithm choice, arena growth, a CUDA graph's capture); paid
    here, a stream never meets it. The vector estimator runs twice per shape, once in each
    direction between its two latent buffers (each its own CUDA graph). The vocoder also
    visits the window of its exact pass over padded ends, and each length shorter than
    the window (one row at a time, at its own length).
    """
    edges = rt.buckets
    sizes = [b for b in edges.batch if b <= edges.batch_size(max_batch)]
    context = rt.vocoder_context or 0
    for size in sizes:
        for t in edges.text:
            request = ChunkRequest(np.ones(t, dtype=np.int64), style, 1.0, 2, seed=0)
            rows = [Row(request) for _ in range(size)]
            prepare(rt, rows, sample_rate=sample_rate, frame=frame)
            emb = rows[0].text_emb
            for length in edges.latent:
                _reset(rt, rows, length, emb)
                for _ in range(request.steps):
                    denoise(rt, rows)
                if t == edges.text[-1]:  # the vocoder does not see the text
                    vocode(rt, rows)
        vocode(rt, _reset(rt, rows, edges.latent[-1] - 1))  # padded ends: the exact pass
    for length in range(1, 2 * context):  # shorter than the exact pass's window
        vocode(rt, _reset(rt, [Row(request)], length))
    return len(sizes) * len(edges.text) * len(edges.latent)


def _reset(
    rt: Runtime, rows: list[Row], frames: int, text_emb: np.ndarray | None = None
) -> list[Row]:
    """``rows`` made ready to denoise a latent of ``frames`` frames (zeros) from step 0,
    or to vocode it."""
    for row in rows:
        row.frames, row.step, row.bound, row.stage = frames, 0, None, Stage.DENOISE
        row.text_emb = text_emb
        row.latent = np.zeros((rt.latent_channels, frames), dtype=np.float32)
    return rows
