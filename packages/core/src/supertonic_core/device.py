"""The device path: a denoising batch's state kept on the device between steps.

Why: on a GPU the host path pads numpy arrays, uploads the latent, the text embedding and
the style at every denoising step and copies the result back, for a graph call that
itself takes a few milliseconds. With ONNX Runtime's IO binding a batch's inputs are
uploaded once, when the batch forms; each step then writes its latent into a second
buffer on the device and the two buffers swap, and only the step number (one float a row)
is written per step. The vocoder reads the last latent where it lies and writes its audio
to the host: one copy.

The scheduler may form a new batch at any step (a row joins or leaves); a row's state
then comes back to the host once (:meth:`BoundBatch.release`) and the new batch uploads
it. With buckets on (:mod:`.shapes`) buffers are kept per shape and reused by the next
batch of that shape, so their addresses stay fixed, which a recorded CUDA graph needs
(``RuntimeOptions.cuda_graph``: each buffer pair's two directions get a graph id). On the
CPU provider, "the device" is host memory and the numbers are the host path's, bit for
bit.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import onnxruntime as ort

if TYPE_CHECKING:
    from .runtime import Runtime
    from .synthesis import Row

_GRAPH = "vector_estimator"


@dataclass(eq=False)
class _Buffers:
    """One shape's inputs and its two latent buffers on the device, with the two bindings
    (step from buffer 0 into 1, and back); ``owner`` is the batch using them now."""

    inputs: dict[str, ort.OrtValue]
    latents: tuple[ort.OrtValue, ort.OrtValue]
    bindings: tuple[ort.IOBinding, ort.IOBinding]
    run_options: tuple[ort.RunOptions | None, ort.RunOptions | None]
    owner: BoundBatch | None = None


@dataclass(eq=False)
class BufferPool:
    """A runtime's device buffers, kept per shape when shapes are bucketed (so few)."""

    by_shape: dict[tuple[tuple[int, ...], ...], _Buffers] = field(default_factory=dict)
    graph_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def _buffers(rt: Runtime, feeds: dict[str, np.ndarray]) -> _Buffers:
    """Device buffers for ``feeds``' shapes: the pooled ones when shapes are bucketed (their
    current owner gives its rows back first), else new ones, freed with their batch."""
    key = tuple(feeds[name].shape for name in sorted(feeds))
    pool = rt.buffers if rt.buckets.batch else None
    if pool is not None and (kept := pool.by_shape.get(key)) is not None:
        if kept.owner is not None:
            kept.owner.release()
        for name, array in feeds.items():
            target = kept.latents[0] if name == "noisy_latent" else kept.inputs[name]
            target.update_inplace(np.ascontiguousarray(array))
        return kept
    session = rt.sessions[_GRAPH]
    out = session.get_outputs()[0].name
    device, device_id = rt.ort_device
    inputs = {
        name: ort.OrtValue.ortvalue_from_numpy(np.ascontiguousarray(a), device, device_id)
        for name, a in feeds.items()
        if name != "noisy_latent"
    }
    latents = (
        ort.OrtValue.ortvalue_from_numpy(feeds["noisy_latent"], device, device_id),
        ort.OrtValue.ortvalue_from_shape_and_type(
            feeds["noisy_latent"].shape, np.float32, device, device_id
        ),
    )
    bindings = (session.io_binding(), session.io_binding())
    run_options: list[ort.RunOptions | None] = []
    for parity, binding in enumerate(bindings):
        for name, value in inputs.items():
            binding.bind_ortvalue_input(name, value)
        binding.bind_ortvalue_input("noisy_latent", latents[parity])
        binding.bind_ortvalue_output(out, latents[1 - parity])
        options = None
        if rt.options.cuda_graph and pool is not None:
            options = ort.RunOptions()
            options.add_run_config_entry("gpu_graph_id", str(next(pool.graph_ids)))
        run_options.append(options)
    buffers = _Buffers(inputs, latents, bindings, (run_options[0], run_options[1]))
    if pool is not None:
        pool.by_shape[key] = buffers
    return buffers


class BoundBatch:
    """The rows of one denoising batch, their latents on the device.

    Args:
        rt: the runtime whose vector estimator runs the steps.
        rows: the batch's real rows, in the order of ``feeds``' first axis.
        feeds: the vector estimator's inputs for the first step (padded, bucketed); any
            rows past ``rows`` are padding.
    """

    def __init__(self, rt: Runtime, rows: Sequence[Row], feeds: dict[str, np.ndarray]) -> None:
        self.rt = rt
        self.rows = tuple(rows)
        self._buffers = _buffers(rt, feeds)
        self._buffers.owner = self
        self._parity = 0  # which latent buffer holds the current latent
        self._stepped = False
        for row in rows:
            row.bound = self

    def step(self, current_step: np.ndarray) -> None:
        """One denoising step of every row; ``current_step`` has one value per padded row."""
        b = self._buffers
        b.inputs["current_step"].update_inplace(current_step)
        self.rt.sessions[_GRAPH].run_with_iobinding(
            b.bindings[self._parity], b.run_options[self._parity]
        )
        self._parity ^= 1
        self._stepped = True

    @property
    def latent(self) -> ort.OrtValue:
        """The current latent of every (padded) row, on the device."""
        return self._buffers.latents[self._parity]

    def release(self, *, keep: bool = True) -> None:
        """Unbind the rows, bringing their latents back to the host (``row.latent``) unless
        ``keep`` is false (rows that are done)."""
        if keep and self._stepped:
            latent = self._buffers.bindings[self._parity ^ 1].copy_outputs_to_cpu()[0]
            for i, row in enumerate(self.rows):
                row.latent = latent[i, :, : row.frames].copy()
        for row in self.rows:
            if row.bound is self:
                row.bound = None
        if self._buffers.owner is self:
            self._buffers.owner = None


def vocode_bound(rt: Runtime, batch: BoundBatch) -> np.ndarray:
    """The vocoder on the batch's current latent where it lies; the audio of every padded
    row comes to the host (the one copy)."""
    session = rt.sessions["vocoder"]
    binding = session.io_binding()
    binding.bind_ortvalue_input(session.get_inputs()[0].name, batch.latent)
    binding.bind_output(session.get_outputs()[0].name, "cpu")
    session.run_with_iobinding(binding)
    return binding.copy_outputs_to_cpu()[0]
